//! The turn diff: every file a turn's patches touched, with its content before the first
//! change, rendered as one git-style diff against what is on disk now (`turn/diff/updated`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Default)]
pub struct TurnDiff {
    turn_id: String,
    /// Path -> content before the turn's first change (`None`: the file did not exist).
    originals: BTreeMap<PathBuf, Option<String>>,
}

impl TurnDiff {
    /// Remembers the current content of `paths` unless this turn already did.
    pub fn track(&mut self, turn_id: &str, paths: &[PathBuf]) {
        if self.turn_id != turn_id {
            self.turn_id = turn_id.to_string();
            self.originals.clear();
        }
        for p in paths {
            self.originals
                .entry(p.clone())
                .or_insert_with(|| std::fs::read_to_string(p).ok());
        }
    }

    /// The aggregated diff of this turn's files, paths relative to `cwd` when under it.
    pub fn render(&self, turn_id: &str, cwd: &Path) -> String {
        if self.turn_id != turn_id {
            return String::new();
        }
        let mut out = String::new();
        for (path, original) in &self.originals {
            let current = std::fs::read_to_string(path).ok();
            out.push_str(&file_diff(
                path,
                original.as_deref(),
                current.as_deref(),
                cwd,
            ));
        }
        out
    }
}

fn label(path: &Path, cwd: &Path) -> String {
    match path.strip_prefix(cwd) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => path
            .display()
            .to_string()
            .trim_start_matches('/')
            .to_string(),
    }
}

/// One file's section: `diff --git`, mode lines for creations/deletions, headers and hunks.
pub fn file_diff(path: &Path, old: Option<&str>, new: Option<&str>, cwd: &Path) -> String {
    if old == new {
        return String::new();
    }
    let l = label(path, cwd);
    let body = codex_apply_patch::unified_diff(old.unwrap_or(""), new.unwrap_or(""), &l);
    // Drop the library's `---`/`+++` lines; git's depend on creation/deletion.
    let hunks: String = body
        .split_inclusive('\n')
        .skip_while(|line| line.starts_with("--- ") || line.starts_with("+++ "))
        .collect();
    let mut out = format!("diff --git a/{l} b/{l}\n");
    match (old, new) {
        (None, _) => out.push_str(&format!("new file mode 100644\n--- /dev/null\n+++ b/{l}\n")),
        (_, None) => out.push_str(&format!(
            "deleted file mode 100644\n--- a/{l}\n+++ /dev/null\n"
        )),
        _ => out.push_str(&format!("--- a/{l}\n+++ b/{l}\n")),
    }
    out.push_str(&hunks);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_file_matches_git_shape() {
        let d = file_diff(
            Path::new("/w/hello.txt"),
            None,
            Some("hello from apply_patch\n"),
            Path::new("/w"),
        );
        assert_eq!(
            d,
            "diff --git a/hello.txt b/hello.txt\nnew file mode 100644\n--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1 @@\n+hello from apply_patch\n"
        );
    }

    #[test]
    fn tracks_first_content_per_turn() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, "one\n").unwrap();
        let mut t = TurnDiff::default();
        t.track("t1", std::slice::from_ref(&f));
        std::fs::write(&f, "two\n").unwrap();
        t.track("t1", std::slice::from_ref(&f));
        std::fs::write(&f, "three\n").unwrap();
        let d = t.render("t1", dir.path());
        assert!(d.contains("-one\n+three\n"), "{d}");
        assert_eq!(t.render("t2", dir.path()), "");
        t.track("t2", std::slice::from_ref(&f));
        assert_eq!(t.render("t2", dir.path()), "");
    }
}
