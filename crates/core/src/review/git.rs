//! Git, as a review needs it: the repository root, commits named by the client, the merge base
//! with a branch, the working tree's diff against a commit (untracked files included as new
//! files), and one commit's patch.
//!
//! Every command runs with a timeout and the runtime's cancellation, inside a read-only sandbox
//! where the kernel has one, with its output bounded. Repository settings that would run other
//! programs (`core.fsmonitor`, external diff drivers, textconv filters) are switched off, and
//! no optional lock is taken, so a review never changes the repository.

use crate::error::CoreError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

/// How long one git command may run.
const GIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Output kept from commands that print names, hashes or lists.
const SMALL_OUTPUT_BYTES: usize = 1024 * 1024;
/// Untracked files shown in a diff; the others are only counted.
const MAX_UNTRACKED_FILES: usize = 500;

/// A diff cut to a byte budget.
#[derive(Debug, Default)]
pub struct BoundedDiff {
    pub text: String,
    /// True when the budget cut something off (the text then ends at a line boundary).
    pub truncated: bool,
}

impl BoundedDiff {
    /// Appends `more`, cutting it at a line boundary when it does not fit in `budget` bytes.
    fn push(&mut self, more: &str, budget: usize) {
        let room = budget.saturating_sub(self.text.len());
        if more.len() <= room {
            self.text.push_str(more);
            return;
        }
        self.truncated = true;
        let mut cut = room;
        while !more.is_char_boundary(cut) {
            cut -= 1;
        }
        let cut = more[..cut].rfind('\n').map_or(0, |i| i + 1);
        self.text.push_str(&more[..cut]);
    }

    fn full(&self, budget: usize) -> bool {
        self.truncated || self.text.len() >= budget
    }
}

/// A git work tree, addressed from its root.
pub struct Repo<'a> {
    pub root: PathBuf,
    cancel: &'a CancellationToken,
}

struct GitOutput {
    success: bool,
    stdout: String,
    stderr: String,
}

impl<'a> Repo<'a> {
    /// The repository `cwd` is in.
    ///
    /// # Errors
    /// [`CoreError::InvalidRequest`] when `cwd` is not inside a git work tree.
    pub async fn open(cwd: &Path, cancel: &'a CancellationToken) -> Result<Repo<'a>, CoreError> {
        if !cwd.is_dir() {
            return Err(CoreError::InvalidRequest(format!(
                "cannot review: the thread's working directory {} does not exist",
                cwd.display()
            )));
        }
        let out = run_git(
            cwd,
            &["rev-parse", "--show-toplevel"],
            SMALL_OUTPUT_BYTES,
            cancel,
        )
        .await?;
        let root = out.stdout.trim_end_matches('\n');
        if !out.success || root.is_empty() {
            return Err(CoreError::InvalidRequest(format!(
                "cannot review: {} is not in a git repository ({})",
                cwd.display(),
                first_line(&out.stderr)
            )));
        }
        Ok(Repo {
            root: PathBuf::from(root),
            cancel,
        })
    }

    async fn git(&self, args: &[&str], cap: usize) -> Result<GitOutput, CoreError> {
        run_git(&self.root, args, cap, self.cancel).await
    }

    /// The full hash of the commit `rev` names, or `None` when it names none.
    pub async fn resolve_commit(&self, rev: &str) -> Result<Option<String>, CoreError> {
        // A name starting with `-` would be read as an option.
        if rev.starts_with('-') || rev.contains('\0') {
            return Ok(None);
        }
        let spec = format!("{rev}^{{commit}}");
        let out = self
            .git(
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    "--end-of-options",
                    &spec,
                ],
                SMALL_OUTPUT_BYTES,
            )
            .await?;
        let hash = out.stdout.trim();
        Ok((out.success && !hash.is_empty()).then(|| hash.to_string()))
    }

    /// The best common ancestor of two commits.
    ///
    /// # Errors
    /// [`CoreError::InvalidRequest`] when they share no history.
    pub async fn merge_base(&self, a: &str, b: &str) -> Result<String, CoreError> {
        let out = self
            .git(
                &["merge-base", "--end-of-options", a, b],
                SMALL_OUTPUT_BYTES,
            )
            .await?;
        let hash = out.stdout.trim();
        if !out.success || hash.is_empty() {
            return Err(CoreError::InvalidRequest(format!(
                "cannot review: {a} and {b} have no common ancestor"
            )));
        }
        Ok(hash.to_string())
    }

    /// The working tree (tracked files) against commit or tree `base`, within `budget` bytes.
    pub async fn diff_against(&self, base: &str, budget: usize) -> Result<BoundedDiff, CoreError> {
        // Twice the budget: the capture keeps a head and a tail, and only the head is used.
        let out = self
            .git(
                &[
                    "diff",
                    "--no-color",
                    "--no-ext-diff",
                    "--no-textconv",
                    "--end-of-options",
                    base,
                    "--",
                ],
                budget.saturating_mul(2),
            )
            .await?;
        if !out.success {
            return Err(git_failed("diff", &out));
        }
        let mut diff = BoundedDiff::default();
        diff.push(&out.stdout, budget);
        Ok(diff)
    }

    /// Staged, unstaged and untracked changes against `HEAD` (against nothing before the first
    /// commit), within `budget` bytes. Untracked files are shown as new files, as `git add`
    /// would make them; files `.gitignore` excludes are left out.
    pub async fn uncommitted(&self, budget: usize) -> Result<BoundedDiff, CoreError> {
        let base = match self.resolve_commit("HEAD").await? {
            Some(head) => head,
            None => self.empty_tree().await?,
        };
        let mut diff = self.diff_against(&base, budget).await?;
        let untracked = self.untracked().await?;
        let mut skipped = 0usize;
        for (shown, path) in untracked.iter().enumerate() {
            if diff.full(budget) || shown >= MAX_UNTRACKED_FILES {
                skipped = untracked.len() - shown;
                break;
            }
            let room = budget.saturating_sub(diff.text.len());
            if let Some(patch) = new_file_patch(&self.root, path, room).await {
                diff.push(&patch, budget);
            }
        }
        if skipped > 0 {
            diff.truncated = true;
            diff.text.push_str(&format!(
                "[{skipped} more untracked file(s) not shown; `git ls-files --others --exclude-standard` lists them]\n"
            ));
        }
        Ok(diff)
    }

    /// The patch commit `sha` introduced (against its first parent), with its message.
    pub async fn show(&self, sha: &str, budget: usize) -> Result<BoundedDiff, CoreError> {
        let out = self
            .git(
                &[
                    "show",
                    "--no-color",
                    "--no-ext-diff",
                    "--no-textconv",
                    "--format=medium",
                    "-m",
                    "--first-parent",
                    "--end-of-options",
                    sha,
                    "--",
                ],
                budget.saturating_mul(2),
            )
            .await?;
        if !out.success {
            return Err(git_failed("show", &out));
        }
        let mut diff = BoundedDiff::default();
        diff.push(&out.stdout, budget);
        Ok(diff)
    }

    /// Untracked, not ignored files, relative to the root.
    async fn untracked(&self) -> Result<Vec<String>, CoreError> {
        let out = self
            .git(
                &["ls-files", "-z", "--others", "--exclude-standard"],
                SMALL_OUTPUT_BYTES,
            )
            .await?;
        if !out.success {
            return Err(git_failed("ls-files", &out));
        }
        Ok(out
            .stdout
            .split('\0')
            // Nested repositories are listed as directories (`dir/`); their content is theirs.
            .filter(|p| !p.is_empty() && !p.ends_with('/'))
            .map(str::to_string)
            .collect())
    }

    /// The hash of the empty tree (it differs between SHA-1 and SHA-256 repositories).
    async fn empty_tree(&self) -> Result<String, CoreError> {
        // stdin is /dev/null: the hash of an empty tree object, which is not written.
        let out = self
            .git(
                &["hash-object", "-t", "tree", "--stdin"],
                SMALL_OUTPUT_BYTES,
            )
            .await?;
        let hash = out.stdout.trim();
        if !out.success || hash.is_empty() {
            return Err(git_failed("hash-object", &out));
        }
        Ok(hash.to_string())
    }
}

/// An untracked file as a new-file patch, reading at most `room` bytes of it. `None` for what
/// is not a regular file or a symlink (it vanished, or is a socket).
async fn new_file_patch(root: &Path, path: &str, room: usize) -> Option<String> {
    let full = root.join(path);
    let meta = tokio::fs::symlink_metadata(&full).await.ok()?;
    let header = |mode: &str| {
        format!("diff --git a/{path} b/{path}\nnew file mode {mode}\n--- /dev/null\n+++ b/{path}\n")
    };
    if meta.file_type().is_symlink() {
        let target = tokio::fs::read_link(&full).await.ok()?;
        return Some(format!(
            "{}@@ -0,0 +1 @@\n+{}\n\\ No newline at end of file\n",
            header("120000"),
            target.display()
        ));
    }
    if !meta.is_file() {
        return None;
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = if meta.permissions().mode() & 0o111 != 0 {
        "100755"
    } else {
        "100644"
    };
    let mut bytes = Vec::new();
    let file = tokio::fs::File::open(&full).await.ok()?;
    // One byte over the room tells a file that fits from one that does not.
    let limit = u64::try_from(room).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit).read_to_end(&mut bytes).await.ok()?;
    if bytes.contains(&0) {
        return Some(format!(
            "diff --git a/{path} b/{path}\nnew file mode {mode}\nBinary file b/{path} ({} bytes) not shown\n",
            meta.len()
        ));
    }
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let mut patch = header(mode);
    if lines.is_empty() {
        return Some(patch);
    }
    patch.push_str(&format!("@@ -0,0 +1,{} @@\n", lines.len()));
    for line in &lines {
        patch.push('+');
        patch.push_str(line);
        patch.push('\n');
    }
    if !text.ends_with('\n') {
        patch.push_str("\\ No newline at end of file\n");
    }
    Some(patch)
}

async fn run_git(
    cwd: &Path,
    args: &[&str],
    cap: usize,
    cancel: &CancellationToken,
) -> Result<GitOutput, CoreError> {
    let mut argv: Vec<String> = [
        "git",
        "-c",
        "core.fsmonitor=false",
        "-c",
        "core.quotepath=off",
        "-c",
        "color.ui=false",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.extend(args.iter().map(|s| s.to_string()));
    let sandbox = if codex_exec::sandbox_support().available {
        codex_exec::SandboxPolicy::ReadOnly {
            network_access: false,
        }
    } else {
        // Git is our own read-only command with program-running settings off; without a
        // kernel sandbox it still runs, unlike the model's commands.
        codex_exec::SandboxPolicy::DangerFullAccess
    };
    let request = codex_exec::ExecRequest {
        argv,
        cwd: cwd.to_path_buf(),
        env: git_env(),
        timeout: Some(GIT_TIMEOUT),
        output_cap_bytes: cap.max(1),
        sandbox,
    };
    let command = args.first().copied().unwrap_or("git");
    match codex_exec::run(request, None, cancel.clone()).await {
        Ok(out) if out.timed_out => Err(CoreError::Internal(format!(
            "git {command} did not finish within {} s",
            GIT_TIMEOUT.as_secs()
        ))),
        Ok(out) => Ok(GitOutput {
            success: out.exit_code == 0,
            stdout: out.stdout,
            stderr: out.stderr,
        }),
        Err(codex_exec::ExecError::Cancelled { .. }) => Err(CoreError::Internal(
            "the review was cancelled: the server is shutting down".into(),
        )),
        Err(e) => Err(CoreError::Internal(format!(
            "cannot run git {command}: {e}"
        ))),
    }
}

/// The environment git runs with: enough to find it and the user's configuration, nothing
/// that points it elsewhere (an inherited `GIT_DIR` would review another repository).
fn git_env() -> HashMap<String, String> {
    let mut env: HashMap<String, String> = ["PATH", "HOME", "USER", "XDG_CONFIG_HOME", "LANG"]
        .iter()
        .filter_map(|k| Some((k.to_string(), std::env::var(k).ok()?)))
        .collect();
    for (k, v) in [
        ("GIT_OPTIONAL_LOCKS", "0"),
        ("GIT_TERMINAL_PROMPT", "0"),
        ("GIT_PAGER", "cat"),
        ("NO_COLOR", "1"),
    ] {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

fn git_failed(command: &str, out: &GitOutput) -> CoreError {
    CoreError::Internal(format!("git {command} failed: {}", first_line(&out.stderr)))
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_diff_cuts_at_a_line_boundary() {
        let mut d = BoundedDiff::default();
        d.push("one\ntwo\n", 10);
        assert!(!d.truncated);
        d.push("three\nfour\n", 10);
        assert!(d.truncated);
        assert_eq!(d.text, "one\ntwo\n");
        assert!(d.full(10));
    }

    #[tokio::test]
    async fn untracked_files_become_new_file_patches() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "x\ny").unwrap();
        std::fs::write(dir.path().join("bin"), [0u8, 1, 2]).unwrap();
        let patch = new_file_patch(dir.path(), "a.txt", 1000).await.unwrap();
        assert_eq!(
            patch,
            "diff --git a/a.txt b/a.txt\nnew file mode 100644\n--- /dev/null\n+++ b/a.txt\n\
             @@ -0,0 +1,2 @@\n+x\n+y\n\\ No newline at end of file\n"
        );
        let binary = new_file_patch(dir.path(), "bin", 1000).await.unwrap();
        assert!(
            binary.contains("Binary file b/bin (3 bytes) not shown"),
            "{binary}"
        );
        assert!(new_file_patch(dir.path(), "gone", 1000).await.is_none());
    }
}
