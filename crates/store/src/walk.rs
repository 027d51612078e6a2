//! Listing the rollout tree: directory stamps (mtime, inode and the time of the look),
//! one-directory listings, and the full walk built from them.
//!
//! A directory's mtime changes whenever an entry is created, removed or renamed in it, so an
//! unchanged stamp proves its listing is unchanged, unless the change happened within the
//! same timestamp tick as our look ("racy" stamps, see [`DirStamp::trusted`]).

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::layout::{self, ARCHIVED_DIR, SESSIONS_DIR};

/// The reconciled roots and how many directory levels below each are descended
/// (`sessions/YYYY/MM/DD` plus one spare level; the archive is flat).
pub(crate) const ROOTS: [(&str, u32); 2] = [(SESSIONS_DIR, 4), (ARCHIVED_DIR, 0)];

/// A stamp is trusted only once the file system clock has moved this far past its mtime
/// before we looked: 50 ms covers coarse kernel timestamp ticks (at most 10 ms).
const RACY_SLACK_NS: i64 = 50_000_000;
/// Whole-second mtimes suggest a file system with 1 s (or FAT's 2 s) granularity.
const RACY_SLACK_COARSE_NS: i64 = 2_000_000_000;

/// What a directory looked like at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DirStamp {
    pub mtime_ns: i64,
    pub ino: i64,
    /// Wall clock (ns) taken just before the stat.
    pub seen_ns: i64,
}

impl DirStamp {
    /// A placeholder that never matches a real directory: forces a listing.
    pub(crate) const UNKNOWN: DirStamp = DirStamp {
        mtime_ns: 0,
        ino: 0,
        seen_ns: 0,
    };

    fn slack(&self) -> i64 {
        if self.mtime_ns % 1_000_000_000 == 0 {
            RACY_SLACK_COARSE_NS
        } else {
            RACY_SLACK_NS
        }
    }

    /// Whether an equal mtime later proves the listing unchanged: any change after our look
    /// gets an mtime at least our look time minus one tick, which is then past this mtime.
    /// A stamp whose mtime is too close to the look (or in the future) proves nothing.
    pub(crate) fn trusted(&self) -> bool {
        self.mtime_ns != 0 && self.mtime_ns.saturating_add(self.slack()) < self.seen_ns
    }

    /// Wall-clock time from which a fresh look at an unchanged directory is trusted.
    pub(crate) fn settles_at_ns(&self) -> i64 {
        self.mtime_ns.saturating_add(self.slack()).saturating_add(1)
    }

    /// Same directory object with the same mtime (the look time does not matter).
    pub(crate) fn same_state(&self, other: &DirStamp) -> bool {
        self.mtime_ns == other.mtime_ns && self.ino == other.ino
    }
}

pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The stamp of `home/rel`, or `None` when it does not exist (or is not a directory).
pub(crate) fn stamp(home: &Path, rel: &str) -> io::Result<Option<DirStamp>> {
    let seen_ns = now_ns();
    match fs::metadata(home.join(rel)) {
        Ok(meta) if meta.is_dir() => Ok(Some(DirStamp {
            mtime_ns: layout::mtime_ns(&meta),
            ino: i64::try_from(meta.ino()).unwrap_or(i64::MAX),
            seen_ns,
        })),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// A rollout file found by a listing.
#[derive(Debug, Clone)]
pub(crate) struct DiskFile {
    /// Path relative to the home, '/'-separated.
    pub rel: String,
    /// Size and mtime; 0 when the listing was asked not to stat files.
    pub size: i64,
    pub mtime_ns: i64,
}

/// The rollout files and sub-directories directly inside one directory.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub files: Vec<DiskFile>,
    pub subdirs: Vec<String>,
}

/// Lists `home/rel`; `None` when it does not exist. Symlinks are not followed (as before:
/// only real files and directories count). With `stat_files` false only names are read.
pub(crate) fn list(
    home: &Path,
    rel: &str,
    with_subdirs: bool,
    stat_files: bool,
) -> io::Result<Option<Listing>> {
    let entries = match fs::read_dir(home.join(rel)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut out = Listing::default();
    for entry in entries.flatten() {
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if file_type.is_dir() {
            if with_subdirs {
                out.subdirs.push(format!("{rel}/{name}"));
            }
        } else if file_type.is_file() && layout::is_rollout_file_name(name) {
            let (size, mtime_ns) = if stat_files {
                // Gone between the listing and the stat: treat as absent.
                let Ok(meta) = entry.metadata() else {
                    continue;
                };
                (
                    i64::try_from(meta.len()).unwrap_or(i64::MAX),
                    layout::mtime_ns(&meta),
                )
            } else {
                (0, 0)
            };
            out.files.push(DiskFile {
                rel: format!("{rel}/{name}"),
                size,
                mtime_ns,
            });
        }
    }
    Ok(Some(out))
}

/// Everything a full walk saw.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    pub files: Vec<DiskFile>,
    /// Every directory listed, with the stamp taken before its listing; unreadable ones
    /// carry [`DirStamp::UNKNOWN`] so that every open retries them.
    pub dirs: Vec<(String, DirStamp)>,
}

/// Every rollout file under the roots, with size and mtime. Unreadable directories are
/// logged and skipped. Stops early (returning what it has) once `cancelled()` is true.
pub(crate) fn walk(home: &Path, cancelled: &dyn Fn() -> bool) -> Walk {
    let mut out = Walk::default();
    for (root, depth) in ROOTS {
        walk_dir(home, root.to_string(), depth, cancelled, &mut out);
    }
    out
}

fn walk_dir(
    home: &Path,
    rel: String,
    depth_left: u32,
    cancelled: &dyn Fn() -> bool,
    out: &mut Walk,
) {
    if cancelled() {
        return;
    }
    let looked = stamp(home, &rel).and_then(|stamp| match stamp {
        Some(stamp) => Ok(list(home, &rel, depth_left > 0, true)?.map(|l| (stamp, l))),
        None => Ok(None),
    });
    let (stamp, listing) = match looked {
        Ok(Some(found)) => found,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(dir = %home.join(&rel).display(), error = %e, "cannot read directory");
            out.dirs.push((rel, DirStamp::UNKNOWN));
            return;
        }
    };
    out.files.extend(listing.files);
    for sub in listing.subdirs {
        walk_dir(home, sub, depth_left - 1, cancelled, out);
    }
    out.dirs.push((rel, stamp));
}
