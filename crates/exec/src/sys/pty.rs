//! Opening a pseudo-terminal pair and reading or setting its window size.
//!
//! The master is opened non-blocking and close-on-exec (only we use it); the
//! slave is opened close-on-exec too: std dup2()s it onto the child's fds
//! 0-2, which clears the flag on those copies only.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use super::raw::check;
use crate::types::TerminalSize;

/// A fresh pseudo-terminal: `master` for us, `slave` for the child.
pub(crate) struct PtyPair {
    pub(crate) master: File,
    pub(crate) slave: OwnedFd,
}

/// Open a pty pair with its window set to `size`.
pub(crate) fn open_pty(size: TerminalSize) -> io::Result<PtyPair> {
    // O_NOCTTY: opening the master must never make it our controlling tty.
    let master = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open("/dev/ptmx")?;
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one c_int through the pointer, which outlives
    // the call; the fd is our open master.
    check(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })?;
    let slave = open_slave(&master)?;
    set_window_size(master.as_fd(), size)?;
    Ok(PtyPair { master, slave })
}

fn open_slave(master: &File) -> io::Result<OwnedFd> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: TIOCGPTPEER takes open flags as an integer and returns a new
    // fd for the slave of this master (no path lookup, so no race).
    let fd = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) };
    if fd >= 0 {
        // SAFETY: the kernel just returned this fd; nothing else owns it.
        return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    // Kernels before 4.13 lack TIOCGPTPEER: open the slave by its number.
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one c_uint into `number`, which we own.
    check(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) })?;
    let slave = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(format!("/dev/pts/{number}"))?;
    Ok(slave.into())
}

/// Set the window size of the terminal behind `fd` (master or slave). The
/// kernel sends SIGWINCH to the terminal's foreground process group.
pub(crate) fn set_window_size(fd: BorrowedFd<'_>, size: TerminalSize) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: size.rows,
        ws_col: size.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` through the pointer, which
    // outlives the call.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) })
}

/// The window size of the terminal behind `fd`.
pub(crate) fn window_size(fd: BorrowedFd<'_>) -> io::Result<TerminalSize> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into `ws`, which we own.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) })?;
    Ok(TerminalSize {
        rows: ws.ws_row,
        cols: ws.ws_col,
    })
}

/// Register the master with tokio's reactor for async reads and writes.
/// Must run inside a tokio runtime.
pub(crate) fn register_master(master: File) -> io::Result<tokio::io::unix::AsyncFd<File>> {
    // SAFETY: the `File` owns its fd, so the fd stays open and refers to the
    // same file description for as long as the `AsyncFd` (which owns the
    // `File`) lives, and `as_raw_fd` always returns that same fd.
    let registered = unsafe { tokio::io::unix::AsyncFd::register(master) };
    registered.map_err(|err| err.into())
}
