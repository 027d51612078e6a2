//! API key resolution and `$CODEX_HOME/auth.json` storage (written 0600, atomically).

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::ModelError;
use crate::provider::ProviderInfo;

const AUTH_FILE: &str = "auth.json";
const API_KEY_FIELD: &str = "OPENAI_API_KEY";
const CODEX_API_KEY_ENV: &str = "CODEX_API_KEY";

fn auth_path(codex_home: &Path) -> PathBuf {
    codex_home.join(AUTH_FILE)
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The key for `provider`: its `env_key` variable, its `experimental_bearer_token`, then
/// `CODEX_API_KEY` (what `@openai/codex-sdk` sets from its `apiKey` option), then
/// `OPENAI_API_KEY`, then the key stored in `auth.json`; `None` if there is none.
pub fn resolve_api_key(provider: &ProviderInfo, codex_home: &Path) -> Option<String> {
    provider
        .env_key
        .as_deref()
        .and_then(non_empty_env)
        .or_else(|| {
            provider
                .experimental_bearer_token
                .clone()
                .filter(|t| !t.trim().is_empty())
        })
        .or_else(|| non_empty_env(CODEX_API_KEY_ENV))
        .or_else(|| non_empty_env(API_KEY_FIELD))
        .or_else(|| read_stored_api_key(codex_home))
}

/// The `OPENAI_API_KEY` of `auth.json`, if the file exists, parses, and holds a non-empty key.
pub fn read_stored_api_key(codex_home: &Path) -> Option<String> {
    let text = fs::read_to_string(auth_path(codex_home)).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    value
        .get(API_KEY_FIELD)?
        .as_str()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
}

/// Stores an API key as `{"OPENAI_API_KEY": key}` in `auth.json` (mode 0600). The file is
/// written under a temporary name and renamed so readers never see a partial file.
pub fn write_api_key(codex_home: &Path, key: &str) -> Result<(), ModelError> {
    fs::create_dir_all(codex_home)
        .map_err(|e| ModelError::io(format!("creating {}", codex_home.display()), e))?;
    let target = auth_path(codex_home);
    let tmp = codex_home.join(format!(".{AUTH_FILE}.tmp-{}", std::process::id()));
    let contents = serde_json::to_string_pretty(&json!({ API_KEY_FIELD: key }))
        .map_err(|e| ModelError::io("serializing auth.json", io::Error::other(e)))?;
    let write = || -> io::Result<()> {
        // A leftover temp file would keep its old mode; start fresh so 0600 applies.
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::rename(&tmp, &target)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        ModelError::io(format!("writing {}", target.display()), e)
    })
}

/// Removes `auth.json`; `Ok(false)` when there was none.
pub fn delete_auth(codex_home: &Path) -> Result<bool, ModelError> {
    let path = auth_path(codex_home);
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(ModelError::io(format!("removing {}", path.display()), e)),
    }
}
