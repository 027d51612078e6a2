//! Who follows which thread. A connection is subscribed to a thread when it starts, resumes or
//! forks it, or starts a turn on it (unless it left it with `thread/unsubscribe`); it leaves
//! with `thread/unsubscribe` or by disconnecting. The thread's notifications go to its
//! subscribers only (the router adds the few that go to everyone).
//!
//! Re-attaching mid-turn without a gap or a duplicate: each thread keeps the running turn's
//! `turn/started`, `item/started` and `item/completed` frames (its live log). `thread/resume`
//! subscribes the client as *holding* and takes a copy of the log in one step, under the
//! thread's lock, the same lock every notification of the thread is published under. The
//! resume answer is built from that copy; what is published meanwhile waits in the hold
//! buffer and is sent right after the answer ([`Subscriptions::release`]). So the client sees
//! the turn's items so far in the answer, then every later notification, once each.

use crate::client::ClientConnection;
use codex_core::Origin;
use codex_jsonrpc::Frame;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// Method names the live log keeps or resets on (the protocol table's wire names).
const TURN_STARTED: &str = "turn/started";
const TURN_COMPLETED: &str = "turn/completed";
const ITEM_STARTED: &str = "item/started";
const ITEM_COMPLETED: &str = "item/completed";
const THREAD_CLOSED: &str = "thread/closed";

/// One published frame of the live log, with its method.
pub type Logged = (&'static str, Frame);

#[derive(Default)]
pub struct Subscriptions {
    threads: RwLock<HashMap<String, Arc<Mutex<ThreadEntry>>>>,
}

#[derive(Default)]
struct ThreadEntry {
    /// In subscription order (the order a server request is handed on in).
    subscribers: Vec<Subscriber>,
    /// The running turn's start and item frames, in publish order; empty between turns.
    live_turn: Vec<Logged>,
    /// Removed from the table (nobody subscribed, no turn running): whoever still holds it
    /// looks the thread up again, so a subscription is never added to a forgotten entry.
    retired: bool,
}

impl ThreadEntry {
    /// Adds `client` as a subscriber (holding its notifications when `held` is some), unless
    /// it is one already; returns whether it was added.
    fn add(&mut self, client: &Arc<ClientConnection>, held: Option<Vec<Logged>>) -> bool {
        if self
            .subscribers
            .iter()
            .any(|s| s.client.origin == client.origin)
        {
            return false;
        }
        self.subscribers.push(Subscriber {
            client: client.clone(),
            held,
        });
        true
    }
}

struct Subscriber {
    client: Arc<ClientConnection>,
    /// `Some` while the client's `thread/resume` is being answered: what it gets right after.
    held: Option<Vec<(&'static str, Frame)>>,
}

/// A subscription made by `thread/resume`, holding the thread's notifications until the
/// answer is sent.
pub struct Attachment {
    /// The running turn's frames as of the subscription.
    pub live_turn: Vec<Logged>,
    /// False when the client was subscribed already (it then keeps getting notifications).
    newly: bool,
}

impl Subscriptions {
    fn entry(&self, thread_id: &str) -> Option<Arc<Mutex<ThreadEntry>>> {
        self.threads
            .read()
            .ok()
            .and_then(|threads| threads.get(thread_id).cloned())
    }

    fn entry_or_insert(&self, thread_id: &str) -> Option<Arc<Mutex<ThreadEntry>>> {
        if let Some(entry) = self.entry(thread_id) {
            return Some(entry);
        }
        let mut threads = self.threads.write().ok()?;
        Some(threads.entry(thread_id.to_string()).or_default().clone())
    }

    /// Runs `f` on the thread's entry under its lock (creating the entry when `create`);
    /// `None` when there is none.
    fn with_entry<R>(
        &self,
        thread_id: &str,
        create: bool,
        f: impl FnOnce(&mut ThreadEntry) -> R,
    ) -> Option<R> {
        loop {
            let entry = if create {
                self.entry_or_insert(thread_id)?
            } else {
                self.entry(thread_id)?
            };
            let Ok(mut e) = entry.lock() else {
                return None;
            };
            if e.retired {
                continue;
            }
            return Some(f(&mut e));
        }
    }

    /// Publishes a notification about `thread_id` to its subscribers (a holding one buffers
    /// it) and keeps the live log. Returns the origins it went to or was held for.
    pub fn publish(&self, thread_id: &str, method: &'static str, frame: &Frame) -> Vec<Origin> {
        let published = self.with_entry(thread_id, method == TURN_STARTED, |e| {
            match method {
                TURN_STARTED => {
                    e.live_turn.clear();
                    e.live_turn.push((method, frame.clone()));
                }
                ITEM_STARTED | ITEM_COMPLETED if !e.live_turn.is_empty() => {
                    e.live_turn.push((method, frame.clone()));
                }
                TURN_COMPLETED => e.live_turn.clear(),
                _ => {}
            }
            let mut reached = Vec::with_capacity(e.subscribers.len());
            for sub in &mut e.subscribers {
                reached.push(sub.client.origin);
                match &mut sub.held {
                    Some(held) => {
                        if held.len() >= sub.client.queue_limit() {
                            sub.client.kick();
                        } else {
                            held.push((method, frame.clone()));
                        }
                    }
                    None => sub.client.deliver(method, frame),
                }
            }
            (reached, e.subscribers.is_empty())
        });
        let Some((reached, unwanted)) = published else {
            return Vec::new();
        };
        if method == THREAD_CLOSED && unwanted {
            self.forget_if_unwanted(thread_id);
        }
        reached
    }

    /// Drops the entry of a thread that unloaded with nobody subscribed.
    fn forget_if_unwanted(&self, thread_id: &str) {
        if let Ok(mut threads) = self.threads.write() {
            let unwanted = threads.get(thread_id).is_some_and(|entry| {
                entry.lock().is_ok_and(|mut e| {
                    let unwanted = e.subscribers.is_empty() && e.live_turn.is_empty();
                    e.retired |= unwanted;
                    unwanted
                })
            });
            if unwanted {
                threads.remove(thread_id);
            }
        }
    }

    /// Subscribes `client` to `thread_id` (no change when it is subscribed already).
    pub fn subscribe(&self, client: &Arc<ClientConnection>, thread_id: &str) {
        if let Some(entry) = self.entry_or_insert(thread_id) {
            if let Ok(mut e) = entry.lock() {
                e.add(client, None);
            }
        }
    }

    /// Subscribes `client` as holding (see the module comment) and copies the live log, in
    /// one step.
    pub fn attach(&self, client: &Arc<ClientConnection>, thread_id: &str) -> Attachment {
        let mut attachment = Attachment {
            live_turn: Vec::new(),
            newly: false,
        };
        let Some(entry) = self.entry_or_insert(thread_id) else {
            return attachment;
        };
        if let Ok(mut e) = entry.lock() {
            attachment.live_turn = e.live_turn.clone();
            attachment.newly = e.add(client, Some(Vec::new()));
        }
        attachment
    }

    /// Ends the hold of an [`Attachment`] after its answer was sent: `first` (frames the
    /// answer implies, such as items still in progress), then what was held, are queued before
    /// anything published later.
    pub fn release(&self, client: &ClientConnection, thread_id: &str, first: &[Logged]) {
        self.with_entry(thread_id, false, |e| {
            let Some(sub) = e
                .subscribers
                .iter_mut()
                .find(|s| s.client.origin == client.origin)
            else {
                return;
            };
            let held = sub.held.take().unwrap_or_default();
            for (method, frame) in first.iter().chain(held.iter()) {
                sub.client.deliver(method, frame);
            }
        });
    }

    /// Undoes an [`Attachment`] whose `thread/resume` failed: a subscription it made goes, one
    /// that was there stays. True when the thread is left without subscribers.
    pub fn abandon(
        &self,
        client: &ClientConnection,
        thread_id: &str,
        attachment: Attachment,
    ) -> bool {
        if !attachment.newly {
            self.release(client, thread_id, &[]);
            return false;
        }
        self.unsubscribe(client.origin, thread_id).unwrap_or(false)
    }

    /// Removes the subscription of `origin` to `thread_id`: `None` when there was none, else
    /// whether the thread is left without subscribers.
    pub fn unsubscribe(&self, origin: Origin, thread_id: &str) -> Option<bool> {
        let (removed, empty) = self.with_entry(thread_id, false, |e| {
            let before = e.subscribers.len();
            e.subscribers.retain(|s| s.client.origin != origin);
            (e.subscribers.len() != before, e.subscribers.is_empty())
        })?;
        if empty {
            self.forget_if_unwanted(thread_id);
        }
        removed.then_some(empty)
    }

    /// Removes every subscription of `origin` (it disconnected); returns the threads left
    /// without subscribers.
    pub fn detach(&self, origin: Origin) -> Vec<String> {
        let entries: Vec<(String, Arc<Mutex<ThreadEntry>>)> = match self.threads.read() {
            Ok(threads) => threads
                .iter()
                .map(|(id, entry)| (id.clone(), entry.clone()))
                .collect(),
            Err(_) => return Vec::new(),
        };
        let mut orphaned = Vec::new();
        for (id, entry) in entries {
            let left_empty = entry.lock().is_ok_and(|mut e| {
                let before = e.subscribers.len();
                e.subscribers.retain(|s| s.client.origin != origin);
                e.subscribers.len() != before && e.subscribers.is_empty()
            });
            if left_empty {
                self.forget_if_unwanted(&id);
                orphaned.push(id);
            }
        }
        orphaned
    }

    /// Whether anyone is subscribed to `thread_id`.
    pub fn is_wanted(&self, thread_id: &str) -> bool {
        self.with_entry(thread_id, false, |e| !e.subscribers.is_empty())
            .unwrap_or(false)
    }

    /// The subscribers of `thread_id`, in subscription order.
    pub fn subscribers(&self, thread_id: &str) -> Vec<Arc<ClientConnection>> {
        self.with_entry(thread_id, false, |e| {
            e.subscribers.iter().map(|s| s.client.clone()).collect()
        })
        .unwrap_or_default()
    }
}
