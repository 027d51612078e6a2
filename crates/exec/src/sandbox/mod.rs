//! Building the sandbox for one command, in the parent, before fork.
//!
//! Everything that allocates or touches the filesystem namespace is done
//! here: the Landlock ruleset is created and filled (we keep its fd), the
//! seccomp BPF program is compiled, and the mount plan for read-only subpaths
//! is turned into C strings. The child then only issues raw syscalls
//! (see `crate::sys`), which keeps the pre-exec hook async-signal-safe.
//!
//! Layers:
//! * **Landlock** (filesystem): read/execute everywhere; full access beneath
//!   each writable root and on `/dev/null`. Landlock grants are inherited by
//!   the whole subtree and cannot exclude a subdirectory, so
//! * **a private mount namespace** re-mounts each read-only subpath (`.git`,
//!   `.codex`, `.agents`) as a read-only bind mount. Writes there fail with
//!   `EROFS` even though Landlock would allow them. As root this needs only
//!   `CLONE_NEWNS`; otherwise a user namespace mapping our own uid/gid is
//!   created first. Mount changes stay private to the child.
//! * **seccomp** (network, when disabled): `socket`/`socketpair` fail with
//!   `EPERM` unless the domain is `AF_UNIX`, and io_uring (which can create
//!   sockets without `socket(2)`) is refused.

mod landlock_rules;
mod seccomp;

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::policy::{writable_roots, SandboxPolicy};
use crate::sys::{self, ChildSetup, MountPlan};
use crate::types::ExecError;

/// What the running kernel offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSupport {
    /// Landlock ABI version, `None` when Landlock is unavailable.
    pub landlock_abi: Option<i32>,
    /// Whether sandboxed policies can be enforced here.
    pub available: bool,
    /// Why not, when `available` is false.
    pub reason: Option<String>,
}

/// Probe the kernel for Landlock support.
pub fn sandbox_support() -> SandboxSupport {
    match sys::landlock_abi_version() {
        Ok(abi) if abi >= 1 => SandboxSupport {
            landlock_abi: Some(abi),
            available: true,
            reason: None,
        },
        Ok(abi) => SandboxSupport {
            landlock_abi: None,
            available: false,
            reason: Some(format!("unexpected Landlock ABI version {abi}")),
        },
        Err(err) => SandboxSupport {
            landlock_abi: None,
            available: false,
            reason: Some(format!("Landlock is not available on this kernel: {err}")),
        },
    }
}

/// The prepared sandbox. `setup` is moved into the pre-exec hook; `_ruleset`
/// keeps the Landlock fd that `setup` refers to open until spawn returns.
pub(crate) struct PreparedSandbox {
    pub(crate) setup: ChildSetup,
    pub(crate) _ruleset: Option<OwnedFd>,
}

/// Build everything the child needs for `policy`. `terminal` is the pty
/// slave the command runs on, if any: it (and `/dev/tty`, which names it
/// inside the command) stays writable, or programs that reopen their
/// terminal (pagers, password prompts, editors) would fail under Landlock.
pub(crate) fn prepare(
    policy: &SandboxPolicy,
    cwd: &Path,
    terminal: Option<&Path>,
) -> Result<PreparedSandbox, ExecError> {
    let mut setup = ChildSetup::new(sys::current_pid());
    if matches!(policy, SandboxPolicy::DangerFullAccess) {
        return Ok(PreparedSandbox {
            setup,
            _ruleset: None,
        });
    }
    let support = sandbox_support();
    let abi = match (support.available, support.landlock_abi) {
        (true, Some(abi)) => abi,
        _ => {
            return Err(ExecError::SandboxUnavailable(
                support
                    .reason
                    .unwrap_or_else(|| "Landlock unavailable".to_string()),
            ))
        }
    };
    let roots = writable_roots(policy, cwd);
    let root_paths: Vec<PathBuf> = roots.iter().map(|r| r.root.clone()).collect();
    let devices: Vec<&Path> = match terminal {
        Some(slave) => vec![Path::new("/dev/null"), Path::new("/dev/tty"), slave],
        None => vec![Path::new("/dev/null")],
    };
    let ruleset = landlock_rules::build(abi, &root_paths, &devices)?;
    setup.landlock_fd = Some(std::os::fd::AsRawFd::as_raw_fd(&ruleset));

    let protected: Vec<PathBuf> = roots
        .iter()
        .flat_map(|r| r.read_only_subpaths.iter().cloned())
        .collect();
    if !protected.is_empty() {
        setup.mounts = Some(mount_plan(&protected)?);
    }
    if !policy.has_full_network_access() {
        setup.seccomp = Some(seccomp::network_filter()?);
    }
    Ok(PreparedSandbox {
        setup,
        _ruleset: Some(ruleset),
    })
}

fn mount_plan(paths: &[PathBuf]) -> Result<MountPlan, ExecError> {
    let mut targets = Vec::with_capacity(paths.len());
    for path in paths {
        let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
            ExecError::SandboxSetup(format!("path contains NUL: {}", path.display()))
        })?;
        // Remounting a bind mount read-only must repeat the flags the
        // underlying mount already has (they are locked in a user namespace).
        let flags = sys::mount_flags_of(&c_path)
            .map_err(|e| ExecError::SandboxSetup(format!("statvfs {}: {e}", path.display())))?;
        targets.push((c_path, flags));
    }
    let (uid, gid) = sys::current_ids();
    let user_namespace = if uid == 0 {
        None
    } else {
        Some((
            format!("{uid} {uid} 1\n").into_bytes(),
            format!("{gid} {gid} 1\n").into_bytes(),
        ))
    };
    Ok(MountPlan {
        targets,
        user_namespace,
    })
}
