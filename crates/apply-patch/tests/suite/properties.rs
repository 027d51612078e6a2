//! Property tests: patches generated from random edits apply to exactly the edited text, and
//! the reverse patch (the revert a client offers after a turn) restores the original bytes.
//!
//! Files are made of lines that are unique even after trimming (each carries its own `#N`
//! tag), so every chunk has exactly one place to match and the expected result is defined. The
//! generator writes patches the way models do: up to three context lines, an optional
//! `@@ <line>` anchor, chunks that never share a context line.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use codex_apply_patch::{apply_patch, compute_changes, parse_patch, ApplyError, WritePolicy};
use proptest::prelude::*;

/// One replacement in a file: `del` lines from `start` become `ins`.
#[derive(Clone, Debug)]
struct Edit {
    start: usize,
    del: usize,
    ins: Vec<String>,
}

/// How a generated patch spells its chunks.
#[derive(Clone, Copy, Debug)]
struct Style {
    /// Context lines on each side, where the file has them.
    context: usize,
    /// Put an `@@ <line>` anchor before the context when a free line is there.
    anchors: bool,
}

/// Line text: optional indentation and trailing blanks around words, ending in a unique tag.
/// No `\r` (the parser reads lines with `str::lines`, which drops a trailing CR).
fn line_text() -> impl Strategy<Value = String> {
    (
        "[ \t]{0,4}",
        "[a-zA-Z0-9_(){};:'\"+*@#<>=.,é→-]{0,12}( [a-z]{1,6}){0,3}",
        "[ ]{0,2}",
    )
        .prop_map(|(indent, words, trailing)| format!("{indent}{words}{trailing}"))
}

/// Tags lines so each is unique; `kind` keeps original and inserted lines apart.
fn tagged(texts: Vec<String>, kind: &str) -> Vec<String> {
    texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| format!("{t} #{kind}{i}"))
        .collect()
}

/// A file (1..40 lines) and non-overlapping edits in file order.
fn file_and_edits() -> impl Strategy<Value = (Vec<String>, Vec<Edit>)> {
    prop::collection::vec(line_text(), 1..40)
        .prop_flat_map(|texts| {
            let lines = tagged(texts, "o");
            let n = lines.len();
            let steps = prop::collection::vec(
                (
                    0usize..6,
                    0usize..4,
                    prop::collection::vec(line_text(), 0..4),
                ),
                1..6,
            );
            (Just(lines), steps).prop_map(move |(lines, steps)| {
                let mut edits = Vec::new();
                let mut pos = 0;
                for (i, (gap, del, ins)) in steps.into_iter().enumerate() {
                    // Edits after the first keep at least one line between them, else they would
                    // be one edit.
                    let start = pos + if i == 0 { gap } else { gap.max(1) };
                    if start > n {
                        break;
                    }
                    let del = del.min(n - start);
                    let ins: Vec<String> = tagged(ins, &format!("n{i}_"));
                    if del == 0 && ins.is_empty() {
                        continue;
                    }
                    pos = start + del;
                    edits.push(Edit { start, del, ins });
                }
                (lines, edits)
            })
        })
        .prop_filter("at least one edit", |(_, edits)| !edits.is_empty())
}

fn apply_edits(lines: &[String], edits: &[Edit]) -> Vec<String> {
    let mut out = Vec::new();
    let mut pos = 0;
    for e in edits {
        out.extend_from_slice(&lines[pos..e.start]);
        out.extend(e.ins.iter().cloned());
        pos = e.start + e.del;
    }
    out.extend_from_slice(&lines[pos..]);
    out
}

/// The edits that turn `apply_edits(lines, edits)` back into `lines`.
fn reverse_edits(lines: &[String], edits: &[Edit]) -> Vec<Edit> {
    let mut offset: isize = 0;
    edits
        .iter()
        .map(|e| {
            let start = (e.start as isize + offset) as usize;
            offset += e.ins.len() as isize - e.del as isize;
            Edit {
                start,
                del: e.ins.len(),
                ins: lines[e.start..e.start + e.del].to_vec(),
            }
        })
        .collect()
}

fn text_of(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The chunks of an `*** Update File` section turning `lines` into `apply_edits(lines, edits)`.
///
/// Context never overlaps between chunks (the applier searches each chunk after the previous
/// one), and a chunk always has an old line to anchor on: a chunk with none means "append at
/// the end of the file".
fn update_chunks(lines: &[String], edits: &[Edit], style: Style) -> String {
    let mut out = String::new();
    // First line not yet claimed by an earlier chunk.
    let mut free = 0;
    for (k, e) in edits.iter().enumerate() {
        let next_start = edits.get(k + 1).map_or(lines.len(), |n| n.start);
        let after_gap = next_start - (e.start + e.del);
        let mut pre = style.context.min(e.start - free);
        // Leave the next chunk at least as much context as this one takes after it.
        let mut post = style.context.min(if k + 1 < edits.len() {
            after_gap / 2
        } else {
            after_gap
        });
        if pre + e.del + post == 0 {
            if e.start > free {
                pre = 1;
            } else {
                post = 1.min(after_gap);
            }
        }
        let anchor_at = e.start - pre;
        if style.anchors && anchor_at > free {
            out.push_str(&format!("@@ {}\n", lines[anchor_at - 1]));
        } else {
            out.push_str("@@\n");
        }
        for l in &lines[anchor_at..e.start] {
            out.push_str(&format!(" {l}\n"));
        }
        for l in &lines[e.start..e.start + e.del] {
            out.push_str(&format!("-{l}\n"));
        }
        for l in &e.ins {
            out.push_str(&format!("+{l}\n"));
        }
        let end = e.start + e.del;
        for l in &lines[end..end + post] {
            out.push_str(&format!(" {l}\n"));
        }
        free = end + post;
    }
    out
}

fn update_patch(path: &str, move_to: Option<&str>, body: &str) -> String {
    let moved = move_to
        .map(|d| format!("*** Move to: {d}\n"))
        .unwrap_or_default();
    format!("*** Begin Patch\n*** Update File: {path}\n{moved}{body}*** End Patch\n")
}

/// Relative path → bytes of every file under `dir`.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn apply_text(patch: &str, cwd: &Path) -> Result<(), ApplyError> {
    let parsed = parse_patch(patch).unwrap_or_else(|e| panic!("{e}\n{patch}"));
    let policy = WritePolicy::restricted(vec![cwd.to_path_buf()]);
    apply_patch(&parsed, cwd, &policy).map(|_| ())
}

fn style() -> impl Strategy<Value = Style> {
    (0usize..4, any::<bool>()).prop_map(|(context, anchors)| Style { context, anchors })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Applying gives exactly the edited text; the reverse patch restores the original bytes.
    #[test]
    fn apply_then_revert_restores_the_file(
        (lines, edits) in file_and_edits(),
        forward_style in style(),
        back_style in style(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let original = text_of(&lines);
        fs::write(dir.path().join("f.txt"), &original).unwrap();
        let edited = apply_edits(&lines, &edits);

        let forward = update_patch("f.txt", None, &update_chunks(&lines, &edits, forward_style));
        apply_text(&forward, dir.path()).unwrap_or_else(|e| panic!("{e}\n{forward}"));
        prop_assert_eq!(fs::read_to_string(dir.path().join("f.txt")).unwrap(), text_of(&edited));

        let back = update_patch(
            "f.txt",
            None,
            &update_chunks(&edited, &reverse_edits(&lines, &edits), back_style),
        );
        apply_text(&back, dir.path()).unwrap_or_else(|e| panic!("{e}\n{back}"));
        prop_assert_eq!(fs::read_to_string(dir.path().join("f.txt")).unwrap(), original);
    }

    /// A move with edits, then the move back with the reverse edits, restores the tree.
    #[test]
    fn move_then_move_back_restores_the_tree(
        (lines, edits) in file_and_edits(),
        style in style(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), text_of(&lines)).unwrap();
        fs::write(dir.path().join("other.txt"), "untouched\n").unwrap();
        let before = snapshot(dir.path());
        let edited = apply_edits(&lines, &edits);

        let forward = update_patch("a.txt", Some("sub/b.txt"), &update_chunks(&lines, &edits, style));
        apply_text(&forward, dir.path()).unwrap_or_else(|e| panic!("{e}\n{forward}"));
        prop_assert!(!dir.path().join("a.txt").exists());
        prop_assert_eq!(
            fs::read_to_string(dir.path().join("sub/b.txt")).unwrap(),
            text_of(&edited)
        );

        let back = update_patch(
            "sub/b.txt",
            Some("a.txt"),
            &update_chunks(&edited, &reverse_edits(&lines, &edits), style),
        );
        apply_text(&back, dir.path()).unwrap_or_else(|e| panic!("{e}\n{back}"));
        fs::remove_dir(dir.path().join("sub")).unwrap();
        prop_assert_eq!(snapshot(dir.path()), before);
    }

    /// Adding files and deleting them again leaves the tree as it was; what `Add File`
    /// writes is its `+` lines, each ending in a newline.
    #[test]
    fn add_then_delete_restores_the_tree(
        files in prop::collection::btree_map("[a-z]{1,8}", prop::collection::vec(line_text(), 0..8), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("keep.txt"), "keep\n").unwrap();
        let before = snapshot(dir.path());
        let mut add = String::from("*** Begin Patch\n");
        let mut delete = String::from("*** Begin Patch\n");
        for (name, texts) in &files {
            add.push_str(&format!("*** Add File: new/{name}.txt\n"));
            for t in texts {
                add.push_str(&format!("+{t}\n"));
            }
            delete.push_str(&format!("*** Delete File: new/{name}.txt\n"));
        }
        add.push_str("*** End Patch\n");
        delete.push_str("*** End Patch\n");

        apply_text(&add, dir.path()).unwrap_or_else(|e| panic!("{e}\n{add}"));
        for (name, texts) in &files {
            prop_assert_eq!(
                fs::read_to_string(dir.path().join(format!("new/{name}.txt"))).unwrap(),
                texts.iter().map(|t| format!("{t}\n")).collect::<String>()
            );
        }
        apply_text(&delete, dir.path()).unwrap_or_else(|e| panic!("{e}\n{delete}"));
        fs::remove_dir(dir.path().join("new")).unwrap();
        prop_assert_eq!(snapshot(dir.path()), before);
    }

    /// A patch whose last section does not match fails as a whole: no file changes, none is
    /// added or deleted, and verification alone never writes.
    #[test]
    fn a_failing_section_leaves_every_file_untouched(
        (lines, edits) in file_and_edits(),
        style in style(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f.txt"), text_of(&lines)).unwrap();
        fs::write(dir.path().join("gone.txt"), "delete me\n").unwrap();
        let before = snapshot(dir.path());
        let patch = format!(
            "*** Begin Patch\n*** Add File: added.txt\n+new\n*** Delete File: gone.txt\n*** Update File: f.txt\n{}*** Update File: f.txt\n@@\n-this line is in no file #missing\n+x\n*** End Patch\n",
            update_chunks(&lines, &edits, style)
        );
        let parsed = parse_patch(&patch).unwrap();
        let policy = WritePolicy::restricted(vec![dir.path().to_path_buf()]);
        let verified = compute_changes(&parsed, dir.path(), &policy);
        prop_assert!(
            matches!(verified, Err(ApplyError::LinesNotFound { .. })),
            "{:?}",
            verified
        );
        prop_assert_eq!(&snapshot(dir.path()), &before);
        let applied = apply_patch(&parsed, dir.path(), &policy);
        prop_assert!(
            matches!(applied, Err(ApplyError::LinesNotFound { .. })),
            "{:?}",
            applied
        );
        prop_assert_eq!(snapshot(dir.path()), before);
    }

    /// What verification reports is what applying writes.
    #[test]
    fn verified_contents_are_what_gets_written(
        (lines, edits) in file_and_edits(),
        style in style(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f.txt"), text_of(&lines)).unwrap();
        let patch = update_patch("f.txt", None, &update_chunks(&lines, &edits, style));
        let parsed = parse_patch(&patch).unwrap();
        let policy = WritePolicy::restricted(vec![dir.path().to_path_buf()]);
        let verified = compute_changes(&parsed, dir.path(), &policy).unwrap();
        prop_assert_eq!(
            fs::read_to_string(dir.path().join("f.txt")).unwrap(),
            text_of(&lines),
            "verification wrote"
        );
        apply_patch(&parsed, dir.path(), &policy).unwrap();
        prop_assert_eq!(
            Some(fs::read_to_string(dir.path().join("f.txt")).unwrap()),
            verified.changes[0].new_content.clone()
        );
    }
}
