//! What a turn needs from the runtime, and nothing more: the client sink (routed to the thread
//! and to the connection that started the turn), store access, the task tracker, the model
//! client, the thread's resolved configuration and the skills shown to the model.

use crate::config::Settings;
use crate::identity::ClientIdentity;
use crate::sink::Sink;
use crate::skills::Skills;
use crate::store_access::StoreAccess;
use codex_model::ModelClient;
use codex_protocol::v2::TurnError;
use std::sync::Arc;
use tokio_util::task::TaskTracker;

pub struct TurnEnv {
    pub sink: Sink,
    pub store: StoreAccess,
    /// The runtime's tracker: a shutdown waits for the turn (and the work it spawns) to end.
    pub tasks: TaskTracker,
    /// The provider's client, or why there is none (the turn then fails after it started).
    pub model: Result<ModelClient, TurnError>,
    /// The configuration the thread was resolved from (context window, compaction).
    pub base: Arc<Settings>,
    /// The client that started the turn: `originator` and `user-agent` of model requests.
    pub client: Arc<ClientIdentity>,
    /// The skills listed to the model, and the files a `{type: "skill"}` input adds.
    pub skills: Arc<Skills>,
}
