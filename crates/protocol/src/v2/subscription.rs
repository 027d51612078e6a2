//! Thread subscriptions: `thread/unsubscribe`. A connection is subscribed to the threads it
//! starts, resumes or forks (and those it starts turns on); `thread/unsubscribe` stops the
//! thread's notifications to it, except `thread/status/changed`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What `thread/unsubscribe` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ThreadUnsubscribeStatus {
    /// The connection was subscribed and is no longer.
    Unsubscribed,
    /// The thread is loaded but the connection was not subscribed to it.
    NotSubscribed,
    /// The thread is not loaded.
    NotLoaded,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ThreadUnsubscribeResponse {
    pub status: ThreadUnsubscribeStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_use_the_official_spelling() {
        for (status, wire) in [
            (ThreadUnsubscribeStatus::Unsubscribed, "unsubscribed"),
            (ThreadUnsubscribeStatus::NotSubscribed, "notSubscribed"),
            (ThreadUnsubscribeStatus::NotLoaded, "notLoaded"),
        ] {
            let response = ThreadUnsubscribeResponse { status };
            let json = serde_json::to_value(&response).unwrap();
            assert_eq!(json, serde_json::json!({"status": wire}));
            assert_eq!(
                serde_json::from_value::<ThreadUnsubscribeResponse>(json).unwrap(),
                response
            );
        }
    }
}
