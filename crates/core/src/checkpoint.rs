//! File checkpoints: what `thread/revert {restoreFiles: true}` needs to put files back.
//!
//! Each `apply_patch` call that changes files records, next to its `fileChange` item, an
//! `event_msg {type: "file_checkpoint", turn_id, item_id, files: [{path, before, after}]}`:
//! `before` is the file's text before the patch (`null`: it did not exist; absent with
//! `before_unavailable`: too large or not text), `after` a fingerprint of what the patch left
//! (`null`: no file). Reverting turns restores each file to the `before` of its first
//! checkpoint in those turns, but only when it still matches the `after` of its last one:
//! a file changed since (by the user, a command, a later kept turn) is left alone and
//! reported. Other readers skip the unknown event.

use codex_protocol::v2::{FileNotRestored, FileRestoreReport};
use codex_store::{RolloutEntry, RolloutLine};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FILE_CHECKPOINT: &str = "file_checkpoint";
/// Larger files are not snapshotted (their revert reports them instead), so a patch to a huge
/// file does not copy it into the rollout.
const MAX_SNAPSHOT_BYTES: u64 = 1024 * 1024;

/// A file as a checkpoint sees it.
#[derive(Clone, Debug, PartialEq)]
enum State {
    Absent,
    Present(Vec<u8>),
    Unreadable(String),
}

fn read_state(path: &Path) -> State {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return State::Absent,
        Err(e) => return State::Unreadable(e.to_string()),
        Ok(meta) if meta.len() > MAX_SNAPSHOT_BYTES => {
            return State::Unreadable(format!(
                "larger than {MAX_SNAPSHOT_BYTES} bytes, so no snapshot was kept"
            ))
        }
        Ok(_) => {}
    }
    match std::fs::read(path) {
        Ok(bytes) => State::Present(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::Absent,
        Err(e) => State::Unreadable(e.to_string()),
    }
}

/// FNV-1a (64 bits) and the length: stable across versions and platforms, enough to tell
/// whether a file still holds what a patch wrote (not a defence against a forger).
fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}-{}", bytes.len())
}

/// The files a patch is about to write, as they are now.
pub struct Before {
    files: Vec<(PathBuf, State)>,
}

impl Before {
    pub fn capture(paths: &[PathBuf]) -> Before {
        Before {
            files: paths.iter().map(|p| (p.clone(), read_state(p))).collect(),
        }
    }

    /// The checkpoint line for the files the patch changed; `None` when it changed none.
    pub fn finish(self, turn_id: &str, item_id: &str) -> Option<RolloutEntry> {
        let mut files = Vec::new();
        for (path, before) in self.files {
            let after = read_state(&path);
            if after == before {
                continue;
            }
            let mut file = json!({"path": path});
            match before {
                State::Absent => file["before"] = Value::Null,
                State::Present(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => file["before"] = json!(text),
                    Err(_) => file["before_unavailable"] = json!("not a text file"),
                },
                State::Unreadable(reason) => file["before_unavailable"] = json!(reason),
            }
            match after {
                State::Absent => file["after"] = Value::Null,
                State::Present(bytes) => file["after"] = json!(fingerprint(&bytes)),
                State::Unreadable(reason) => file["after_unavailable"] = json!(reason),
            }
            files.push(file);
        }
        (!files.is_empty()).then(|| {
            RolloutEntry::new(
                "event_msg",
                json!({"type": FILE_CHECKPOINT, "turn_id": turn_id, "item_id": item_id, "files": files}),
            )
        })
    }
}

/// What restoring one file means.
#[derive(Debug)]
struct Restore {
    /// The content before the first removed change (`Ok(None)`: no file), or why it is unknown.
    before: Result<Option<String>, String>,
    /// The fingerprint the last removed change left (`Ok(None)`: no file), or why it is unknown.
    after: Result<Option<String>, String>,
}

/// The files changed by the removed turns, in path order.
pub struct RestorePlan {
    files: BTreeMap<PathBuf, Restore>,
}

impl RestorePlan {
    /// From the lines of the removed turns, in file order.
    pub fn from_lines(lines: &[RolloutLine]) -> RestorePlan {
        let mut files: BTreeMap<PathBuf, Restore> = BTreeMap::new();
        let checkpoints = lines
            .iter()
            .filter(|l| l.kind == "event_msg" && l.payload["type"] == FILE_CHECKPOINT);
        for line in checkpoints {
            for file in line.payload["files"].as_array().into_iter().flatten() {
                let Some(path) = file["path"].as_str() else {
                    continue;
                };
                let after = match &file["after_unavailable"] {
                    Value::String(reason) => {
                        Err(format!("it could not be read after the patch: {reason}"))
                    }
                    _ => Ok(file["after"].as_str().map(str::to_string)),
                };
                match files.get_mut(Path::new(path)) {
                    Some(restore) => restore.after = after,
                    None => {
                        let before = match &file["before_unavailable"] {
                            Value::String(reason) => Err(format!("no earlier content: {reason}")),
                            _ => Ok(file["before"].as_str().map(str::to_string)),
                        };
                        files.insert(PathBuf::from(path), Restore { before, after });
                    }
                }
            }
        }
        RestorePlan { files }
    }

    /// Puts each file back when it still holds what the removed turns left (blocking I/O).
    pub fn restore(self) -> FileRestoreReport {
        let mut report = FileRestoreReport::default();
        for (path, restore) in self.files {
            match restore_one(&path, restore) {
                Ok(()) => report.restored.push(path),
                Err(reason) => report.not_restored.push(FileNotRestored { path, reason }),
            }
        }
        report
    }
}

fn restore_one(path: &Path, restore: Restore) -> Result<(), String> {
    let before = restore.before?;
    let expected = restore.after?;
    let now = match read_state(path) {
        State::Absent => None,
        State::Present(bytes) => Some(fingerprint(&bytes)),
        State::Unreadable(reason) => return Err(format!("it cannot be read now: {reason}")),
    };
    if now != expected {
        return Err("it changed after the reverted turns wrote it".to_string());
    }
    match before {
        None => match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("cannot remove it: {e}")),
        },
        Some(text) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            std::fs::write(path, text).map_err(|e| format!("cannot write it: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(entry: RolloutEntry) -> RolloutLine {
        RolloutLine {
            timestamp: String::new(),
            ordinal: None,
            kind: entry.kind,
            payload: entry.payload,
        }
    }

    #[test]
    fn restores_first_before_when_the_last_after_still_holds() {
        let dir = tempfile::tempdir().unwrap();
        let edited = dir.path().join("edited.txt");
        let added = dir.path().join("added.txt");
        let touched = dir.path().join("touched.txt");
        std::fs::write(&edited, "one\n").unwrap();
        std::fs::write(&touched, "mine\n").unwrap();
        let paths = vec![edited.clone(), added.clone(), touched.clone()];

        let first = Before::capture(&paths);
        std::fs::write(&edited, "two\n").unwrap();
        std::fs::write(&added, "new\n").unwrap();
        std::fs::write(&touched, "patched\n").unwrap();
        let first = first.finish("t1", "i1").unwrap();
        let second = Before::capture(&paths);
        std::fs::write(&edited, "three\n").unwrap();
        let second = second.finish("t2", "i2").unwrap();
        assert_eq!(second.payload["files"].as_array().unwrap().len(), 1);
        // Someone else changes one file after the patches.
        std::fs::write(&touched, "changed by hand\n").unwrap();

        let report = RestorePlan::from_lines(&[line(first), line(second)]).restore();
        assert_eq!(std::fs::read_to_string(&edited).unwrap(), "one\n");
        assert!(!added.exists());
        assert_eq!(
            std::fs::read_to_string(&touched).unwrap(),
            "changed by hand\n"
        );
        let mut restored = report.restored.clone();
        restored.sort();
        assert_eq!(restored, vec![added, edited]);
        assert_eq!(report.not_restored.len(), 1);
        assert_eq!(report.not_restored[0].path, touched);
        assert!(report.not_restored[0].reason.contains("changed"));
    }

    #[test]
    fn an_unchanged_patch_records_nothing_and_fingerprints_differ() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("same.txt");
        std::fs::write(&p, "x").unwrap();
        assert!(Before::capture(&[p]).finish("t", "i").is_none());
        assert_ne!(fingerprint(b"ab"), fingerprint(b"ba"));
    }
}
