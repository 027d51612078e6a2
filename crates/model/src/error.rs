//! [`ModelError`]: every way a model request can fail, typed so the turn engine can react
//! (end the turn, mark the context full, show a quota message, or report exhausted retries).

use std::io;

/// Errors of the model client. [`ModelError::is_retryable`] drives both retry layers.
#[derive(thiserror::Error, Debug)]
pub enum ModelError {
    /// A non-success HTTP status that is not retried (or not classified further).
    /// `message` holds the response body (truncated to ~2 KB) or the reason phrase.
    #[error("{}", http_message(*status, message))]
    Http { status: u16, message: String },
    /// The prompt does not fit the model's context window; retrying cannot help.
    #[error("the model's context window was exceeded: {0}")]
    ContextWindowExceeded(String),
    /// The account has no quota left.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// A usage limit of the plan was reached (HTTP 429 `usage_limit_reached`).
    #[error("usage limit reached: {0}")]
    UsageLimitReached(String),
    /// The plan does not include API usage.
    #[error("usage is not included in the current plan")]
    UsageNotIncluded,
    /// A retryable failure persisted after every allowed retry. `last` is the final error's
    /// message, `attempts` the number of attempts made, `http_status` the last status if any.
    #[error("{}", retry_limit_message(*attempts, last))]
    RetryLimit {
        attempts: u32,
        last: String,
        http_status: Option<u16>,
    },
    /// The stream broke (transport error mid-body, EOF before `response.completed`).
    #[error("{0}")]
    Stream(String),
    /// No bytes arrived within `stream_idle_timeout_ms`.
    #[error("idle timeout waiting for SSE")]
    IdleTimeout,
    /// `response.failed` with a retryable error (`server_error`, `rate_limit_exceeded`, ...).
    #[error("{message}")]
    ResponseFailed {
        code: Option<String>,
        message: String,
    },
    /// `response.incomplete`: the model stopped early (e.g. `max_output_tokens`); not retried.
    #[error("incomplete response returned, reason: {0}")]
    Incomplete(String),
    /// Connecting or sending failed before a response arrived.
    #[error("{0}")]
    Transport(String),
    /// The provider configuration or a request header is unusable.
    #[error("invalid model provider configuration: {0}")]
    Config(String),
    /// The server answered something that is not what the protocol promises.
    #[error("invalid response from the model server: {0}")]
    InvalidResponse(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn retry_limit_message(attempts: u32, last: &str) -> String {
    if attempts <= 1 {
        last.to_string()
    } else {
        format!("{last} (gave up after {attempts} attempts)")
    }
}

impl ModelError {
    /// Whether re-sending the same request may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ModelError::Stream(_)
            | ModelError::IdleTimeout
            | ModelError::ResponseFailed { .. }
            | ModelError::Transport(_) => true,
            ModelError::Http { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// The HTTP status behind this error, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            ModelError::Http { status, .. } => Some(*status),
            ModelError::RetryLimit { http_status, .. } => *http_status,
            _ => None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        ModelError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Truncates a response body for error messages (bodies can be whole HTML pages).
pub(crate) fn truncate_body(body: &str) -> String {
    const LIMIT: usize = 2048;
    let body = body.trim();
    if body.len() <= LIMIT {
        return body.to_string();
    }
    let mut end = LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &body[..end])
}

/// A rejected request (400) reads as the API's own explanation, the response body, as the
/// official runtime reports it (turn errors and `codex exec` alike); other statuses say which.
fn http_message(status: u16, message: &str) -> String {
    if status == 400 {
        message.to_string()
    } else {
        format!("unexpected status {status}: {message}")
    }
}
