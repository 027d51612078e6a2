//! Streaming client for the OpenAI Responses API (and a Chat Completions adapter), plus
//! provider configuration and API-key storage.
//!
//! # Layout
//! - [`provider`] — [`ProviderInfo`] and the built-in providers (`codex-config` reads `[model_providers.<id>]`).
//! - [`auth`] — API key lookup and `$CODEX_HOME/auth.json`.
//! - [`sse`] — incremental Server-Sent Events parser (bytes in, frames out).
//! - [`events`] — [`ResponseEvent`], [`TokenUsage`] and the mapping of Responses SSE frames.
//! - [`chat`] — request conversion and stream decoding for `wire_api = "chat"` providers.
//! - [`retry`] — backoff and server-requested delays (`Retry-After`, "try again in 1.5s").
//! - [`client`] — [`ModelClient`]: the request task, both retry layers, cancellation.
//! - [`error`] — [`ModelError`].

pub mod auth;
pub mod chat;
pub mod client;
pub mod error;
pub mod events;
pub mod provider;
pub mod retry;
pub mod sse;

pub use auth::{delete_auth, read_stored_api_key, resolve_api_key, write_api_key};
pub use client::{ModelClient, ResponsesRequest};
pub use error::ModelError;
pub use events::{ResponseEvent, TokenUsage};
pub use provider::{ProviderInfo, WireApi};
