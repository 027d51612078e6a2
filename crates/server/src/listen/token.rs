//! The WebSocket bearer token. By default the server makes a fresh random token at each start
//! and writes it 0600 to `$CODEX_HOME/app-server-ws.token` (a client on this machine with the
//! user's rights reads it there). `--ws-token-file PATH` names another file: one that exists is
//! read (and refused when others may read it), one that does not is created like the default.
//! Clients send `Authorization: Bearer <token>`; the comparison takes the same time wherever
//! the first difference is.

use super::error::ListenError;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The token file under `codex_home` used when no `--ws-token-file` is given.
pub fn token_file_default(codex_home: &Path) -> PathBuf {
    codex_home.join("app-server-ws.token")
}

pub struct WsToken {
    expected: String,
}

impl WsToken {
    /// Reads the token at `path`, or creates one there (see the module comment). The default
    /// file is always written fresh.
    ///
    /// # Errors
    /// An unreadable or unwritable file, an empty one, or one others may read.
    pub fn load_or_create(path: &Path) -> Result<WsToken, ListenError> {
        let err = |reason: String| ListenError::Token {
            path: path.to_path_buf(),
            reason,
        };
        let is_default = path.file_name() == Some("app-server-ws.token".as_ref());
        if !is_default {
            match std::fs::metadata(path) {
                Ok(meta) => {
                    if meta.permissions().mode() & 0o077 != 0 {
                        return Err(err(
                            "others may read it; make it readable by its owner only (chmod 600)"
                                .into(),
                        ));
                    }
                    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
                    let token = text.trim();
                    if token.is_empty() {
                        return Err(err("the file is empty".into()));
                    }
                    return Ok(WsToken {
                        expected: token.to_string(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(err(e.to_string())),
            }
        }
        let token: String = (0..32)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect();
        write_private(path, &token).map_err(|e| err(e.to_string()))?;
        Ok(WsToken { expected: token })
    }

    /// A token known in advance (tests, embedders).
    pub fn new(token: impl Into<String>) -> WsToken {
        WsToken {
            expected: token.into(),
        }
    }

    /// Whether an `Authorization` header value presents the token.
    pub fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some(presented) = value.strip_prefix(b"Bearer ") else {
            return false;
        };
        constant_time_eq(presented, self.expected.as_bytes())
    }
}

/// Writes `token` to `path` as a new 0600 file, replacing what was there.
fn write_private(path: &Path, token: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let staged = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&staged)?;
    file.write_all(token.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    std::fs::rename(&staged, path)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_is_fresh_and_private_and_a_given_one_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let default = token_file_default(dir.path());
        let first = WsToken::load_or_create(&default).unwrap();
        let mode = std::fs::metadata(&default).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let on_disk = std::fs::read_to_string(&default).unwrap();
        assert_eq!(on_disk.trim(), first.expected);
        assert_eq!(first.expected.len(), 64);
        let second = WsToken::load_or_create(&default).unwrap();
        assert_ne!(first.expected, second.expected, "a new token per start");

        let given = dir.path().join("mine");
        std::fs::write(&given, "s3cret\n").unwrap();
        std::fs::set_permissions(&given, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            WsToken::load_or_create(&given).is_err(),
            "world-readable is refused"
        );
        std::fs::set_permissions(&given, std::fs::Permissions::from_mode(0o600)).unwrap();
        let token = WsToken::load_or_create(&given).unwrap();
        assert!(token.accepts(Some(b"Bearer s3cret")));
        assert!(!token.accepts(Some(b"Bearer s3cre")));
        assert!(!token.accepts(Some(b"s3cret")));
        assert!(!token.accepts(None));
    }
}
