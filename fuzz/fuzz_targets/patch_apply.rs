//! The apply_patch applier (`compute_changes` / `apply_patch`) against a real temporary
//! directory (on /dev/shm when present), reset before every input.
//!
//! Oracles:
//! - a patch naming a path outside the writable root is never verified, and is never applied
//!   (so a broken policy cannot let the fuzzer write over the machine);
//! - a patch that fails verification leaves the tree exactly as it was;
//! - after a successful apply every file holds what the returned changes say, deleted and
//!   moved-away files are gone, and nothing outside the root changed.

#![no_main]

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use codex_apply_patch::{
    apply_patch, compute_changes, parse_patch, ApplyError, FileChangeKind, Hunk, WritePolicy,
};
use libfuzzer_sys::fuzz_target;

struct Dirs {
    /// Kept alive for the whole run; removed when the process exits normally.
    _base: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

fn dirs() -> &'static Dirs {
    static DIRS: OnceLock<Dirs> = OnceLock::new();
    DIRS.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("temporary directory");
        // Canonical, so lexical containment below matches what the kernel resolves.
        let real = base.path().canonicalize().expect("canonical temp dir");
        let outside = real.join("outside");
        std::fs::create_dir_all(&outside).expect("outside dir");
        std::fs::write(outside.join("sentinel.txt"), "do not touch\n").expect("sentinel");
        Dirs {
            root: real.join("root"),
            outside,
            _base: base,
        }
    })
}

/// The files every input starts from: names the seed patches refer to.
const SEED_FILES: &[(&str, &str)] = &[
    ("a.txt", "alpha\nbeta\ngamma\n"),
    ("dir/b.rs", "fn main() {\n    println!(\"hi\");\n}\n"),
    ("empty.txt", ""),
    ("no_newline.txt", "one\ntwo"),
];

fn reset(root: &Path) {
    let _ = std::fs::remove_dir_all(root);
    for (name, content) in SEED_FILES {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("seed files have a parent")).expect("mkdir");
        std::fs::write(path, content).expect("seed file");
    }
}

/// Every regular file under `dir`, by path, with its bytes (directories listed empty).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.insert(path.clone(), None);
                stack.push(path);
            } else {
                out.insert(path.clone(), Some(std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    out
}

/// `cwd.join(p)` with `.` and `..` removed lexically; with no symlinks in the tree (a patch
/// cannot make one) this is where a write to `p` lands.
fn lexical(cwd: &Path, p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in cwd.join(p).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn targets(hunk: &Hunk) -> Vec<&Path> {
    match hunk {
        Hunk::UpdateFile {
            path,
            move_path: Some(dest),
            ..
        } => vec![path.as_path(), dest.as_path()],
        other => vec![other.path().as_path()],
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(patch) = parse_patch(&text) else {
        return;
    };
    let Dirs { root, outside, .. } = dirs();
    reset(root);
    let outside_before = snapshot(outside);
    let policy = WritePolicy::restricted(vec![root.clone()]);
    let escapes = patch
        .hunks
        .iter()
        .flat_map(targets)
        .any(|p| !lexical(root, p).starts_with(root));
    if escapes {
        let verified = compute_changes(&patch, root, &policy);
        assert!(
            verified.is_err(),
            "a patch writing outside the root was verified: {patch:?}"
        );
        return;
    }
    let before = snapshot(root);
    match apply_patch(&patch, root, &policy) {
        // Failures while writing may leave earlier writes behind (documented).
        Err(ApplyError::WriteFailed { .. } | ApplyError::RemoveFailed { .. }) => {}
        Err(_) => assert_eq!(
            snapshot(root),
            before,
            "a patch that failed verification changed files"
        ),
        Ok(outcome) => {
            let mut expected: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
            for change in &outcome.changes {
                match &change.kind {
                    FileChangeKind::Add | FileChangeKind::Update { move_path: None } => {
                        expected.insert(change.path.clone(), change.new_content.clone());
                    }
                    FileChangeKind::Delete => {
                        expected.insert(change.path.clone(), None);
                    }
                    FileChangeKind::Update {
                        move_path: Some(dest),
                    } => {
                        expected.insert(change.path.clone(), None);
                        expected.insert(dest.clone(), change.new_content.clone());
                    }
                }
            }
            for (path, content) in &expected {
                let actual = std::fs::read_to_string(path).ok();
                assert_eq!(
                    &actual, content,
                    "{} after applying {patch:?}",
                    path.display()
                );
            }
        }
    }
    assert_eq!(snapshot(outside), outside_before, "files outside the root changed");
});
