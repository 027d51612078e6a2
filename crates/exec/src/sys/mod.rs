//! Every `unsafe` operation of the crate lives under this module, each with a
//! `// SAFETY:` note; the rest of the crate denies `unsafe_code`.
//!
//! * [`child`]: the pre-exec hook (session, controlling tty, namespaces,
//!   Landlock, seccomp) that runs between fork and exec.
//! * [`pty`]: opening a pseudo-terminal pair and sizing it.
//! * `raw`: turning raw syscall results into `io::Result`.
//! * here: process-group signalling and small raw syscalls.

mod child;
pub(crate) mod pty;
mod raw;

use std::ffi::CString;
use std::io;

pub(crate) use child::{install_child_setup, ChildSetup, MountPlan};
pub(crate) use raw::check;

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
