//! Who a request comes from: the client's name and version (from `initialize`), the user agent
//! we derive from them, and the opaque origin the server uses to route server requests back to
//! the connection that asked.

use crate::sink::Origin;
use std::sync::Arc;

/// A client as it introduced itself in `initialize`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIdentity {
    pub name: String,
    pub version: String,
    /// `<name>/<version> (<os> <os version>; <arch>) <terminal> (<name>; <client version>)`,
    /// computed once per client.
    pub user_agent: String,
    /// Whether the client's `initialize` set `capabilities.experimentalApi`: only then may it
    /// use experimental fields such as `thread/start.dynamicTools`.
    pub experimental_api: bool,
}

impl ClientIdentity {
    pub fn new(name: &str, version: &str) -> ClientIdentity {
        ClientIdentity {
            name: name.to_string(),
            version: version.to_string(),
            user_agent: user_agent(name, version),
            experimental_api: false,
        }
    }

    /// The same client, having opted in (or not) to the experimental API.
    pub fn with_experimental_api(mut self, enabled: bool) -> ClientIdentity {
        self.experimental_api = enabled;
        self
    }
}

impl Default for ClientIdentity {
    /// The runtime itself, before any client said who it is.
    fn default() -> Self {
        ClientIdentity::new("codex", codex_protocol::SERVER_VERSION)
    }
}

/// The caller of a core operation: its identity (originator of new threads, headers of model
/// requests) and its origin (where the turn's server requests go).
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub origin: Option<Origin>,
    pub client: Arc<ClientIdentity>,
}

/// `<name>/<version> (<os> <os version>; <arch>) <terminal> (<name>; <client version>)`.
pub fn user_agent(client_name: &str, client_version: &str) -> String {
    let os = os_release().unwrap_or_else(|| std::env::consts::OS.to_string());
    let term = std::env::var("TERM").unwrap_or_else(|_| "unknown".into());
    format!(
        "{client_name}/{} ({os}; {}) {term} ({client_name}; {client_version})",
        codex_protocol::SERVER_VERSION,
        std::env::consts::ARCH,
    )
}

fn os_release() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(|v| v.trim_matches('"').to_string())
    };
    Some(
        format!(
            "{} {}",
            field("NAME")?,
            field("VERSION_ID").unwrap_or_default()
        )
        .trim()
        .to_string(),
    )
}
