//! The turn diff: every file a turn's patches touched, with its content before the first
//! change, rendered as one git-style diff against what is on disk now (`turn/diff/updated`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Default)]
pub struct TurnDiff {
    turn_id: String,
    /// Path -> content before the turn's first change (`None`: the file did not exist).
    originals: BTreeMap<PathBuf, Option<String>>,
    /// Moves made this turn (destination -> source), rendered as git renames.
    renames: BTreeMap<PathBuf, PathBuf>,
}

impl TurnDiff {
    /// Remembers the current content of `paths` unless this turn already did.
    pub fn track(&mut self, turn_id: &str, paths: &[PathBuf]) {
        if self.turn_id != turn_id {
            self.turn_id = turn_id.to_string();
            self.originals.clear();
            self.renames.clear();
        }
        for p in paths {
            self.originals
                .entry(p.clone())
                .or_insert_with(|| std::fs::read_to_string(p).ok());
        }
    }

    /// Records that this turn moved `from` to `to` (both already tracked).
    pub fn track_move(&mut self, turn_id: &str, from: &Path, to: &Path) {
        if self.turn_id == turn_id {
            self.renames.insert(to.to_path_buf(), from.to_path_buf());
        }
    }

    /// The aggregated diff of this turn's files, paths relative to `cwd` when under it. A file
    /// moved this turn (source gone, destination new) is one rename section, as git shows it.
    pub fn render(&self, turn_id: &str, cwd: &Path) -> String {
        if self.turn_id != turn_id {
            return String::new();
        }
        let current: BTreeMap<&PathBuf, Option<String>> = self
            .originals
            .keys()
            .map(|p| (p, std::fs::read_to_string(p).ok()))
            .collect();
        let mut renamed_sources = Vec::new();
        let mut out = String::new();
        for (path, original) in &self.originals {
            let now = current.get(path).cloned().flatten();
            let rename = self.renames.get(path).filter(|from| {
                original.is_none()
                    && now.is_some()
                    && current.get(from).is_some_and(Option::is_none)
                    && self.originals.get(*from).is_some_and(Option::is_some)
            });
            match rename {
                Some(from) => {
                    let old = self.originals.get(from).cloned().flatten();
                    out.push_str(&rename_diff(
                        from,
                        path,
                        old.as_deref(),
                        now.as_deref(),
                        cwd,
                    ));
                    renamed_sources.push(from.clone());
                }
                None => out.push_str(&file_diff(path, original.as_deref(), now.as_deref(), cwd)),
            }
        }
        if renamed_sources.is_empty() {
            return out;
        }
        // Sections are per file; drop the deletions that the renames above already show.
        let mut kept = String::new();
        for section in split_sections(&out) {
            let deleted_source = renamed_sources.iter().any(|from| {
                section.starts_with(&format!(
                    "diff --git a/{l} b/{l}\ndeleted file",
                    l = label(from, cwd)
                ))
            });
            if !deleted_source {
                kept.push_str(section);
            }
        }
        kept
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

fn split_sections(diff: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = diff.match_indices("diff --git ").map(|(i, _)| i).collect();
    starts.push(diff.len());
    starts.windows(2).map(|w| &diff[w[0]..w[1]]).collect()
}

/// A rename section: `rename from`/`rename to`, then the content change, if any.
fn rename_diff(from: &Path, to: &Path, old: Option<&str>, new: Option<&str>, cwd: &Path) -> String {
    let (a, b) = (label(from, cwd), label(to, cwd));
    let mut out = format!("diff --git a/{a} b/{b}\nrename from {a}\nrename to {b}\n");
    let (old, new) = (old.unwrap_or(""), new.unwrap_or(""));
    if old != new {
        let body = codex_apply_patch::unified_diff(old, new, &b);
        out.push_str(&format!("--- a/{a}\n+++ b/{b}\n"));
        out.extend(
            body.split_inclusive('\n')
                .skip_while(|line| line.starts_with("--- ") || line.starts_with("+++ ")),
        );
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
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
    fn a_move_renders_as_one_rename_section() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
        std::fs::write(&a, "keep\nold\n").unwrap();
        let mut t = TurnDiff::default();
        t.track("t1", &[a.clone(), b.clone()]);
        t.track_move("t1", &a, &b);
        std::fs::remove_file(&a).unwrap();
        std::fs::write(&b, "keep\nnew\n").unwrap();
        let d = t.render("t1", dir.path());
        assert_eq!(
            d,
            "diff --git a/a.txt b/b.txt\nrename from a.txt\nrename to b.txt\n--- a/a.txt\n+++ b/b.txt\n@@ -1,2 +1,2 @@\n keep\n-old\n+new\n"
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
