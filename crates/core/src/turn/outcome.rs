//! How a turn, or one model exchange inside it, ends.

use codex_protocol::v2::TurnError;

/// How a turn ended.
pub enum Outcome {
    Completed,
    Interrupted,
    Failed(TurnError),
}

/// Why a model exchange stopped early.
pub enum Stop {
    Interrupted,
    Failed(TurnError),
}

impl From<Stop> for Outcome {
    fn from(s: Stop) -> Self {
        match s {
            Stop::Interrupted => Outcome::Interrupted,
            Stop::Failed(e) => Outcome::Failed(e),
        }
    }
}
