//! The `fs/*` operations. Each function maps the protocol's params to its response; handlers
//! run it through [`blocking`] so file I/O never holds an async worker.
//!
//! Choices a client can rely on:
//! - `fs/readFile` refuses a file over [`FsLimits::max_read_bytes`] before reading it, and never
//!   reads more than the limit even if the file grows meanwhile.
//! - `fs/writeFile` writes a temporary file beside the target and renames it over, so a reader
//!   never sees half a file and a full disk leaves the old content. The old file's permissions
//!   are kept; a symlink is written through to its target.
//! - `createDirectory` and `remove` default `recursive` (and `remove` `force`) to true.

use crate::error::{require_absolute, WorkspaceError};
use base64::Engine;
use codex_protocol::v2::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Limits of the fs API.
#[derive(Clone, Copy, Debug)]
pub struct FsLimits {
    /// Largest file `fs/readFile` returns. Base64 grows data by a third, so the default keeps a
    /// response under the default 16 MiB frame.
    pub max_read_bytes: u64,
}

impl Default for FsLimits {
    fn default() -> Self {
        FsLimits {
            max_read_bytes: 12 * 1024 * 1024,
        }
    }
}

pub fn read_file(
    p: &FsReadFileParams,
    limits: FsLimits,
) -> Result<FsReadFileResponse, WorkspaceError> {
    require_absolute(&p.path)?;
    let io = |e| WorkspaceError::io(&p.path, e);
    let meta = std::fs::metadata(&p.path).map_err(io)?;
    if meta.is_dir() {
        return Err(WorkspaceError::IsDirectory {
            path: p.path.clone(),
        });
    }
    let too_large = |size| WorkspaceError::TooLarge {
        path: p.path.clone(),
        size,
        limit: limits.max_read_bytes,
    };
    if meta.len() > limits.max_read_bytes {
        return Err(too_large(meta.len()));
    }
    let file = std::fs::File::open(&p.path).map_err(io)?;
    let mut data = Vec::with_capacity(meta.len() as usize);
    // One byte past the limit tells a file that grew after the size check.
    file.take(limits.max_read_bytes + 1)
        .read_to_end(&mut data)
        .map_err(io)?;
    if data.len() as u64 > limits.max_read_bytes {
        return Err(too_large(data.len() as u64));
    }
    Ok(FsReadFileResponse {
        data_base64: base64::engine::general_purpose::STANDARD.encode(&data),
    })
}

pub fn write_file(p: &FsWriteFileParams) -> Result<FsWriteFileResponse, WorkspaceError> {
    require_absolute(&p.path)?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(p.data_base64.as_bytes())
        .map_err(|e| WorkspaceError::InvalidBase64(e.to_string()))?;
    // Write through a symlink to its target rather than replacing the link with a file.
    let target = match std::fs::symlink_metadata(&p.path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(&p.path).map_err(|e| WorkspaceError::io(&p.path, e))?
        }
        _ => p.path.clone(),
    };
    if target.is_dir() {
        return Err(WorkspaceError::IsDirectory { path: target });
    }
    write_atomically(&target, &data)?;
    Ok(FsWriteFileResponse {})
}

fn write_atomically(target: &Path, data: &[u8]) -> Result<(), WorkspaceError> {
    let io = |e| WorkspaceError::io(target, e);
    let dir = target.parent().ok_or_else(|| {
        WorkspaceError::io(
            target,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "has no parent directory"),
        )
    })?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.codex-write-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(data)?;
        if let Ok(old) = std::fs::metadata(target) {
            file.set_permissions(old.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io)
}

pub fn create_directory(
    p: &FsCreateDirectoryParams,
) -> Result<FsCreateDirectoryResponse, WorkspaceError> {
    require_absolute(&p.path)?;
    let made = if p.recursive.unwrap_or(true) {
        std::fs::create_dir_all(&p.path)
    } else {
        std::fs::create_dir(&p.path)
    };
    made.map_err(|e| WorkspaceError::io(&p.path, e))?;
    Ok(FsCreateDirectoryResponse {})
}

pub fn get_metadata(p: &FsGetMetadataParams) -> Result<FsGetMetadataResponse, WorkspaceError> {
    require_absolute(&p.path)?;
    let link = std::fs::symlink_metadata(&p.path).map_err(|e| WorkspaceError::io(&p.path, e))?;
    // A dangling link still has metadata of its own; describe the link then.
    let meta = std::fs::metadata(&p.path).unwrap_or_else(|_| link.clone());
    Ok(FsGetMetadataResponse {
        created_at_ms: millis(meta.created()),
        modified_at_ms: millis(meta.modified()),
        is_directory: meta.is_dir(),
        is_file: meta.is_file(),
        is_symlink: link.file_type().is_symlink(),
    })
}

fn millis(time: std::io::Result<SystemTime>) -> i64 {
    time.ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn read_directory(
    p: &FsReadDirectoryParams,
) -> Result<FsReadDirectoryResponse, WorkspaceError> {
    require_absolute(&p.path)?;
    let io = |e| WorkspaceError::io(&p.path, e);
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(&p.path).map_err(io)? {
        let entry = entry.map_err(io)?;
        // Follow symlinks so a link to a directory lists as one, as a file manager shows it.
        let (is_directory, is_file) = match std::fs::metadata(entry.path()) {
            Ok(m) => (m.is_dir(), m.is_file()),
            Err(_) => (false, false),
        };
        entries.push(FsReadDirectoryEntry {
            file_name: entry.file_name().to_string_lossy().into_owned(),
            is_directory,
            is_file,
        });
    }
    entries.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok(FsReadDirectoryResponse { entries })
}

pub fn remove(p: &FsRemoveParams) -> Result<FsRemoveResponse, WorkspaceError> {
    require_absolute(&p.path)?;
    let io = |e| WorkspaceError::io(&p.path, e);
    let meta = match std::fs::symlink_metadata(&p.path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && p.force.unwrap_or(true) => {
            return Ok(FsRemoveResponse {});
        }
        Err(e) => return Err(io(e)),
    };
    let removed = if meta.is_dir() {
        if p.recursive.unwrap_or(true) {
            std::fs::remove_dir_all(&p.path)
        } else {
            std::fs::remove_dir(&p.path)
        }
    } else {
        // Files and symlinks (a link is removed, never what it points to).
        std::fs::remove_file(&p.path)
    };
    removed.map_err(io)?;
    Ok(FsRemoveResponse {})
}

pub fn copy(p: &FsCopyParams) -> Result<FsCopyResponse, WorkspaceError> {
    require_absolute(&p.source_path)?;
    require_absolute(&p.destination_path)?;
    let meta =
        std::fs::metadata(&p.source_path).map_err(|e| WorkspaceError::io(&p.source_path, e))?;
    if !meta.is_dir() {
        std::fs::copy(&p.source_path, &p.destination_path)
            .map_err(|e| WorkspaceError::io(&p.destination_path, e))?;
        return Ok(FsCopyResponse {});
    }
    if !p.recursive.unwrap_or(false) {
        return Err(WorkspaceError::DirectoryNeedsRecursive {
            path: p.source_path.clone(),
        });
    }
    let source =
        std::fs::canonicalize(&p.source_path).map_err(|e| WorkspaceError::io(&p.source_path, e))?;
    if resolved_lexically(&p.destination_path).starts_with(&source) {
        return Err(WorkspaceError::CopyIntoItself {
            source_path: p.source_path.clone(),
            destination: p.destination_path.clone(),
        });
    }
    copy_tree(&source, &p.destination_path)?;
    Ok(FsCopyResponse {})
}

/// The destination with its deepest existing ancestor canonicalised, so `a/../b` and symlinked
/// parents compare correctly against the canonical source even before the destination exists.
fn resolved_lexically(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut resolved = std::fs::canonicalize(&existing).unwrap_or(existing);
    for part in rest.into_iter().rev() {
        resolved.push(part);
    }
    resolved
}

/// Copies a directory tree; symlinks are copied as links, not followed.
fn copy_tree(source: &Path, destination: &Path) -> Result<(), WorkspaceError> {
    std::fs::create_dir_all(destination).map_err(|e| WorkspaceError::io(destination, e))?;
    for entry in std::fs::read_dir(source).map_err(|e| WorkspaceError::io(source, e))? {
        let entry = entry.map_err(|e| WorkspaceError::io(source, e))?;
        let from = entry.path();
        let to = destination.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| WorkspaceError::io(&from, e))?;
        if kind.is_dir() {
            copy_tree(&from, &to)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&from).map_err(|e| WorkspaceError::io(&from, e))?;
            std::os::unix::fs::symlink(target, &to).map_err(|e| WorkspaceError::io(&to, e))?;
        } else {
            std::fs::copy(&from, &to).map_err(|e| WorkspaceError::io(&to, e))?;
        }
    }
    Ok(())
}

/// Runs a file operation on the blocking pool.
pub async fn blocking<T, F>(op: F) -> Result<T, WorkspaceError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, WorkspaceError> + Send + 'static,
{
    tokio::task::spawn_blocking(op)
        .await
        .map_err(|e| WorkspaceError::Internal(e.to_string()))?
}
