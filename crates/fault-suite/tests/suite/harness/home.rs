//! Temporary `$CODEX_HOME`s: a plain temporary directory, or a small tmpfs that a case can fill
//! up or remount read-only (needs root, as CI has; the case fails rather than skips without it).

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// A home and a working directory for the servers of one case.
pub struct Home {
    pub dir: TempDir,
    pub work: TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("temp CODEX_HOME"),
            work: tempfile::tempdir().expect("temp workdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cwd(&self) -> &Path {
        self.work.path()
    }
}

/// A tmpfs of a fixed size mounted on a temporary directory; unmounted when dropped.
pub struct Tmpfs {
    mount_point: TempDir,
    filler: PathBuf,
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Tmpfs {
    /// Mounts a tmpfs of `size_kib` KiB. Needs root (mount(2)).
    pub fn mount(size_kib: u64) -> Tmpfs {
        // SAFETY: geteuid has no arguments and cannot fail.
        let euid = unsafe { libc::geteuid() };
        assert_eq!(
            euid, 0,
            "this fault case mounts a tmpfs and needs root (CI runs the suite as root)"
        );
        let mount_point = tempfile::tempdir().expect("mount point");
        let path = mount_point.path().to_str().expect("UTF-8 temp path");
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size_kib}k,mode=0755"),
                "tmpfs",
                path,
            ],
        );
        let filler = mount_point.path().join("filler.bin");
        Tmpfs {
            mount_point,
            filler,
        }
    }

    pub fn path(&self) -> &Path {
        self.mount_point.path()
    }

    pub fn remount(&self, read_only: bool) {
        let path = self.path().to_str().expect("UTF-8 temp path");
        let mode = if read_only {
            "remount,ro"
        } else {
            "remount,rw"
        };
        run("mount", &["-o", mode, path]);
    }

    /// Writes a filler file until the file system reports it is full (ENOSPC).
    pub fn fill(&self) {
        use std::io::Write;
        let mut file = std::fs::File::create(&self.filler).expect("filler file");
        let block = vec![0xA5u8; 64 * 1024];
        let mut size = block.len();
        // Large writes first, then smaller ones to take the last partial blocks too.
        while size > 0 {
            match file.write(&block[..size]) {
                Ok(0) => size /= 2,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => size /= 2,
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
        let probe = self.path().join("probe");
        let full = std::fs::write(&probe, [0u8; 4096]);
        assert!(full.is_err(), "the tmpfs still took a 4 KiB write");
        let _ = std::fs::remove_file(probe);
    }

    /// Deletes the filler file.
    pub fn free(&self) {
        std::fs::remove_file(&self.filler).expect("removing the filler file");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Some(path) = self.mount_point.path().to_str() {
            // Lazy, so a server that is still exiting cannot keep the mount busy.
            let _ = Command::new("umount").args(["-l", path]).output();
        }
    }
}
