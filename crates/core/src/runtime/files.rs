//! The user's files outside a turn: the `fs/*` operations (except watches, which belong to a
//! connection and live in the server) and `fuzzyFileSearch`. File I/O runs on the blocking
//! pool; errors name the path and the cause.

use super::Runtime;
use crate::error::CoreError;
use codex_protocol::v2::*;
use codex_workspace::fs::{self, FsLimits};
use codex_workspace::WorkspaceError;

impl Runtime {
    /// `fs/readFile`: refused above [`FsLimits::max_read_bytes`], with the limit in the error.
    pub async fn read_file(&self, p: FsReadFileParams) -> Result<FsReadFileResponse, CoreError> {
        run(move || fs::read_file(&p, FsLimits::default())).await
    }

    /// `fs/writeFile`: replaces the file atomically.
    pub async fn write_file(&self, p: FsWriteFileParams) -> Result<FsWriteFileResponse, CoreError> {
        run(move || fs::write_file(&p)).await
    }

    /// `fs/createDirectory` (`recursive` defaults to true).
    pub async fn create_directory(
        &self,
        p: FsCreateDirectoryParams,
    ) -> Result<FsCreateDirectoryResponse, CoreError> {
        run(move || fs::create_directory(&p)).await
    }

    /// `fs/getMetadata`.
    pub async fn file_metadata(
        &self,
        p: FsGetMetadataParams,
    ) -> Result<FsGetMetadataResponse, CoreError> {
        run(move || fs::get_metadata(&p)).await
    }

    /// `fs/readDirectory`.
    pub async fn read_directory(
        &self,
        p: FsReadDirectoryParams,
    ) -> Result<FsReadDirectoryResponse, CoreError> {
        run(move || fs::read_directory(&p)).await
    }

    /// `fs/remove` (`recursive` and `force` default to true).
    pub async fn remove_path(&self, p: FsRemoveParams) -> Result<FsRemoveResponse, CoreError> {
        run(move || fs::remove(&p)).await
    }

    /// `fs/copy`.
    pub async fn copy_path(&self, p: FsCopyParams) -> Result<FsCopyResponse, CoreError> {
        run(move || fs::copy(&p)).await
    }

    /// `fuzzyFileSearch`: a newer search with the same cancellation token ends this one, which
    /// then answers with no files.
    pub async fn fuzzy_file_search(
        &self,
        p: FuzzyFileSearchParams,
    ) -> Result<FuzzyFileSearchResponse, CoreError> {
        self.inner.fuzzy.search(p).await.map_err(workspace_error)
    }
}

async fn run<T, F>(op: F) -> Result<T, CoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, WorkspaceError> + Send + 'static,
{
    fs::blocking(op).await.map_err(workspace_error)
}

fn workspace_error(e: WorkspaceError) -> CoreError {
    CoreError::from(e)
}

/// A malformed request (a relative path, bad base64) is an invalid parameter; everything the
/// file system refused is an invalid request; the message names the path and the cause.
impl From<WorkspaceError> for CoreError {
    fn from(e: WorkspaceError) -> CoreError {
        if e.is_invalid_params() {
            CoreError::InvalidParams(e.to_string())
        } else if matches!(e, WorkspaceError::Internal(_)) {
            CoreError::Internal(e.to_string())
        } else {
            CoreError::InvalidRequest(e.to_string())
        }
    }
}
