//! The pre-exec child setup: what a spawned command does between fork and
//! exec (own session, controlling terminal, namespaces, Landlock, seccomp).
//!
//! The pre-exec hook runs in the forked child of a multi-threaded parent, so
//! it may only call async-signal-safe functions: no allocation, no locks, no
//! formatting. All data it needs (ruleset fd, BPF program, C strings, uid map
//! lines) is prepared by the parent in [`ChildSetup`] before the fork, and the
//! hook only reads it and issues raw syscalls.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

use tokio::process::Command;

use super::raw::{check, check_long};

/// Read-only bind mounts to create in a private mount namespace.
pub(crate) struct MountPlan {
    /// Absolute path and the `MS_*` flags its current mount already has.
    pub(crate) targets: Vec<(CString, libc::c_ulong)>,
    /// `uid_map` / `gid_map` contents when a user namespace is needed (non-root).
    pub(crate) user_namespace: Option<(Vec<u8>, Vec<u8>)>,
}

/// Everything the child does between fork and exec.
pub(crate) struct ChildSetup {
    parent_pid: libc::pid_t,
    pub(crate) landlock_fd: Option<RawFd>,
    pub(crate) seccomp: Option<seccompiler::BpfProgram>,
    pub(crate) mounts: Option<MountPlan>,
    /// Make stdin (a pseudo-terminal slave) the controlling terminal of the
    /// new session, so job control, `/dev/tty` and SIGHUP-on-hangup work.
    pub(crate) controlling_tty: bool,
}

impl ChildSetup {
    pub(crate) fn new(parent_pid: libc::pid_t) -> Self {
        Self {
            parent_pid,
            landlock_fd: None,
            seccomp: None,
            mounts: None,
            controlling_tty: false,
        }
    }

    /// Runs in the child. Order matters: mounts need privileges Landlock
    /// would take away, and seccomp goes last so nothing above is filtered.
    fn apply(&self) -> io::Result<()> {
        // SAFETY: setsid/prctl/getppid are async-signal-safe syscalls with
        // no pointer arguments.
        unsafe {
            // Own session and process group (pgid == pid) so the whole tree
            // can be killed with one kill(-pgid).
            check(libc::setsid())?;
            check(libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ))?;
            // The parent may have died before PDEATHSIG was armed.
            if libc::getppid() != self.parent_pid {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
        }
        if self.controlling_tty {
            // SAFETY: ioctl on fd 0 with an integer argument. std has already
            // dup2'd the pty slave onto fd 0, and setsid above made us a
            // session leader without a controlling terminal, as TIOCSCTTY
            // requires. Done before Landlock, which could restrict ioctls.
            check(unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) })?;
        }
        if let Some(plan) = &self.mounts {
            apply_mounts(plan)?;
        }
        if self.landlock_fd.is_some() || self.seccomp.is_some() {
            // SAFETY: plain prctl with integer arguments.
            check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) })?;
        }
        if let Some(fd) = self.landlock_fd {
            // SAFETY: `fd` is a Landlock ruleset fd kept open by the parent
            // (inherited across fork); the syscall takes no pointers.
            let rc = unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) };
            check_long(rc)?;
        }
        if let Some(program) = &self.seccomp {
            let fprog = SockFprog {
                len: program.len() as u16,
                filter: program.as_ptr(),
            };
            // SAFETY: `fprog` points at the BPF program owned by `self`,
            // alive for the duration of the call; the kernel copies it.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER as libc::c_ulong,
                    0 as libc::c_ulong,
                    &fprog as *const SockFprog,
                )
            };
            check_long(rc)?;
        }
        Ok(())
    }
}

/// Layout of the kernel's `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const seccompiler::sock_filter,
}

fn apply_mounts(plan: &MountPlan) -> io::Result<()> {
    let mut flags = libc::CLONE_NEWNS;
    if plan.user_namespace.is_some() {
        flags |= libc::CLONE_NEWUSER;
    }
    // SAFETY: unshare takes only flags.
    check(unsafe { libc::unshare(flags) })?;
    if let Some((uid_map, gid_map)) = &plan.user_namespace {
        write_proc_file(c"/proc/self/setgroups", b"deny")?;
        write_proc_file(c"/proc/self/uid_map", uid_map)?;
        write_proc_file(c"/proc/self/gid_map", gid_map)?;
    }
    let root = c"/";
    // SAFETY: all pointers are NUL-terminated strings that outlive the calls
    // (static literals or CStrings owned by `plan`); null fstype/data are allowed.
    unsafe {
        // Keep our mount changes from propagating back to the host.
        check(libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ))?;
        for (path, existing) in &plan.targets {
            check(libc::mount(
                path.as_ptr(),
                path.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                std::ptr::null(),
                path.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | existing,
                std::ptr::null(),
            ))?;
        }
    }
    Ok(())
}

fn write_proc_file(path: &std::ffi::CStr, contents: &[u8]) -> io::Result<()> {
    // SAFETY: `path` is NUL-terminated; `contents` is a valid buffer of the
    // given length; the fd is closed on every path.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        check(fd)?;
        let written = libc::write(fd, contents.as_ptr().cast(), contents.len());
        let write_err = io::Error::last_os_error();
        libc::close(fd);
        if written < 0 {
            return Err(write_err);
        }
    }
    Ok(())
}

/// Install `setup` as the pre-exec hook of `command`.
pub(crate) fn install_child_setup(command: &mut Command, setup: ChildSetup) {
    // SAFETY: `ChildSetup::apply` only performs async-signal-safe syscalls
    // on data prepared before the fork (see the module comment).
    unsafe {
        command.pre_exec(move || setup.apply());
    }
}
