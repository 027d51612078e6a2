//! `app_server.max_response_bytes`: the longest answer the server sends for a thread's whole
//! history. A client reads one line per message; a `thread/read` or `thread/resume` of a long
//! thread can be hundreds of megabytes, so past the limit it fails with an error that names
//! the paged methods, instead of sending a frame the client may not be able to read.

use super::Runtime;
use crate::error::CoreError;

/// The default, the same as the longest request line the server accepts.
const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Smaller settings are raised to this, so a page always fits a few turns.
const MIN_MAX_RESPONSE_BYTES: usize = 16 * 1024;

impl Runtime {
    /// The configured limit on a whole-history answer (and on each history page).
    pub fn max_response_bytes(&self) -> usize {
        self.current_settings()
            .max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES)
            .max(MIN_MAX_RESPONSE_BYTES)
    }

    /// The error answered instead of a `method` response of `size` bytes, over the limit.
    pub fn oversized_response(&self, method: &str, size: usize) -> CoreError {
        let limit = self.max_response_bytes();
        let instead = match method {
            "thread/resume" => "resume with excludeTurns: true",
            _ => "read it with includeTurns: false",
        };
        CoreError::InvalidRequest(format!(
            "the {method} response would be {size} bytes, over app_server.max_response_bytes \
             ({limit}); {instead} and page its history with thread/turns/list and \
             thread/items/list"
        ))
    }
}
