//! The fast reconciliation at open: stat only the directories, compare them with their
//! recorded stamps, and list (stat'ing each file) only those that are new, changed, or whose
//! recorded stamp was racy. Creating, deleting or renaming a rollout file changes its
//! directory's mtime, so this sees every thread added or removed behind our back. In-place
//! appends leave directory mtimes alone; the background pass (`background.rs`) catches them.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::Connection;

use crate::error::StoreError;
use crate::reconcile::{apply_changed, forget_dir_stamps, sync_session_names};
use crate::types::ReconcileStats;
use crate::walk::{self, DirStamp, DiskFile};
use crate::{dir_index, index, index_paths};

/// Reconciles using directory stamps; `None` when the tree was never fully recorded (an
/// older or fresh index), in which case the caller runs the full reconciliation.
pub(crate) fn reconcile_incremental(
    conn: &mut Connection,
    home: &Path,
) -> Result<Option<ReconcileStats>, StoreError> {
    if !dir_index::is_complete(conn)? {
        return Ok(None);
    }
    let records = dir_index::load(conn)?;
    let tx = conn.transaction()?;
    let mut pass = Pass {
        conn: &tx,
        home,
        children: children_of(&records),
        records,
        stats: ReconcileStats::default(),
        changed: Vec::new(),
    };
    for (root, depth) in walk::ROOTS {
        pass.visit(root, depth)?;
    }
    let Pass {
        mut stats, changed, ..
    } = pass;
    let changed: Vec<&DiskFile> = changed.iter().collect();
    let unread = apply_changed(&tx, home, &changed, &mut stats)?;
    forget_dir_stamps(&tx, &unread)?;
    sync_session_names(&tx, home)?;
    stats.files_seen = index_paths::count(&tx)? + stats.skipped;
    tx.commit()?;
    Ok(Some(stats))
}

/// Recorded directory -> its recorded direct sub-directories.
fn children_of(records: &HashMap<String, DirStamp>) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for rel in records.keys() {
        if let Some((parent, _)) = rel.rsplit_once('/') {
            out.entry(parent.to_string()).or_default().push(rel.clone());
        }
    }
    out
}

struct Pass<'a> {
    conn: &'a Connection,
    home: &'a Path,
    records: HashMap<String, DirStamp>,
    children: HashMap<String, Vec<String>>,
    stats: ReconcileStats,
    /// Files to re-read: new, or size/mtime differ from their row.
    changed: Vec<DiskFile>,
}

impl Pass<'_> {
    fn visit(&mut self, rel: &str, depth_left: u32) -> Result<(), StoreError> {
        self.stats.dirs_checked += 1;
        let stamp = match walk::stamp(self.home, rel) {
            Ok(Some(stamp)) => stamp,
            Ok(None) => return self.forget(rel),
            Err(e) => {
                // Unknown is not absent: keep its rows and record for the next attempt.
                tracing::warn!(dir = %self.home.join(rel).display(), error = %e, "cannot stat directory");
                return Ok(());
            }
        };
        let unchanged = self
            .records
            .get(rel)
            .is_some_and(|r| r.trusted() && r.same_state(&stamp));
        if !unchanged {
            return self.rescan(rel, depth_left, stamp);
        }
        // An unchanged directory has the sub-directories it had when recorded.
        if depth_left > 0 {
            for child in self.children.get(rel).cloned().unwrap_or_default() {
                self.visit(&child, depth_left - 1)?;
            }
        }
        Ok(())
    }

    fn rescan(&mut self, rel: &str, depth_left: u32, stamp: DirStamp) -> Result<(), StoreError> {
        self.stats.dirs_rescanned += 1;
        let listing = match walk::list(self.home, rel, depth_left > 0, true) {
            Ok(Some(listing)) => listing,
            Ok(None) => return self.forget(rel),
            Err(e) => {
                tracing::warn!(dir = %self.home.join(rel).display(), error = %e, "cannot read directory");
                return dir_index::put(self.conn, rel, &DirStamp::UNKNOWN);
            }
        };
        self.stats.files_statted += listing.files.len();
        let known = index_paths::rows_in_dir(self.conn, rel)?;
        let on_disk: HashSet<&str> = listing.files.iter().map(|f| f.rel.as_str()).collect();
        for gone in known.keys().filter(|k| !on_disk.contains(k.as_str())) {
            self.stats.removed += index::delete_path(self.conn, gone)?;
        }
        for file in &listing.files {
            if known.get(&file.rel) != Some(&(file.size, file.mtime_ns)) {
                self.changed.push(file.clone());
            }
        }
        let subdirs: HashSet<&str> = listing.subdirs.iter().map(String::as_str).collect();
        for child in self.children.get(rel).cloned().unwrap_or_default() {
            if !subdirs.contains(child.as_str()) {
                self.forget(&child)?;
            }
        }
        for sub in &listing.subdirs {
            self.visit(sub, depth_left.saturating_sub(1))?;
        }
        dir_index::put(self.conn, rel, &stamp)
    }

    /// The directory is gone: so are its threads and records.
    fn forget(&mut self, rel: &str) -> Result<(), StoreError> {
        self.stats.removed += index_paths::delete_under(self.conn, rel)?;
        dir_index::delete_tree(self.conn, rel)
    }
}
