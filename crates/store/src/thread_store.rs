//! The `ThreadStore` trait: everything the runtime does with stored threads, async and
//! object-safe (`Arc<dyn ThreadStore>`), so the embedded store (rollout files + SQLite,
//! `embedded.rs`) and the PostgreSQL store (crate `codex-store-pg`) are interchangeable.
//!
//! Contract shared by every backend:
//! - `append` returns once the lines are durable against a crash of this process; `sync`
//!   adds durability against power loss. Listing metadata (updated_at, preview, name, model)
//!   may be coalesced per thread until `flush` (call it at the end of a turn); reads through
//!   the same store always see it.
//! - `list` pages by an exact keyset over (sort column, id): a walk never sees a thread
//!   twice, and sees every thread that exists unchanged for the whole walk.
//! - A turn runs under the thread's lease (`acquire_lease`, renewed by calling it again
//!   before `expires_at_ms`; `release_lease` at the end). Another owner is refused with
//!   `StoreError::Leased` naming the holder until the lease expires or is released, and may
//!   then take over; `Lease::taken_over_from` then names the previous holder, so the new
//!   owner knows to re-read the thread. A backend may refuse an `append` to a thread whose
//!   unexpired lease another owner holds (PostgreSQL does, for the owner it was opened for).
//! - A store that cannot be opened or reached fails the call with `StoreError::Unavailable`
//!   (or the backend's error) and tries again on the next call.
//!
//! # Cancellation
//! Dropping a returned future abandons the wait, not the work: an append already handed to
//! the store completes (or fails) on its own.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::error::StoreError;
use crate::spans::ScanEnd;
use crate::types::{
    Lease, LinePage, ListPage, ListQuery, LoadedThread, NewThread, RolloutEntry, RolloutLine,
    ThreadRecord,
};

/// What every `ThreadStore` method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// What [`ThreadStore::scan_lines`] calls for each line: `(position, next position, line)`.
pub type LineVisitor = Box<dyn FnMut(u64, u64, &[u8]) + Send>;

/// Durable threads: metadata, listing index, rollout lines and turn leases.
pub trait ThreadStore: Send + Sync + std::fmt::Debug {
    /// `"embedded"` or `"postgres"`, for logs.
    fn backend(&self) -> &'static str;

    /// Opens (or connects to) the store now rather than on first use; `Ok` once usable.
    fn ready(&self) -> StoreFuture<'_, ()>;

    /// Persists a new thread (its `session_meta`). A reused id is `AlreadyExists`.
    fn create_thread(&self, new: NewThread) -> StoreFuture<'_, ThreadRecord>;

    /// New thread `new` holding a copy of `source_id`'s lines after its `session_meta`,
    /// with `forked_from_id` set and the source's name inherited.
    fn fork<'a>(&'a self, source_id: &'a str, new: NewThread) -> StoreFuture<'a, ThreadRecord>;

    /// Appends lines (ordinals continue the thread's). Unknown thread: `NotFound`.
    fn append<'a>(&'a self, thread_id: &'a str, entries: Vec<RolloutEntry>) -> StoreFuture<'a, ()>;

    /// Publishes the thread's coalesced listing metadata to other servers (end of a turn).
    fn flush<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ()>;

    /// Makes the thread's lines durable against power loss (and flushes).
    fn sync<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ()>;

    /// The whole thread: record and every line.
    fn load<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, LoadedThread>;

    /// Up to `limit` lines from position `from` (0 = the `session_meta` line).
    fn read_lines<'a>(
        &'a self,
        thread_id: &'a str,
        from: u64,
        limit: usize,
    ) -> StoreFuture<'a, LinePage>;

    /// Calls `visit(position, next, line)` for every complete line at or after position
    /// `from`, in order, without parsing it (a caller indexing a long thread reads only what
    /// was appended since its last scan). Positions are the backend's own (byte offsets in a
    /// rollout file, line ordinals in a database): only values a scan reported mean anything.
    /// [`ScanEnd::shrunk`] says the thread is shorter than `from` (it was replaced): scan
    /// again from 0.
    fn scan_lines<'a>(
        &'a self,
        thread_id: &'a str,
        from: u64,
        visit: LineVisitor,
    ) -> StoreFuture<'a, ScanEnd>;

    /// The parsable lines of each span `[from, to)` of positions from [`Self::scan_lines`],
    /// in order.
    fn read_spans<'a>(
        &'a self,
        thread_id: &'a str,
        spans: Vec<(u64, u64)>,
    ) -> StoreFuture<'a, Vec<Vec<RolloutLine>>>;

    fn get<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, Option<ThreadRecord>>;

    /// One keyset page (see [`ListQuery`]).
    fn list(&self, query: ListQuery) -> StoreFuture<'_, ListPage>;

    /// Already archived: no-op returning the record.
    fn archive<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ThreadRecord>;

    /// Not archived: no-op returning the record.
    fn unarchive<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ThreadRecord>;

    fn set_name<'a>(&'a self, thread_id: &'a str, name: &'a str) -> StoreFuture<'a, ThreadRecord>;

    /// Removes the thread and its lines for good.
    fn delete<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ()>;

    /// Takes or renews the thread's turn lease for `owner` (see the module comment).
    fn acquire_lease<'a>(
        &'a self,
        thread_id: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Lease>;

    /// Ends `owner`'s lease now (no-op if another owner holds it now). The holder stays
    /// recorded, so the next owner's `taken_over_from` names it.
    fn release_lease<'a>(&'a self, thread_id: &'a str, owner: &'a str) -> StoreFuture<'a, ()>;
}

/// An owner name for this server process, unique across hosts and restarts:
/// `"<host>/<pid>/<start time ns>"`. Errors name it, so it says where the turn runs.
pub fn default_lease_owner() -> String {
    let started = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("{}/{}/{started:x}", this_host(), std::process::id())
}

fn this_host() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    if host.is_empty() {
        "localhost".to_string()
    } else {
        host
    }
}

/// Whether `owner` (a name from [`default_lease_owner`]) is a server process of this host that
/// no longer runs (no such process, or one that died and was not reaped yet). Its lease may
/// then be taken at once: a server restarted after a crash goes on without waiting for the
/// lease of its previous life to expire. Owners on other hosts, and processes that still run,
/// are never judged gone.
pub fn lease_owner_is_gone(owner: &str) -> bool {
    let mut parts = owner.split('/');
    let (Some(host), Some(pid), Some(_started)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host != this_host() || pid == std::process::id() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which ends at the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state == 'Z' || state == 'X'),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_dead_process_of_this_host_is_gone() {
        let me = default_lease_owner();
        assert!(!lease_owner_is_gone(&me), "this process runs");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let owner = format!("{}/{pid}/1", this_host());
        child.wait().unwrap();
        assert!(lease_owner_is_gone(&owner), "a reaped child is gone");
        assert!(!lease_owner_is_gone(&format!("another-host/{pid}/1")));
        assert!(!lease_owner_is_gone("not an owner"));
        // pid 1 always runs.
        assert!(!lease_owner_is_gone(&format!("{}/1/1", this_host())));
    }
}
