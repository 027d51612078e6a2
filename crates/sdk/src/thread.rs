//! [`Thread`]: one conversation. Run turns on it, read it, name it, compact it.

use crate::collector::TurnResult;
use crate::connection::Connection;
use crate::error::Error;
use crate::options::{Input, TurnOptions};
use crate::turn::TurnHandle;
use codex_protocol::methods::{
    Method as _, ThreadCompactStart, ThreadRead, ThreadSetName, TurnStart,
};
use codex_protocol::v2::{
    ThreadCompactStartParams, ThreadCompactStartResponse, ThreadReadParams, ThreadReadResponse,
    ThreadSetNameParams, ThreadSetNameResponse,
};
use serde_json::Value;
use std::sync::Arc;

/// A conversation thread, started or loaded by [`crate::Codex`]. Cheap to clone; it keeps the
/// connection open.
#[derive(Clone)]
pub struct Thread {
    connection: Arc<Connection>,
    id: String,
}

impl std::fmt::Debug for Thread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thread").field("id", &self.id).finish()
    }
}

impl PartialEq for Thread {
    fn eq(&self, other: &Thread) -> bool {
        self.id == other.id && Arc::ptr_eq(&self.connection, &other.connection)
    }
}

impl Thread {
    pub(crate) fn new(connection: Arc<Connection>, id: String) -> Thread {
        Thread { connection, id }
    }

    /// The thread's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs one turn to completion.
    ///
    /// ```no_run
    /// # async fn demo(codex: codex_sdk::Codex) -> codex_sdk::Result<()> {
    /// let thread = codex.thread_start(Default::default()).await?;
    /// let result = thread.run("Summarise this repository.").await?;
    /// println!("{:?} {:?}", result.final_response, result.usage);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::TurnFailed`] when the turn fails, and any error of [`Thread::turn`] or
    /// [`TurnHandle::run`].
    pub async fn run(&self, input: impl Into<Input>) -> Result<TurnResult, Error> {
        self.run_with(input, TurnOptions::default()).await
    }

    /// [`Thread::run`] with turn options.
    ///
    /// # Errors
    /// As [`Thread::run`].
    pub async fn run_with(
        &self,
        input: impl Into<Input>,
        options: TurnOptions,
    ) -> Result<TurnResult, Error> {
        self.turn_with(input, options).await?.run().await
    }

    /// Starts a turn (or joins the thread's running one) and returns its handle.
    ///
    /// # Errors
    /// Any request error of `turn/start`.
    pub async fn turn(&self, input: impl Into<Input>) -> Result<TurnHandle, Error> {
        self.turn_with(input, TurnOptions::default()).await
    }

    /// [`Thread::turn`] with turn options.
    ///
    /// # Errors
    /// As [`Thread::turn`].
    ///
    /// # Cancellation
    /// Dropping the future before `turn/start` answers forgets the turn (it may still run).
    pub async fn turn_with(
        &self,
        input: impl Into<Input>,
        options: TurnOptions,
    ) -> Result<TurnHandle, Error> {
        let params = options.to_params(&self.id, input.into());
        let shared = &self.connection.shared;
        // The turn's first notifications may arrive before the answer that names it.
        let start = shared.begin_turn_start();
        let answer = shared.request_value(TurnStart::NAME, &params).await?;
        // Only the id is read: the rest of the turn is not needed, and a server with item
        // types this build does not know must still be able to start turns.
        let turn_id = answer
            .get("turn")
            .and_then(|turn| turn.get("id"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::Protocol(format!("turn/start answered without a turn id: {answer}"))
            })?;
        let subscription = start.claim(turn_id);
        Ok(TurnHandle::new(
            self.connection.clone(),
            self.id.clone(),
            turn_id.to_string(),
            subscription,
        ))
    }

    /// Reads the thread, with its turns and their items when `include_turns`.
    ///
    /// # Errors
    /// Any request error.
    pub async fn read(&self, include_turns: bool) -> Result<ThreadReadResponse, Error> {
        self.connection
            .shared
            .call::<ThreadRead>(&ThreadReadParams {
                thread_id: self.id.clone(),
                include_turns,
            })
            .await
    }

    /// Sets the thread's user-facing name.
    ///
    /// # Errors
    /// Any request error.
    pub async fn set_name(&self, name: impl Into<String>) -> Result<ThreadSetNameResponse, Error> {
        self.connection
            .shared
            .call::<ThreadSetName>(&ThreadSetNameParams {
                thread_id: self.id.clone(),
                name: name.into(),
            })
            .await
    }

    /// Starts compacting the thread's history (it runs as a turn of its own).
    ///
    /// # Errors
    /// Any request error.
    pub async fn compact(&self) -> Result<ThreadCompactStartResponse, Error> {
        self.connection
            .shared
            .call::<ThreadCompactStart>(&ThreadCompactStartParams {
                thread_id: self.id.clone(),
            })
            .await
    }
}
