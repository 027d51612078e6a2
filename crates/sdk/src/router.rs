//! Per-turn routing of notifications (no I/O; the connection holds it under a lock).
//!
//! A turn-scoped notification (one with `turnId` or `turn.id`) goes to the sinks subscribed to
//! its turn. A turn's first notifications can arrive before the `turn/start` answer that names
//! the turn, and `turn/start` on a busy thread answers with the running turn's id (joining it).
//! So while any `turn/start` is in flight every turn-scoped notification is also logged, and
//! each start remembers where each log stood when it was sent ([`Router::begin_start`]): the
//! sink that claims a turn id ([`Router::finish_start`]) gets that turn's notifications from
//! that point, then live ones. With no start in flight the logs are dropped (nobody asked for
//! those turns, e.g. compaction turns). A turn's sinks are released once its `turn/completed`
//! is delivered: nothing of that turn follows it.
//!
//! Delivery never waits: a sink whose buffer is full is dropped and marked lagged, so one
//! consumer that stopped reading cannot stall the connection (whose reader also carries the
//! answers every other caller waits for).

use crate::notification::Notification;
use codex_protocol::methods::{Notification as _, TurnCompleted};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The sending end of one turn stream.
pub(crate) struct Sink {
    id: u64,
    tx: mpsc::Sender<Notification>,
    lagged: Arc<AtomicBool>,
}

/// The receiving end of one turn stream.
pub(crate) struct SinkReceiver {
    pub id: u64,
    pub rx: mpsc::Receiver<Notification>,
    /// Set when the router dropped the sink because its buffer was full.
    pub lagged: Arc<AtomicBool>,
}

impl Sink {
    /// True while the sink should stay attached.
    fn deliver(&self, notification: Notification) -> bool {
        match self.tx.try_send(notification) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lagged.store(true, Ordering::Release);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// Where every turn log stood when one `turn/start` was sent.
struct Mark {
    id: u64,
    offsets: HashMap<String, usize>,
}

pub(crate) struct Router {
    sinks: HashMap<String, Vec<Sink>>,
    log: HashMap<String, Vec<Notification>>,
    /// Turns whose log hit the capacity; a claim on them starts lagged.
    overflowed: HashSet<String>,
    marks: Vec<Mark>,
    next_id: u64,
    closed: bool,
    capacity: usize,
}

impl Router {
    /// `capacity` bounds each sink's buffer and each turn's log.
    pub fn new(capacity: usize) -> Router {
        Router {
            sinks: HashMap::new(),
            log: HashMap::new(),
            overflowed: HashSet::new(),
            marks: Vec::new(),
            next_id: 0,
            closed: false,
            capacity: capacity.max(1),
        }
    }

    /// A new sink and its receiver.
    pub fn channel(&mut self) -> (Sink, SinkReceiver) {
        self.next_id += 1;
        let (tx, rx) = mpsc::channel(self.capacity);
        let lagged = Arc::new(AtomicBool::new(false));
        let sink = Sink {
            id: self.next_id,
            tx,
            lagged: lagged.clone(),
        };
        let receiver = SinkReceiver {
            id: self.next_id,
            rx,
            lagged,
        };
        (sink, receiver)
    }

    /// Call before sending `turn/start`; pass the mark to [`Router::finish_start`].
    pub fn begin_start(&mut self) -> u64 {
        self.next_id += 1;
        let offsets = self
            .log
            .iter()
            .map(|(turn, log)| (turn.clone(), log.len()))
            .collect();
        self.marks.push(Mark {
            id: self.next_id,
            offsets,
        });
        self.next_id
    }

    /// Call once the `turn/start` answered (or failed, or was abandoned): `claim` attaches a
    /// sink to the turn it names, replaying what was logged for it since the mark.
    pub fn finish_start(&mut self, mark: u64, claim: Option<(&str, Sink)>) {
        let offsets = match self.marks.iter().position(|m| m.id == mark) {
            Some(at) => self.marks.remove(at).offsets,
            None => HashMap::new(),
        };
        if let Some((turn_id, sink)) = claim {
            let from = offsets.get(turn_id).copied().unwrap_or(0);
            self.attach(turn_id, sink, from);
        }
        if self.marks.is_empty() {
            self.log.clear();
            self.overflowed.clear();
        }
    }

    fn attach(&mut self, turn_id: &str, sink: Sink, replay_from: usize) {
        if self.closed {
            return;
        }
        if self.overflowed.contains(turn_id) {
            sink.lagged.store(true, Ordering::Release);
            return;
        }
        let replay = self
            .log
            .get(turn_id)
            .map(|log| log.get(replay_from..).unwrap_or_default())
            .unwrap_or_default();
        for notification in replay {
            if !sink.deliver(notification.clone()) {
                return;
            }
            if notification.method() == TurnCompleted::NAME {
                return;
            }
        }
        self.sinks
            .entry(turn_id.to_string())
            .or_default()
            .push(sink);
    }

    /// Detaches sink `id` of `turn_id` (its stream was dropped).
    pub fn unsubscribe(&mut self, turn_id: &str, id: u64) {
        if let Some(sinks) = self.sinks.get_mut(turn_id) {
            sinks.retain(|s| s.id != id);
            if sinks.is_empty() {
                self.sinks.remove(turn_id);
            }
        }
    }

    /// Whether a notification of `turn_id` would go anywhere (a start is in flight, or the
    /// turn has a stream).
    pub fn wants(&self, turn_id: &str) -> bool {
        !self.marks.is_empty() || self.sinks.contains_key(turn_id)
    }

    /// Delivers a notification of `turn_id`.
    pub fn route(&mut self, turn_id: &str, notification: Notification) {
        let completed = notification.method() == TurnCompleted::NAME;
        if !self.marks.is_empty() {
            let log = self.log.entry(turn_id.to_string()).or_default();
            if log.len() < self.capacity {
                log.push(notification.clone());
            } else {
                self.overflowed.insert(turn_id.to_string());
            }
        }
        let Some(mut sinks) = self.sinks.remove(turn_id) else {
            return;
        };
        // The last sink takes the notification itself; the others get copies.
        let last = sinks.pop();
        sinks.retain(|sink| sink.deliver(notification.clone()));
        if let Some(last) = last {
            if last.deliver(notification) {
                sinks.push(last);
            }
        }
        if !completed && !sinks.is_empty() {
            self.sinks.insert(turn_id.to_string(), sinks);
        }
    }

    /// Ends every stream; later claims get a closed stream at once.
    pub fn close(&mut self) {
        self.closed = true;
        self.sinks.clear();
        self.log.clear();
        self.marks.clear();
    }

    /// Attached sinks over all turns (for leak checks in tests).
    #[cfg(test)]
    pub fn subscriber_count(&self) -> usize {
        self.sinks.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn delta(turn: &str, text: &str) -> Notification {
        Notification::decode(
            "item/agentMessage/delta".into(),
            Some(json!({"threadId": "t", "turnId": turn, "itemId": "i", "delta": text})),
        )
    }

    fn completed(turn: &str) -> Notification {
        Notification::decode(
            "turn/completed".into(),
            Some(
                json!({"threadId": "t", "turn": {"id": turn, "items": [], "status": "completed",
                "error": null, "startedAt": 1, "completedAt": 2, "durationMs": 5}}),
            ),
        )
    }

    fn drain(rx: &mut SinkReceiver) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(n) = rx.rx.try_recv() {
            out.push(match n.known() {
                Some(codex_protocol::methods::typed::ServerNotification::AgentMessageDelta(d)) => {
                    d.delta.clone()
                }
                _ => n.method().to_string(),
            });
        }
        out
    }

    #[test]
    fn notifications_before_the_start_answer_are_replayed_to_the_claimer() {
        let mut router = Router::new(16);
        router.route("u", delta("u", "ignored: no start in flight"));
        let mark = router.begin_start();
        router.route("u", delta("u", "a"));
        router.route("v", delta("v", "other turn"));
        let (sink, mut rx) = router.channel();
        router.finish_start(mark, Some(("u", sink)));
        router.route("u", delta("u", "b"));
        router.route("u", completed("u"));
        router.route("u", delta("u", "after the end"));
        assert_eq!(drain(&mut rx), ["a", "b", "turn/completed"]);
        assert_eq!(
            router.subscriber_count(),
            0,
            "released after turn/completed"
        );
        assert!(
            router.log.is_empty(),
            "logs dropped once no start is in flight"
        );
    }

    #[test]
    fn a_joining_start_sees_the_turn_from_its_own_mark() {
        let mut router = Router::new(16);
        let first = router.begin_start();
        router.route("u", delta("u", "1"));
        let second = router.begin_start();
        router.route("u", delta("u", "2"));
        let (a, mut rx_a) = router.channel();
        let (b, mut rx_b) = router.channel();
        router.finish_start(second, Some(("u", b)));
        router.finish_start(first, Some(("u", a)));
        router.route("u", delta("u", "3"));
        assert_eq!(drain(&mut rx_a), ["1", "2", "3"]);
        assert_eq!(drain(&mut rx_b), ["2", "3"]);
    }

    #[test]
    fn a_full_sink_is_dropped_and_marked_lagged() {
        let mut router = Router::new(2);
        let mark = router.begin_start();
        let (sink, mut rx) = router.channel();
        router.finish_start(mark, Some(("u", sink)));
        for text in ["a", "b", "c"] {
            router.route("u", delta("u", text));
        }
        assert!(rx.lagged.load(Ordering::Acquire));
        assert_eq!(drain(&mut rx), ["a", "b"]);
        assert!(rx.rx.try_recv().is_err(), "the sender is gone");
        assert_eq!(router.subscriber_count(), 0);
    }

    #[test]
    fn closing_ends_streams_and_refuses_new_claims() {
        let mut router = Router::new(4);
        let mark = router.begin_start();
        let (sink, mut rx) = router.channel();
        router.finish_start(mark, Some(("u", sink)));
        router.close();
        assert!(matches!(
            rx.rx.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        let mark = router.begin_start();
        let (sink, mut rx) = router.channel();
        router.finish_start(mark, Some(("u", sink)));
        assert!(matches!(
            rx.rx.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        assert!(!rx.lagged.load(Ordering::Acquire));
    }

    #[test]
    fn unsubscribed_sinks_get_nothing_more() {
        let mut router = Router::new(4);
        let mark = router.begin_start();
        let (sink, mut rx) = router.channel();
        let id = rx.id;
        router.finish_start(mark, Some(("u", sink)));
        router.unsubscribe("u", id);
        router.route("u", delta("u", "x"));
        assert!(drain(&mut rx).is_empty());
        assert_eq!(router.subscriber_count(), 0);
    }
}
