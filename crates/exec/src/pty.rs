//! The master side of a command's pseudo-terminal: async reads and writes on
//! a non-blocking fd registered with tokio, and window-size control.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;

use tokio::io::unix::AsyncFd;

use crate::sys;
use crate::types::TerminalSize;

pub(crate) struct PtyMaster {
    fd: AsyncFd<File>,
}

impl PtyMaster {
    /// Wrap an open, non-blocking master. Needs a tokio runtime.
    pub(crate) fn new(master: File) -> io::Result<Self> {
        Ok(PtyMaster {
            fd: sys::pty::register_master(master)?,
        })
    }

    /// Read what the terminal has. `Ok(0)` means hangup: Linux reports EIO
    /// once every process has closed the slave and the buffer is drained.
    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| fd.get_ref().read(buf)) {
                Ok(Err(err)) if err.raw_os_error() == Some(libc::EIO) => return Ok(0),
                Ok(Err(err)) if err.kind() == io::ErrorKind::Interrupted => continue,
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Write all of `bytes` as terminal input (the line discipline echoes
    /// and edits it as if typed).
    pub(crate) async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let mut guard = self.fd.writable().await?;
            match guard.try_io(|fd| fd.get_ref().write(bytes)) {
                Ok(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(Ok(n)) => bytes = bytes.get(n..).unwrap_or_default(),
                Ok(Err(err)) if err.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(err)) => return Err(err),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }

    /// Set the window size; when this returns the new size is in effect
    /// (it is read back) and SIGWINCH has been sent to the foreground group.
    pub(crate) fn resize(&self, size: TerminalSize) -> io::Result<()> {
        sys::pty::set_window_size(self.fd.get_ref().as_fd(), size)?;
        let now = sys::pty::window_size(self.fd.get_ref().as_fd())?;
        if now != size {
            return Err(io::Error::other(format!(
                "terminal size is {}x{} after setting {}x{}",
                now.rows, now.cols, size.rows, size.cols
            )));
        }
        Ok(())
    }
}
