//! The blocking client, for code without an async runtime: the async client on a
//! current-thread tokio runtime of its own, each call a `block_on` (mini-redis's
//! `BlockingClient` pattern).
//!
//! The connection's tasks run only while a call is blocked, which is enough: the server waits
//! (its output pipe fills) between calls, and approvals and tool calls are answered while a
//! turn runs. A deferred approval is answered from another thread
//! ([`crate::ApprovalQueue::blocking_next`]).
//!
//! Do not use these types from async code: `block_on` inside a runtime panics.
//!
//! ```no_run
//! use codex_sdk::blocking::Codex;
//! use codex_sdk::{CodexConfig, ThreadOptions};
//!
//! let codex = Codex::launch(CodexConfig::default())?;
//! let thread = codex.thread_start(ThreadOptions::default())?;
//! let result = thread.run("Summarise this repository.")?;
//! println!("{}", result.final_response.unwrap_or_default());
//! # Ok::<(), codex_sdk::Error>(())
//! ```

use crate::collector::TurnResult;
use crate::config::CodexConfig;
use crate::error::Error;
use crate::handshake::Metadata;
use crate::notification::Notification;
use crate::options::{Input, ThreadOptions, TurnOptions};
use codex_protocol::methods::Method;
use codex_protocol::v2::{
    ModelListResponse, ThreadArchiveResponse, ThreadCompactStartResponse, ThreadListParams,
    ThreadListResponse, ThreadReadResponse, ThreadSetNameResponse, TurnInterruptResponse,
    TurnSteerResponse,
};
use std::sync::Arc;
use tokio::runtime::Runtime;

fn runtime() -> Result<Arc<Runtime>, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(Error::Runtime)
}

/// The blocking [`crate::Codex`]. Dropping it closes the connection gracefully.
pub struct Codex {
    // Declared before `runtime`: the async client must go while its runtime still exists.
    inner: crate::Codex,
    runtime: Arc<Runtime>,
}

impl Codex {
    /// As [`crate::Codex::launch`].
    ///
    /// # Errors
    /// As [`crate::Codex::launch`], plus [`Error::Runtime`].
    pub fn launch(config: CodexConfig) -> Result<Codex, Error> {
        let runtime = runtime()?;
        let inner = runtime.block_on(crate::Codex::launch(config))?;
        Ok(Codex { inner, runtime })
    }

    /// As [`crate::Codex::embedded`]: the runtime runs on this client's own runtime, so it
    /// works only while a call blocks (a turn runs while [`Thread::run`] waits).
    ///
    /// # Errors
    /// As [`crate::Codex::embedded`], plus [`Error::Runtime`].
    #[cfg(feature = "embedded")]
    pub fn embedded(config: CodexConfig) -> Result<Codex, Error> {
        let runtime = runtime()?;
        let inner = runtime.block_on(crate::Codex::embedded(config))?;
        Ok(Codex { inner, runtime })
    }

    fn inner(&self) -> &crate::Codex {
        &self.inner
    }

    /// What the server reported in `initialize`.
    pub fn metadata(&self) -> &Metadata {
        self.inner().metadata()
    }

    /// As [`crate::Codex::request`].
    ///
    /// # Errors
    /// As [`crate::Codex::request`].
    pub fn request<M: Method>(&self, params: &M::Params) -> Result<M::Response, Error> {
        self.runtime.block_on(self.inner().request::<M>(params))
    }

    /// A handle on a thread known by id.
    pub fn thread(&self, id: impl Into<String>) -> Thread {
        self.wrap(self.inner().thread(id))
    }

    /// As [`crate::Codex::thread_start`].
    ///
    /// # Errors
    /// As [`crate::Codex::thread_start`].
    pub fn thread_start(&self, options: ThreadOptions) -> Result<Thread, Error> {
        let thread = self.runtime.block_on(self.inner().thread_start(options))?;
        Ok(self.wrap(thread))
    }

    /// As [`crate::Codex::thread_resume`].
    ///
    /// # Errors
    /// As [`crate::Codex::thread_resume`].
    pub fn thread_resume(
        &self,
        thread_id: impl Into<String>,
        options: ThreadOptions,
    ) -> Result<Thread, Error> {
        let thread = self
            .runtime
            .block_on(self.inner().thread_resume(thread_id, options))?;
        Ok(self.wrap(thread))
    }

    /// As [`crate::Codex::thread_fork`].
    ///
    /// # Errors
    /// As [`crate::Codex::thread_fork`].
    pub fn thread_fork(
        &self,
        thread_id: impl Into<String>,
        options: ThreadOptions,
    ) -> Result<Thread, Error> {
        let thread = self
            .runtime
            .block_on(self.inner().thread_fork(thread_id, options))?;
        Ok(self.wrap(thread))
    }

    /// As [`crate::Codex::thread_list`].
    ///
    /// # Errors
    /// As [`crate::Codex::thread_list`].
    pub fn thread_list(&self, params: ThreadListParams) -> Result<ThreadListResponse, Error> {
        self.runtime.block_on(self.inner().thread_list(params))
    }

    /// As [`crate::Codex::thread_read`].
    ///
    /// # Errors
    /// As [`crate::Codex::thread_read`].
    pub fn thread_read(
        &self,
        thread_id: impl Into<String>,
        include_turns: bool,
    ) -> Result<ThreadReadResponse, Error> {
        self.runtime
            .block_on(self.inner().thread_read(thread_id, include_turns))
    }

    /// As [`crate::Codex::thread_archive`].
    ///
    /// # Errors
    /// As [`crate::Codex::thread_archive`].
    pub fn thread_archive(
        &self,
        thread_id: impl Into<String>,
    ) -> Result<ThreadArchiveResponse, Error> {
        self.runtime
            .block_on(self.inner().thread_archive(thread_id))
    }

    /// As [`crate::Codex::thread_unarchive`].
    ///
    /// # Errors
    /// As [`crate::Codex::thread_unarchive`].
    pub fn thread_unarchive(&self, thread_id: impl Into<String>) -> Result<Thread, Error> {
        let thread = self
            .runtime
            .block_on(self.inner().thread_unarchive(thread_id))?;
        Ok(self.wrap(thread))
    }

    /// As [`crate::Codex::models`].
    ///
    /// # Errors
    /// As [`crate::Codex::models`].
    pub fn models(&self, include_hidden: bool) -> Result<ModelListResponse, Error> {
        self.runtime.block_on(self.inner().models(include_hidden))
    }

    /// Closes the connection gracefully (dropping the client does the same).
    pub fn close(self) {}

    fn wrap(&self, inner: crate::Thread) -> Thread {
        Thread {
            inner,
            runtime: self.runtime.clone(),
        }
    }
}

impl Drop for Codex {
    fn drop(&mut self) {
        // Inside a runtime `block_on` would panic; the connection's own drop kills the
        // server instead.
        if tokio::runtime::Handle::try_current().is_err() {
            self.runtime.block_on(self.inner.close());
        }
    }
}

/// The blocking [`crate::Thread`].
#[derive(Clone)]
pub struct Thread {
    inner: crate::Thread,
    runtime: Arc<Runtime>,
}

impl Thread {
    /// The thread's id.
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// As [`crate::Thread::run`].
    ///
    /// # Errors
    /// As [`crate::Thread::run`].
    pub fn run(&self, input: impl Into<Input>) -> Result<TurnResult, Error> {
        self.runtime.block_on(self.inner.run(input))
    }

    /// As [`crate::Thread::run_with`].
    ///
    /// # Errors
    /// As [`crate::Thread::run`].
    pub fn run_with(
        &self,
        input: impl Into<Input>,
        options: TurnOptions,
    ) -> Result<TurnResult, Error> {
        self.runtime.block_on(self.inner.run_with(input, options))
    }

    /// As [`crate::Thread::turn`].
    ///
    /// # Errors
    /// As [`crate::Thread::turn`].
    pub fn turn(&self, input: impl Into<Input>) -> Result<TurnHandle, Error> {
        self.turn_with(input, TurnOptions::default())
    }

    /// As [`crate::Thread::turn_with`].
    ///
    /// # Errors
    /// As [`crate::Thread::turn`].
    pub fn turn_with(
        &self,
        input: impl Into<Input>,
        options: TurnOptions,
    ) -> Result<TurnHandle, Error> {
        let inner = self
            .runtime
            .block_on(self.inner.turn_with(input, options))?;
        Ok(TurnHandle {
            inner,
            runtime: self.runtime.clone(),
        })
    }

    /// As [`crate::Thread::read`].
    ///
    /// # Errors
    /// As [`crate::Thread::read`].
    pub fn read(&self, include_turns: bool) -> Result<ThreadReadResponse, Error> {
        self.runtime.block_on(self.inner.read(include_turns))
    }

    /// As [`crate::Thread::set_name`].
    ///
    /// # Errors
    /// As [`crate::Thread::set_name`].
    pub fn set_name(&self, name: impl Into<String>) -> Result<ThreadSetNameResponse, Error> {
        self.runtime.block_on(self.inner.set_name(name))
    }

    /// As [`crate::Thread::compact`].
    ///
    /// # Errors
    /// As [`crate::Thread::compact`].
    pub fn compact(&self) -> Result<ThreadCompactStartResponse, Error> {
        self.runtime.block_on(self.inner.compact())
    }
}

/// The blocking [`crate::TurnHandle`].
#[derive(Clone)]
pub struct TurnHandle {
    inner: crate::TurnHandle,
    runtime: Arc<Runtime>,
}

impl TurnHandle {
    /// The turn's id.
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// The id of the turn's thread.
    pub fn thread_id(&self) -> &str {
        self.inner.thread_id()
    }

    /// The turn's notifications as an iterator (see [`crate::TurnHandle::stream`]).
    pub fn stream(&self) -> TurnIter {
        TurnIter {
            inner: self.inner.stream(),
            runtime: self.runtime.clone(),
        }
    }

    /// As [`crate::TurnHandle::run`].
    ///
    /// # Errors
    /// As [`crate::TurnHandle::run`].
    pub fn run(&self) -> Result<TurnResult, Error> {
        self.runtime.block_on(self.inner.run())
    }

    /// As [`crate::TurnHandle::steer`].
    ///
    /// # Errors
    /// As [`crate::TurnHandle::steer`].
    pub fn steer(&self, input: impl Into<Input>) -> Result<TurnSteerResponse, Error> {
        self.runtime.block_on(self.inner.steer(input))
    }

    /// As [`crate::TurnHandle::interrupt`].
    ///
    /// # Errors
    /// As [`crate::TurnHandle::interrupt`].
    pub fn interrupt(&self) -> Result<TurnInterruptResponse, Error> {
        self.runtime.block_on(self.inner.interrupt())
    }
}

/// A turn's notifications, blocking on each.
pub struct TurnIter {
    inner: crate::TurnStream,
    runtime: Arc<Runtime>,
}

impl Iterator for TurnIter {
    type Item = Result<Notification, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.runtime.block_on(self.inner.next())
    }
}
