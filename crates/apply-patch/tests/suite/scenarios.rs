//! Data-driven scenarios under `tests/fixtures/scenarios/NNN_name/`.
//!
//! Each scenario holds `input/` (the workspace before), `patch.txt`, and
//! `expected/` (the workspace after). Optional files:
//! - `expected_summary.txt`: the exact success summary;
//! - `expected_error.txt`: the patch must fail with a message containing this
//!   text (`{cwd}` = workspace, `{root}` = its parent), and the workspace must
//!   then equal `expected/` (normally identical to `input/`);
//! - `symlinks.txt`: lines `link -> target` creating `<workspace>/link`
//!   pointing at `<root>/target` before applying.
//!
//! The workspace is `<tmp>/work` (the only writable root); `<tmp>/outside`
//! exists, starts empty and must stay empty.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use codex_apply_patch::{apply_patch, parse_patch, WritePolicy};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios")
}

/// Relative path → contents of every regular file under `dir` (symlinks skipped).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            let ty = entry.file_type().unwrap();
            if ty.is_dir() {
                walk(base, &path, out);
            } else if ty.is_file() {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for (rel, bytes) in snapshot(from) {
        let dest = to.join(rel);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::write(dest, bytes).unwrap();
    }
}

fn run_scenario(dir: &Path) {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let work = root.join("work");
    let outside = root.join("outside");
    copy_tree(&dir.join("input"), &work);
    fs::create_dir_all(&outside).unwrap();
    if let Ok(links) = fs::read_to_string(dir.join("symlinks.txt")) {
        for line in links.lines().filter(|l| !l.trim().is_empty()) {
            let (link, target) = line.split_once(" -> ").unwrap();
            std::os::unix::fs::symlink(root.join(target.trim()), work.join(link.trim())).unwrap();
        }
    }
    let patch_text = fs::read_to_string(dir.join("patch.txt")).unwrap();
    let policy = WritePolicy::restricted(vec![work.clone()]);
    let result = parse_patch(&patch_text)
        .map_err(|e| e.to_string())
        .and_then(|patch| apply_patch(&patch, &work, &policy).map_err(|e| e.to_string()));

    let fill = |s: String| {
        s.replace("{cwd}", &work.to_string_lossy())
            .replace("{root}", &root.to_string_lossy())
    };
    match (fs::read_to_string(dir.join("expected_error.txt")), result) {
        (Ok(expected), Err(actual)) => {
            let expected = fill(expected);
            assert!(
                actual.contains(&expected),
                "{name}: error {actual:?} does not contain {expected:?}"
            );
        }
        (Ok(_), Ok(outcome)) => panic!("{name}: expected failure, got {outcome:?}"),
        (Err(_), Err(actual)) => panic!("{name}: unexpected failure: {actual}"),
        (Err(_), Ok(outcome)) => {
            if let Ok(summary) = fs::read_to_string(dir.join("expected_summary.txt")) {
                assert_eq!(outcome.summary, summary, "{name}: summary");
            }
            for change in &outcome.changes {
                assert!(
                    change.path.is_absolute(),
                    "{name}: change path must be absolute"
                );
            }
        }
    }
    let actual = snapshot(&work);
    let expected = snapshot(&dir.join("expected"));
    let show = |m: &BTreeMap<String, Vec<u8>>| {
        m.iter()
            .map(|(k, v)| format!("{k}: {:?}", String::from_utf8_lossy(v)))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        show(&actual),
        show(&expected),
        "{name}: workspace after patch"
    );
    assert!(
        snapshot(&outside).is_empty(),
        "{name}: something was written outside the workspace"
    );
}

#[test]
fn all_scenarios() {
    let mut dirs: Vec<PathBuf> = fs::read_dir(scenarios_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "scenario fixtures missing");
    for dir in dirs {
        run_scenario(&dir);
    }
}
