//! Sandbox policies and the writable roots they grant.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How much a command may touch. Serialised like the protocol
/// (`{"type":"workspace-write",...}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SandboxPolicy {
    /// No sandbox at all.
    DangerFullAccess,
    /// Read everything, write nothing (except `/dev/null`).
    ReadOnly {
        #[serde(default)]
        network_access: bool,
    },
    /// Read everything, write only the writable roots (see [`writable_roots`]).
    WorkspaceWrite {
        #[serde(default)]
        writable_roots: Vec<PathBuf>,
        #[serde(default)]
        network_access: bool,
        #[serde(default)]
        exclude_tmpdir_env_var: bool,
        #[serde(default)]
        exclude_slash_tmp: bool,
    },
}

impl SandboxPolicy {
    pub fn has_full_network_access(&self) -> bool {
        match self {
            SandboxPolicy::DangerFullAccess => true,
            SandboxPolicy::ReadOnly { network_access }
            | SandboxPolicy::WorkspaceWrite { network_access, .. } => *network_access,
        }
    }

    pub fn has_full_disk_write_access(&self) -> bool {
        matches!(self, SandboxPolicy::DangerFullAccess)
    }
}

/// A directory tree that may be written, minus read-only subpaths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritableRoot {
    pub root: PathBuf,
    /// Existing paths under `root` that stay read-only (`.git` and friends).
    pub read_only_subpaths: Vec<PathBuf>,
}

impl WritableRoot {
    /// Whether `path` (absolute, normalised) is under the root and not under a
    /// read-only subpath.
    pub fn is_path_writable(&self, path: &Path) -> bool {
        path.starts_with(&self.root) && !self.read_only_subpaths.iter().any(|p| path.starts_with(p))
    }
}

/// The writable roots of `policy` for a command running in `cwd`.
///
/// Workspace-write grants the configured roots, `cwd`, `/tmp` (unless
/// excluded) and `$TMPDIR` (if set and not excluded). Other policies return no
/// roots: read-only grants nothing and full access needs no list. Roots are
/// canonicalised when they exist, so they match what the kernel sees.
pub fn writable_roots(policy: &SandboxPolicy, cwd: &Path) -> Vec<WritableRoot> {
    let SandboxPolicy::WorkspaceWrite {
        writable_roots,
        exclude_tmpdir_env_var,
        exclude_slash_tmp,
        ..
    } = policy
    else {
        return Vec::new();
    };
    let mut candidates: Vec<PathBuf> = writable_roots
        .iter()
        .map(|r| {
            if r.is_absolute() {
                r.clone()
            } else {
                cwd.join(r)
            }
        })
        .collect();
    candidates.push(cwd.to_path_buf());
    let slash_tmp = Path::new("/tmp");
    if !exclude_slash_tmp && slash_tmp.is_dir() {
        candidates.push(slash_tmp.to_path_buf());
    }
    if !exclude_tmpdir_env_var {
        if let Some(tmpdir) = std::env::var_os("TMPDIR").filter(|v| !v.is_empty()) {
            candidates.push(PathBuf::from(tmpdir));
        }
    }
    let mut roots: Vec<WritableRoot> = Vec::new();
    for candidate in candidates {
        let root = candidate.canonicalize().unwrap_or(candidate);
        if roots.iter().any(|r| r.root == root) {
            continue;
        }
        let read_only_subpaths = protected_subpaths(&root);
        roots.push(WritableRoot {
            root,
            read_only_subpaths,
        });
    }
    roots
}

/// `.git` (directory or worktree pointer file, plus the `gitdir:` target it
/// names), `.codex` and `.agents` directories under `root`, if they exist.
fn protected_subpaths(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let git = root.join(".git");
    if git.is_dir() {
        out.push(git);
    } else if git.is_file() {
        if let Some(target) = std::fs::read_to_string(&git).ok().and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("gitdir:").map(|t| t.trim().to_string()))
        }) {
            let target = root.join(target);
            if let Ok(target) = target.canonicalize() {
                out.push(target);
            }
        }
        out.push(git);
    }
    for name in [".codex", ".agents"] {
        let p = root.join(name);
        if p.is_dir() {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_shape() {
        let p: SandboxPolicy =
            serde_json::from_str(r#"{"type":"workspace-write","network_access":true}"#).unwrap();
        assert_eq!(
            p,
            SandboxPolicy::WorkspaceWrite {
                writable_roots: vec![],
                network_access: true,
                exclude_tmpdir_env_var: false,
                exclude_slash_tmp: false
            }
        );
        let s = serde_json::to_string(&SandboxPolicy::ReadOnly {
            network_access: false,
        })
        .unwrap();
        assert_eq!(s, r#"{"type":"read-only","network_access":false}"#);
        let d: SandboxPolicy = serde_json::from_str(r#"{"type":"danger-full-access"}"#).unwrap();
        assert_eq!(d, SandboxPolicy::DangerFullAccess);
    }

    #[test]
    fn roots_include_cwd_tmp_and_protect_git() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().canonicalize().unwrap();
        std::fs::create_dir(cwd.join(".git")).unwrap();
        let extra = cwd.join("extra");
        std::fs::create_dir(&extra).unwrap();
        std::fs::write(extra.join(".git"), "gitdir: ../.git\n").unwrap();
        let policy = SandboxPolicy::WorkspaceWrite {
            writable_roots: vec![extra.clone()],
            network_access: false,
            exclude_tmpdir_env_var: true,
            exclude_slash_tmp: false,
        };
        let roots = writable_roots(&policy, &cwd);
        let cwd_root = roots.iter().find(|r| r.root == cwd).unwrap();
        assert_eq!(cwd_root.read_only_subpaths, vec![cwd.join(".git")]);
        assert!(cwd_root.is_path_writable(&cwd.join("src/x")));
        assert!(!cwd_root.is_path_writable(&cwd.join(".git/config")));
        let extra_root = roots.iter().find(|r| r.root == extra).unwrap();
        assert!(extra_root.read_only_subpaths.contains(&extra.join(".git")));
        assert!(extra_root.read_only_subpaths.contains(&cwd.join(".git")));
        assert!(roots
            .iter()
            .any(|r| r.root == Path::new("/tmp").canonicalize().unwrap()));
        assert!(writable_roots(
            &SandboxPolicy::ReadOnly {
                network_access: false
            },
            &cwd
        )
        .is_empty());
    }
}
