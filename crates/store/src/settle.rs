//! Settling directory stamps: a directory whose recorded stamp cannot prove it unchanged
//! (looked at within the racy window of its mtime, or changed by this process since) is
//! re-listed, names only, once its current stamp is trusted; when the names match the index
//! rows exactly, the new stamp is recorded so the next open can skip the directory.
//! Run at open for stamps that are ready (e.g. after a long cold build) and by the
//! background thread for the rest.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::Connection;

use crate::error::StoreError;
use crate::handles::lock;
use crate::walk::{self, DirStamp};
use crate::{dir_index, index_paths};

/// Recorded directories that exist and whose records do not prove them unchanged, with
/// their current stamps. Empty when the tree was never fully recorded.
pub(crate) fn pending(
    home: &Path,
    db: &Mutex<Connection>,
) -> Result<Vec<(String, DirStamp)>, StoreError> {
    let records = {
        let db = lock(db);
        if !dir_index::is_complete(&db)? {
            return Ok(Vec::new());
        }
        dir_index::load(&db)?
    };
    let mut out = Vec::new();
    for (rel, recorded) in records {
        if let Ok(Some(now)) = walk::stamp(home, &rel) {
            if !(recorded.trusted() && recorded.same_state(&now)) {
                out.push((rel, now));
            }
        }
    }
    Ok(out)
}

/// Settles every pending directory whose stamp can already be trusted.
pub(crate) fn settle_ready(home: &Path, db: &Mutex<Connection>) -> Result<usize, StoreError> {
    let now = walk::now_ns();
    let mut settled = 0;
    for (rel, before) in pending(home, db)? {
        if before.settles_at_ns() <= now && settle_dir(home, db, &rel, &before)? {
            settled += 1;
        }
    }
    Ok(settled)
}

/// Re-lists `rel` and records its stamp when nothing changed since `before` and its names
/// and sub-directories match the index. `true` when recorded.
pub(crate) fn settle_dir(
    home: &Path,
    db: &Mutex<Connection>,
    rel: &str,
    before: &DirStamp,
) -> Result<bool, StoreError> {
    let Ok(Some(stamp)) = walk::stamp(home, rel) else {
        return Ok(false);
    };
    if !stamp.trusted() || !stamp.same_state(before) {
        return Ok(false); // still changing: the next open lists it
    }
    let depth = depth_budget(rel);
    let Ok(Some(listing)) = walk::list(home, rel, depth > 0, false) else {
        return Ok(false);
    };
    let db = lock(db);
    let records = dir_index::load(&db)?;
    let recorded_children: HashSet<&str> = records
        .keys()
        .filter(|k| k.rsplit_once('/').is_some_and(|(p, _)| p == rel))
        .map(String::as_str)
        .collect();
    let subdirs: HashSet<&str> = listing.subdirs.iter().map(String::as_str).collect();
    if subdirs != recorded_children {
        return Ok(false);
    }
    // Rows added or removed by us since the listing make this differ: then it waits.
    let mut names: Vec<&str> = listing.files.iter().map(|f| f.rel.as_str()).collect();
    names.sort_unstable();
    if !index_paths::dir_holds_exactly(&db, rel, &names)? {
        return Ok(false);
    }
    dir_index::put(&db, rel, &stamp)?;
    Ok(true)
}

/// How many directory levels below `rel` reconciliation descends.
fn depth_budget(rel: &str) -> u32 {
    walk::ROOTS
        .iter()
        .find_map(|(root, depth)| {
            if rel == *root {
                Some(*depth)
            } else {
                let below = rel.strip_prefix(root)?.strip_prefix('/')?;
                let levels = u32::try_from(below.split('/').count()).unwrap_or(u32::MAX);
                Some(depth.saturating_sub(levels))
            }
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::depth_budget;

    #[test]
    fn depth_budget_follows_the_roots() {
        assert_eq!(depth_budget("sessions"), 4);
        assert_eq!(depth_budget("sessions/2026/01/02"), 1);
        assert_eq!(depth_budget("sessions/a/b/c/d"), 0);
        assert_eq!(depth_budget("archived_sessions"), 0);
        assert_eq!(depth_budget("sessionsX"), 0);
    }
}
