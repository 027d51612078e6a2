//! [`Codex`]: the client. Launches the app-server (or connects to one), does the `initialize`
//! handshake, and offers the thread lifecycle and `model/list`; turns run on [`Thread`]s.

use crate::config::CodexConfig;
use crate::connection::{Connection, Shared};
use crate::error::Error;
use crate::handshake::{initialize_params, parse_initialize, Metadata};
use crate::options::{ApprovalMode, ThreadOptions};
use crate::process::Process;
use crate::thread::Thread;
use crate::tools::Toolset;
use codex_protocol::methods::{
    Initialize, Initialized, Method, ModelList, Notification as _, ThreadArchive, ThreadFork,
    ThreadList, ThreadRead, ThreadResume, ThreadStart, ThreadUnarchive,
};
use codex_protocol::v2::{
    ModelListParams, ModelListResponse, ThreadArchiveParams, ThreadArchiveResponse,
    ThreadForkParams, ThreadForkResponse, ThreadListParams, ThreadListResponse, ThreadReadParams,
    ThreadReadResponse, ThreadResumeParams, ThreadResumeResponse, ThreadStartResponse,
    ThreadUnarchiveParams, ThreadUnarchiveResponse,
};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// A connected, initialized client. Cheap to clone; every clone is the same connection.
///
/// ```no_run
/// # async fn demo() -> codex_sdk::Result<()> {
/// use codex_sdk::{Codex, CodexConfig, ThreadOptions};
///
/// let codex = Codex::launch(CodexConfig::default()).await?;
/// let thread = codex.thread_start(ThreadOptions::default()).await?;
/// let result = thread.run("Summarise this repository.").await?;
/// println!("{}", result.final_response.unwrap_or_default());
/// codex.close().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Codex {
    connection: Arc<Connection>,
    metadata: Arc<Metadata>,
}

impl std::fmt::Debug for Codex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codex")
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

impl Codex {
    /// Starts `codex app-server` as a child process and initializes it.
    ///
    /// # Errors
    /// [`Error::BinaryNotFound`], [`Error::Spawn`], or the handshake failing (a server that
    /// exits at start-up is [`Error::TransportClosed`] with its stderr).
    ///
    /// # Cancellation
    /// Dropping the future stops the server.
    pub async fn launch(config: CodexConfig) -> Result<Codex, Error> {
        let launch = config.launch()?;
        let (process, pipes) = Process::spawn(&launch)?;
        let connection = Connection::start(pipes.stdout, pipes.stdin, Some(process), &config);
        Codex::initialize(connection, &config).await
    }

    /// Speaks to a server over an already open byte stream (a socket, an in-memory pipe) and
    /// initializes it. `config`'s launch settings are unused.
    ///
    /// # Errors
    /// The handshake failing.
    pub async fn connect<S>(stream: S, config: CodexConfig) -> Result<Codex, Error>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (input, output) = tokio::io::split(stream);
        Codex::initialize(Connection::start(input, output, None, &config), &config).await
    }

    pub(crate) async fn initialize(
        connection: Connection,
        config: &CodexConfig,
    ) -> Result<Codex, Error> {
        let connection = Arc::new(connection);
        let shared = connection.shared.clone();
        let handshake = async {
            let answer = shared
                .request_value(Initialize::NAME, &initialize_params(config))
                .await?;
            let metadata = parse_initialize(&answer)?;
            shared.notify_bare(Initialized::NAME).await?;
            Ok::<_, Error>(metadata)
        };
        match handshake.await {
            Ok(metadata) => Ok(Codex {
                connection,
                metadata: Arc::new(metadata),
            }),
            Err(e) => {
                connection.close().await;
                Err(e)
            }
        }
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.connection.shared
    }

    /// What the server reported in `initialize`.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Calls any method of the protocol's table.
    ///
    /// ```no_run
    /// # async fn demo(codex: codex_sdk::Codex) -> codex_sdk::Result<()> {
    /// use codex_sdk::protocol::methods::ThreadLoadedList;
    ///
    /// let loaded = codex.request::<ThreadLoadedList>(&Default::default()).await?;
    /// println!("{} threads in memory", loaded.data.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Rpc`] for an error answer, [`Error::Decode`] for an answer of the wrong
    /// shape, [`Error::TransportClosed`], [`Error::Timeout`].
    pub async fn request<M: Method>(&self, params: &M::Params) -> Result<M::Response, Error> {
        self.shared().call::<M>(params).await
    }

    /// A handle on a thread known by id, without a request.
    pub fn thread(&self, id: impl Into<String>) -> Thread {
        Thread::new(self.connection.clone(), id.into())
    }

    /// Starts a thread ([`ApprovalMode::AutoReview`] unless the options choose), with the
    /// options' client-defined tools.
    ///
    /// # Errors
    /// [`Error::InvalidTool`] before anything is sent, and any request error.
    pub async fn thread_start(&self, options: ThreadOptions) -> Result<Thread, Error> {
        let tools = Toolset::new(options.tools.clone())?;
        let mut params = options.to_params(Some(ApprovalMode::AutoReview));
        let specs = tools.specs();
        if !specs.is_empty() {
            params.dynamic_tools = Some(specs);
        }
        let started: ThreadStartResponse =
            self.shared().request(ThreadStart::NAME, &params).await?;
        Ok(self.adopt(started.thread.id, tools))
    }

    /// Loads a stored thread so turns can run on it. It keeps the tools it was started with;
    /// pass the same ones in the options to answer their calls.
    ///
    /// # Errors
    /// [`Error::InvalidTool`], and any request error (an unknown id is [`Error::Rpc`]).
    pub async fn thread_resume(
        &self,
        thread_id: impl Into<String>,
        options: ThreadOptions,
    ) -> Result<Thread, Error> {
        let tools = Toolset::new(options.tools.clone())?;
        let params = ThreadResumeParams {
            thread_id: thread_id.into(),
            exclude_turns: options.exclude_turns(),
            settings: options.to_params(None),
        };
        let resumed: ThreadResumeResponse = self.request::<ThreadResume>(&params).await?;
        Ok(self.adopt(resumed.thread.id, tools))
    }

    /// Creates a thread that continues from an existing one.
    ///
    /// # Errors
    /// As [`Codex::thread_resume`].
    pub async fn thread_fork(
        &self,
        thread_id: impl Into<String>,
        options: ThreadOptions,
    ) -> Result<Thread, Error> {
        let tools = Toolset::new(options.tools.clone())?;
        let params = ThreadForkParams {
            thread_id: thread_id.into(),
            exclude_turns: options.exclude_turns(),
            settings: options.to_params(None),
        };
        let forked: ThreadForkResponse = self.request::<ThreadFork>(&params).await?;
        Ok(self.adopt(forked.thread.id, tools))
    }

    /// Lists stored threads, one page.
    ///
    /// ```no_run
    /// # async fn demo(codex: codex_sdk::Codex) -> codex_sdk::Result<()> {
    /// use codex_sdk::protocol::v2::ThreadListParams;
    ///
    /// let archived = codex
    ///     .thread_list(ThreadListParams { archived: Some(true), ..Default::default() })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Any request error.
    pub async fn thread_list(&self, params: ThreadListParams) -> Result<ThreadListResponse, Error> {
        self.request::<ThreadList>(&params).await
    }

    /// Reads a thread by id.
    ///
    /// # Errors
    /// Any request error.
    pub async fn thread_read(
        &self,
        thread_id: impl Into<String>,
        include_turns: bool,
    ) -> Result<ThreadReadResponse, Error> {
        self.request::<ThreadRead>(&ThreadReadParams {
            thread_id: thread_id.into(),
            include_turns,
        })
        .await
    }

    /// Archives a stored thread.
    ///
    /// # Errors
    /// Any request error.
    pub async fn thread_archive(
        &self,
        thread_id: impl Into<String>,
    ) -> Result<ThreadArchiveResponse, Error> {
        self.request::<ThreadArchive>(&ThreadArchiveParams {
            thread_id: thread_id.into(),
        })
        .await
    }

    /// Restores an archived thread.
    ///
    /// # Errors
    /// Any request error.
    pub async fn thread_unarchive(&self, thread_id: impl Into<String>) -> Result<Thread, Error> {
        let restored: ThreadUnarchiveResponse = self
            .request::<ThreadUnarchive>(&ThreadUnarchiveParams {
                thread_id: thread_id.into(),
            })
            .await?;
        Ok(self.thread(restored.thread.id))
    }

    /// The models the server offers.
    ///
    /// # Errors
    /// Any request error.
    pub async fn models(&self, include_hidden: bool) -> Result<ModelListResponse, Error> {
        self.request::<ModelList>(&ModelListParams {
            include_hidden: Some(include_hidden),
            ..ModelListParams::default()
        })
        .await
    }

    /// Closes the connection: what is pending fails with [`Error::TransportClosed`], the
    /// server's input closes, and a server that does not exit within 2 s is killed.
    /// Idempotent; closes every clone. Dropping the last clone without closing kills the
    /// server at once.
    pub async fn close(&self) {
        self.connection.close().await;
    }

    fn adopt(&self, thread_id: String, tools: Toolset) -> Thread {
        self.shared()
            .responder
            .register_tools(&thread_id, Arc::new(tools));
        self.thread(thread_id)
    }
}
