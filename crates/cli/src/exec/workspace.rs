//! Checks on the directories exec works in, done before any model request: the working root
//! must exist, and unless `--skip-git-repo-check` is given it must be inside a Git repository,
//! so an agent is not let loose on a directory whose changes cannot be reviewed or undone.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(
        "Not inside a trusted directory and --skip-git-repo-check was not specified: {0} is not \
         inside a Git repository. Run codex exec inside one, or pass --skip-git-repo-check."
    )]
    NotInGitRepo(String),
    #[error("{what} {path}: {source}")]
    Path {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
}

/// `path` made absolute against the process's directory and resolved, checking it exists.
pub fn existing_path(path: &Path, what: &'static str) -> Result<PathBuf, WorkspaceError> {
    std::fs::canonicalize(path).map_err(|source| WorkspaceError::Path {
        what,
        path: path.display().to_string(),
        source,
    })
}

/// Whether `dir` or one of its ancestors holds `.git` (a directory, or a file for worktrees
/// and submodules).
pub fn inside_git_repo(dir: &Path) -> bool {
    dir.ancestors().any(|d| d.join(".git").exists())
}

/// Fails unless `dir` is inside a Git repository.
pub fn require_git_repo(dir: &Path) -> Result<(), WorkspaceError> {
    if inside_git_repo(dir) {
        Ok(())
    } else {
        Err(WorkspaceError::NotInGitRepo(dir.display().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_is_found_from_any_subdirectory() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert!(
            !inside_git_repo(&deep),
            "the temp dir must not sit in a repository"
        );
        std::fs::create_dir(root.path().join(".git")).unwrap();
        assert!(inside_git_repo(&deep));
        require_git_repo(&deep).unwrap();
    }

    #[test]
    fn a_gitfile_counts_as_a_repository() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join(".git"), "gitdir: /elsewhere\n").unwrap();
        assert!(inside_git_repo(root.path()));
    }

    #[test]
    fn outside_a_repository_the_error_says_why_and_how_to_proceed() {
        let root = tempfile::tempdir().unwrap();
        let e = require_git_repo(root.path()).unwrap_err().to_string();
        assert!(
            e.contains("--skip-git-repo-check") && e.contains("Git repository"),
            "{e}"
        );
    }

    #[test]
    fn missing_paths_are_named() {
        let e = existing_path(Path::new("/no/such/dir"), "working directory").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("working directory /no/such/dir: "),
            "{e}"
        );
    }
}
