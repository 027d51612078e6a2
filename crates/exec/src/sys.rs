//! Every `unsafe` operation of the crate: the pre-exec child setup, process
//! group signalling, and a few raw syscalls.
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
}

impl ChildSetup {
    pub(crate) fn new(parent_pid: libc::pid_t) -> Self {
        Self {
            parent_pid,
            landlock_fd: None,
            seccomp: None,
            mounts: None,
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

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn check_long(rc: libc::c_long) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Install `setup` as the pre-exec hook of `command`.
pub(crate) fn install_child_setup(command: &mut Command, setup: ChildSetup) {
    // SAFETY: `ChildSetup::apply` only performs async-signal-safe syscalls
    // on data prepared before the fork (see the module comment).
    unsafe {
        command.pre_exec(move || setup.apply());
    }
}

/// SIGKILL every process in group `pgid`. A group that is already gone is fine.
pub(crate) fn kill_process_group(pgid: u32) -> io::Result<()> {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    if pgid <= 1 {
        // Never signal group 0 (ours) or -1 (everything).
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: kill takes integers only; a negative pid addresses the group.
    let rc = unsafe { libc::kill(-pgid, libc::SIGKILL) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            return Ok(());
        }
        return Err(err);
    }
    Ok(())
}

/// The running kernel's Landlock ABI version.
pub(crate) fn landlock_abi_version() -> io::Result<i32> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: a null attr with size 0 and the VERSION flag is the documented
    // way to query the ABI; nothing is written through the pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    i32::try_from(rc).map_err(|_| io::Error::from_raw_os_error(libc::ERANGE))
}

/// The `MS_*` flags of the mount containing `path` (as reported by statvfs).
pub(crate) fn mount_flags_of(path: &CString) -> io::Result<libc::c_ulong> {
    // SAFETY: statvfs writes into the zeroed struct we own; `path` is NUL-terminated.
    let st = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        check(libc::statvfs(path.as_ptr(), &mut st))?;
        st
    };
    let mut flags = 0;
    for (st_flag, ms_flag) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if st.f_flag & st_flag != 0 {
            flags |= ms_flag;
        }
    }
    Ok(flags)
}

pub(crate) fn current_pid() -> libc::pid_t {
    // SAFETY: getpid cannot fail and takes no arguments.
    unsafe { libc::getpid() }
}

pub(crate) fn current_ids() -> (libc::uid_t, libc::gid_t) {
    // SAFETY: geteuid/getegid cannot fail and take no arguments.
    unsafe { (libc::geteuid(), libc::getegid()) }
}
