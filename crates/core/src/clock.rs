//! Time and ids as the wire and the rollout spell them. One place, so every module that needs
//! a timestamp (turns, tools, the rollout) reads the same clock.

/// Milliseconds since the Unix epoch (item `startedAtMs` / `completedAtMs`).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Seconds since the Unix epoch (turn and thread timestamps).
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A fresh thread or turn id: a UUIDv7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
