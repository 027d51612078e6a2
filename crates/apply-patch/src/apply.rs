//! Turning a parsed [`Patch`] into file changes and writing them.
//!
//! Everything is computed first (reads, matching, policy checks) against an
//! in-memory view of the files, so verification failures never leave a
//! half-applied patch behind. Only then are the writes performed, in order.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::diff::hunks_only_diff;
use crate::parser::{Hunk, Patch, UpdateChunk};
use crate::policy::{absolutize, WritePolicy};
use crate::seek::seek_sequence;

/// What happens to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChangeKind {
    Add,
    Delete,
    /// `move_path` is the absolute destination when the file is renamed.
    Update {
        move_path: Option<PathBuf>,
    },
}

/// One verified change, ready to show to a client or an approval prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Absolute path of the file the hunk names (the source for moves).
    pub path: PathBuf,
    pub kind: FileChangeKind,
    /// Per-file diff text as clients display it: for `Add` the new contents,
    /// for `Delete` the removed contents, for `Update` the `@@` hunks.
    pub unified_diff: String,
    /// Contents before the change (`None` for a newly added file).
    pub old_content: Option<String>,
    /// Contents after the change (`None` for a deleted file).
    pub new_content: Option<String>,
}

/// The verified (or applied) patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOutcome {
    pub changes: Vec<FileChange>,
    /// Model-facing text: `Success. Updated the following files:\nA x\nM y\nD z\n`.
    pub summary: String,
}

/// Why a patch could not be verified or applied. `Display` is model-visible.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("No files were modified.")]
    NoFilesModified,
    #[error("Failed to read file to update {path}: {source}")]
    ReadFailed { path: PathBuf, source: io::Error },
    #[error("Failed to delete file {path}: {source}")]
    DeleteFailed { path: PathBuf, source: io::Error },
    #[error("Failed to find context '{context}' in {path}")]
    ContextNotFound { path: PathBuf, context: String },
    #[error("Failed to find expected lines in {path}:\n{lines}")]
    LinesNotFound { path: PathBuf, lines: String },
    #[error("writing to {path} is outside the writable roots; rejected by the sandbox policy")]
    OutsideWritableRoots { path: PathBuf },
    #[error("cannot verify write access to {path}: {source}")]
    PathCheckFailed { path: PathBuf, source: io::Error },
    #[error("Failed to write file {path}: {source}")]
    WriteFailed { path: PathBuf, source: io::Error },
    #[error("Failed to remove file {path}: {source}")]
    RemoveFailed { path: PathBuf, source: io::Error },
}

/// Verify `patch` against the files under `cwd` and return the changes it
/// would make, without writing anything.
pub fn compute_changes(
    patch: &Patch,
    cwd: &Path,
    policy: &WritePolicy,
) -> Result<ApplyOutcome, ApplyError> {
    if patch.hunks.is_empty() {
        return Err(ApplyError::NoFilesModified);
    }
    let mut view = FileView::default();
    let mut changes = Vec::with_capacity(patch.hunks.len());
    let (mut added, mut modified, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
    for hunk in &patch.hunks {
        let path = absolutize(cwd, hunk.path());
        check_writable(policy, &path)?;
        match hunk {
            Hunk::AddFile {
                path: rel,
                contents,
            } => {
                view.set(&path, Some(contents.clone()));
                added.push(rel.display().to_string());
                changes.push(FileChange {
                    path,
                    kind: FileChangeKind::Add,
                    unified_diff: contents.clone(),
                    old_content: None,
                    new_content: Some(contents.clone()),
                });
            }
            Hunk::DeleteFile { path: rel } => {
                let old = view
                    .read(&path)
                    .map_err(|source| ApplyError::DeleteFailed {
                        path: path.clone(),
                        source,
                    })?;
                view.set(&path, None);
                deleted.push(rel.display().to_string());
                changes.push(FileChange {
                    path,
                    kind: FileChangeKind::Delete,
                    unified_diff: old.clone(),
                    old_content: Some(old),
                    new_content: None,
                });
            }
            Hunk::UpdateFile {
                path: rel,
                move_path,
                chunks,
            } => {
                let old = view.read(&path).map_err(|source| ApplyError::ReadFailed {
                    path: path.clone(),
                    source,
                })?;
                let new = apply_chunks(&old, chunks, &path)?;
                let dest = match move_path {
                    Some(dest_rel) => {
                        let dest = absolutize(cwd, dest_rel);
                        check_writable(policy, &dest)?;
                        view.set(&path, None);
                        modified.push(dest_rel.display().to_string());
                        Some(dest)
                    }
                    None => {
                        modified.push(rel.display().to_string());
                        None
                    }
                };
                view.set(dest.as_ref().unwrap_or(&path), Some(new.clone()));
                changes.push(FileChange {
                    path,
                    kind: FileChangeKind::Update { move_path: dest },
                    unified_diff: hunks_only_diff(&old, &new),
                    old_content: Some(old),
                    new_content: Some(new),
                });
            }
        }
    }
    let mut summary = String::from("Success. Updated the following files:\n");
    for (letter, paths) in [('A', &added), ('M', &modified), ('D', &deleted)] {
        for p in paths {
            summary.push_str(&format!("{letter} {p}\n"));
        }
    }
    Ok(ApplyOutcome { changes, summary })
}

/// Verify `patch` and, if every hunk verifies, write all of its changes.
pub fn apply_patch(
    patch: &Patch,
    cwd: &Path,
    policy: &WritePolicy,
) -> Result<ApplyOutcome, ApplyError> {
    let outcome = compute_changes(patch, cwd, policy)?;
    for change in &outcome.changes {
        match (&change.kind, &change.new_content) {
            (FileChangeKind::Add, Some(content)) => write_file(&change.path, content)?,
            (FileChangeKind::Update { move_path }, Some(content)) => match move_path {
                Some(dest) => {
                    write_file(dest, content)?;
                    // A move onto itself is an update in place: removing the source would
                    // delete the result.
                    if dest != &change.path {
                        remove_file(&change.path)?;
                    }
                }
                None => write_file(&change.path, content)?,
            },
            (FileChangeKind::Delete, _) => remove_file(&change.path)?,
            // compute_changes always sets new_content for adds and updates.
            (_, None) => {}
        }
    }
    Ok(outcome)
}

fn check_writable(policy: &WritePolicy, path: &Path) -> Result<(), ApplyError> {
    match policy.allows(path) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApplyError::OutsideWritableRoots {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(ApplyError::PathCheckFailed {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn write_file(path: &Path, content: &str) -> Result<(), ApplyError> {
    let fail = |source| ApplyError::WriteFailed {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, content).map_err(fail)
}

fn remove_file(path: &Path) -> Result<(), ApplyError> {
    std::fs::remove_file(path).map_err(|source| ApplyError::RemoveFailed {
        path: path.to_path_buf(),
        source,
    })
}

/// The files as they will be after the hunks processed so far: pending
/// writes/deletes overlay the real filesystem.
#[derive(Default)]
struct FileView {
    pending: HashMap<PathBuf, Option<String>>,
}

impl FileView {
    fn read(&self, path: &Path) -> io::Result<String> {
        match self.pending.get(path) {
            Some(Some(content)) => Ok(content.clone()),
            Some(None) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "No such file or directory (os error 2)",
            )),
            None => {
                if path.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "path is a directory",
                    ));
                }
                std::fs::read_to_string(path)
            }
        }
    }

    fn set(&mut self, path: &Path, content: Option<String>) {
        self.pending.insert(path.to_path_buf(), content);
    }
}

/// Apply the chunks of an update hunk to `original`.
fn apply_chunks(original: &str, chunks: &[UpdateChunk], path: &Path) -> Result<String, ApplyError> {
    let mut lines: Vec<String> = original.split('\n').map(str::to_string).collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let replacements = find_replacements(&lines, chunks, path)?;
    // Replace from the bottom up so earlier indices stay valid.
    for (start, old_len, new_lines) in replacements.into_iter().rev() {
        lines.splice(start..start + old_len, new_lines);
    }
    lines.push(String::new());
    Ok(lines.join("\n"))
}

type Replacement = (usize, usize, Vec<String>);

fn find_replacements(
    lines: &[String],
    chunks: &[UpdateChunk],
    path: &Path,
) -> Result<Vec<Replacement>, ApplyError> {
    let mut replacements: Vec<Replacement> = Vec::new();
    let mut cursor = 0;
    for chunk in chunks {
        if let Some(context) = &chunk.change_context {
            let found = seek_sequence(lines, std::slice::from_ref(context), cursor, false);
            match found {
                Some(idx) => cursor = idx + 1,
                None => {
                    return Err(ApplyError::ContextNotFound {
                        path: path.to_path_buf(),
                        context: context.clone(),
                    });
                }
            }
        }
        if chunk.old_lines.is_empty() {
            // Pure addition: append at the end of the file.
            replacements.push((lines.len(), 0, chunk.new_lines.clone()));
            continue;
        }
        let mut old = chunk.old_lines.as_slice();
        let mut new = chunk.new_lines.as_slice();
        let mut found = seek_sequence(lines, old, cursor, chunk.is_end_of_file);
        if found.is_none() && old.last().is_some_and(String::is_empty) {
            // A trailing blank line in the patch often stands for the end of
            // the file rather than a real empty line.
            old = &old[..old.len() - 1];
            if new.last().is_some_and(String::is_empty) {
                new = &new[..new.len() - 1];
            }
            found = seek_sequence(lines, old, cursor, chunk.is_end_of_file);
        }
        match found {
            Some(start) => {
                replacements.push((start, old.len(), new.to_vec()));
                cursor = start + old.len();
            }
            None => {
                return Err(ApplyError::LinesNotFound {
                    path: path.to_path_buf(),
                    lines: chunk.old_lines.join("\n"),
                });
            }
        }
    }
    replacements.sort_by_key(|r| r.0);
    Ok(replacements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_patch;

    #[test]
    fn update_with_multiple_chunks_in_memory() {
        let chunks = match &parse_patch(
            "*** Begin Patch\n*** Update File: f\n@@ fn a\n-1\n+one\n@@ fn b\n-2\n+two\n*** End Patch",
        )
        .unwrap()
        .hunks[0]
        {
            Hunk::UpdateFile { chunks, .. } => chunks.clone(),
            other => panic!("{other:?}"),
        };
        let out = apply_chunks("fn a\n1\nfn b\n2\n", &chunks, Path::new("f")).unwrap();
        assert_eq!(out, "fn a\none\nfn b\ntwo\n");
    }

    #[test]
    fn pure_addition_appends_and_missing_lines_error() {
        let add = UpdateChunk {
            new_lines: vec!["z".into()],
            ..Default::default()
        };
        assert_eq!(
            apply_chunks("a\n", &[add], Path::new("f")).unwrap(),
            "a\nz\n"
        );
        let bad = UpdateChunk {
            old_lines: vec!["nope".into()],
            new_lines: vec![],
            ..Default::default()
        };
        let err = apply_chunks("a\n", &[bad], Path::new("/x/f")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Failed to find expected lines in /x/f:\nnope"
        );
    }

    #[test]
    fn empty_patch_modifies_nothing() {
        let err = compute_changes(
            &Patch::default(),
            Path::new("/"),
            &WritePolicy::full_access(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "No files were modified.");
    }
}
