//! Finding the `codex` binary, in the Python SDK's order (first hit wins):
//!
//! 1. [`crate::CodexConfig::codex_bin`]: an explicit choice; if it is not an executable file
//!    that is an error, never a reason to fall back to another binary;
//! 2. `$CODEX_BIN`;
//! 3. a binary bundled with the application: `codex` next to the running executable (where an
//!    installer puts the runtime it ships);
//! 4. the repository's own cargo build, when this crate is used from a checkout:
//!    `target/release/codex`, then `target/debug/codex`, under the nearest ancestor of this
//!    crate's source directory that has a `target` directory;
//! 5. `codex` on `PATH`.

use crate::error::Error;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

const EXE: &str = if cfg!(windows) { "codex.exe" } else { "codex" };

/// What discovery looks at; [`Discovery::from_process`] fills it from the environment.
#[derive(Clone, Debug, Default)]
pub(crate) struct Discovery {
    pub explicit: Option<PathBuf>,
    pub env_bin: Option<OsString>,
    /// The directory of the running executable.
    pub exe_dir: Option<PathBuf>,
    /// Where to start looking for a checkout's `target/` directory.
    pub checkout_from: Option<PathBuf>,
    pub path_var: Option<OsString>,
}

impl Discovery {
    pub fn from_process(explicit: Option<PathBuf>) -> Discovery {
        Discovery {
            explicit,
            env_bin: std::env::var_os("CODEX_BIN").filter(|v| !v.is_empty()),
            exe_dir: std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(Path::to_path_buf)),
            checkout_from: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
            path_var: std::env::var_os("PATH"),
        }
    }

    /// The first usable binary.
    ///
    /// # Errors
    /// [`Error::BinaryNotFound`] listing every place tried.
    pub fn find(&self) -> Result<PathBuf, Error> {
        if let Some(path) = &self.explicit {
            if is_executable(path) {
                return Ok(path.clone());
            }
            return Err(Error::BinaryNotFound {
                tried: vec![format!(
                    "CodexConfig::codex_bin: {} (not an executable file)",
                    path.display()
                )],
            });
        }
        let mut tried = Vec::new();
        match &self.env_bin {
            Some(bin) => {
                let path = PathBuf::from(bin);
                if is_executable(&path) {
                    return Ok(path);
                }
                tried.push(format!(
                    "$CODEX_BIN: {} (not an executable file)",
                    path.display()
                ));
            }
            None => tried.push("$CODEX_BIN (not set)".to_string()),
        }
        if let Some(dir) = &self.exe_dir {
            let bundled = dir.join(EXE);
            if is_executable(&bundled) {
                return Ok(bundled);
            }
            tried.push(format!("bundled binary: {}", bundled.display()));
        }
        match self.checkout_from.as_deref().and_then(checkout_target) {
            Some(target) => {
                for profile in ["release", "debug"] {
                    let built = target.join(profile).join(EXE);
                    if is_executable(&built) {
                        return Ok(built);
                    }
                    tried.push(format!("repository build: {}", built.display()));
                }
            }
            None => tried.push("repository build: no target directory above the SDK".to_string()),
        }
        if let Some(path_var) = &self.path_var {
            for dir in std::env::split_paths(path_var) {
                let candidate = dir.join(EXE);
                if is_executable(&candidate) {
                    return Ok(candidate);
                }
            }
        }
        tried.push(format!("{EXE} on PATH"));
        Err(Error::BinaryNotFound { tried })
    }
}

/// The `target` directory of the nearest ancestor that has one.
fn checkout_target(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join("target"))
        .find(|target| target.is_dir())
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn executable(dir: &Path, rel: &str) -> PathBuf {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn an_explicit_path_wins_and_a_bad_one_is_an_error_not_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let bin = executable(dir.path(), "bin/codex");
        let env_bin = executable(dir.path(), "env/codex");
        let found = Discovery {
            explicit: Some(bin.clone()),
            env_bin: Some(env_bin.clone().into()),
            ..Discovery::default()
        };
        assert_eq!(found.find().unwrap(), bin);
        let missing = Discovery {
            explicit: Some(dir.path().join("nope")),
            env_bin: Some(env_bin.into()),
            ..Discovery::default()
        };
        let Err(Error::BinaryNotFound { tried }) = missing.find() else {
            panic!("expected BinaryNotFound");
        };
        assert_eq!(tried.len(), 1);
        assert!(tried[0].contains("CodexConfig::codex_bin"), "{tried:?}");
    }

    #[test]
    fn order_is_env_then_bundled_then_checkout_release_debug_then_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let on_path = executable(root, "path/codex");
        let debug = executable(root, "repo/target/debug/codex");
        let mut d = Discovery {
            env_bin: None,
            exe_dir: Some(root.join("app")),
            checkout_from: Some(root.join("repo/crates/sdk")),
            path_var: Some(root.join("path").into_os_string()),
            explicit: None,
        };
        std::fs::create_dir_all(root.join("repo/crates/sdk")).unwrap();
        assert_eq!(d.find().unwrap(), debug);
        let release = executable(root, "repo/target/release/codex");
        assert_eq!(d.find().unwrap(), release);
        let bundled = executable(root, "app/codex");
        assert_eq!(d.find().unwrap(), bundled);
        let from_env = executable(root, "env/codex");
        d.env_bin = Some(from_env.clone().into());
        assert_eq!(d.find().unwrap(), from_env);

        let only_path = Discovery {
            path_var: Some(root.join("path").into_os_string()),
            ..Discovery::default()
        };
        assert_eq!(only_path.find().unwrap(), on_path);
    }

    #[test]
    fn nothing_found_lists_every_place() {
        let dir = tempfile::tempdir().unwrap();
        let d = Discovery {
            env_bin: Some(dir.path().join("missing").into_os_string()),
            exe_dir: Some(dir.path().to_path_buf()),
            checkout_from: None,
            path_var: Some(dir.path().into()),
            explicit: None,
        };
        let err = d.find().unwrap_err();
        let text = err.to_string();
        for part in [
            "$CODEX_BIN",
            "bundled binary",
            "repository build",
            "codex on PATH",
        ] {
            assert!(text.contains(part), "{text}");
        }
    }
}
