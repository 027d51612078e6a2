//! Probes of processes we did not start ourselves: whether one exits within a bound (waited on
//! through a pidfd, so no polling loop) and how much memory one holds.

use std::os::fd::{FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Whether process `pid` has exited (or is already gone) within `timeout`. A zombie counts as
/// exited: it runs no code and holds no resources but its table entry.
pub async fn exits_within(pid: u32, timeout: Duration) -> bool {
    tokio::task::spawn_blocking(move || wait_exit_blocking(pid, timeout))
        .await
        .expect("pidfd wait task")
}

fn wait_exit_blocking(pid: u32, timeout: Duration) -> bool {
    let raw_pid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
    // SAFETY: pidfd_open takes a pid and a flags word; no pointers.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw_pid, 0) };
    if fd < 0 {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    let fd = i32::try_from(fd).expect("fd fits i32");
    // SAFETY: `fd` was just returned by pidfd_open and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd, count 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, millis) };
        if rc < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        drop(owned);
        return rc > 0;
    }
}

/// Resident set size of `pid` in KiB (`VmRSS`), or the peak (`VmHWM`) with `peak`.
pub fn rss_kib(pid: u32, peak: bool) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/status: {e}"));
    let key = if peak { "VmHWM:" } else { "VmRSS:" };
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}
