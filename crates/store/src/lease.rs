//! Turn leases in the embedded index: a running turn is owned by one server, and several
//! servers may share one `$CODEX_HOME` (and so this index). A lease is a row with an owner
//! and an expiry; another owner is refused until the expiry passes, then takes it over.
//! Releasing ends the lease now but keeps the row, so the next owner learns that someone
//! else held the thread before it (`Lease::taken_over_from`) and re-reads what it wrote.
//! Times are this host's wall clock (every process sharing the file is on this host).

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::StoreError;
use crate::types::Lease;

/// Takes or renews the lease of `thread_id` for `owner` until `now_ms + ttl_ms`.
pub(crate) fn acquire(
    conn: &mut Connection,
    thread_id: &str,
    owner: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<Lease, StoreError> {
    let tx = conn.transaction()?;
    let current: Option<(String, i64)> = tx
        .query_row(
            "SELECT owner, expires_at_ms FROM leases WHERE thread_id = ?1",
            [thread_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let taken_over_from = match current {
        Some((holder, expires_at_ms)) if holder != owner && expires_at_ms > now_ms => {
            return Err(StoreError::Leased {
                thread_id: thread_id.to_string(),
                owner: holder,
                expires_at_ms,
            })
        }
        Some((holder, _)) if holder != owner => Some(holder),
        _ => None,
    };
    let expires_at_ms = now_ms.saturating_add(ttl_ms);
    tx.execute(
        "INSERT INTO leases (thread_id, owner, expires_at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT(thread_id) DO UPDATE SET owner = excluded.owner,
             expires_at_ms = excluded.expires_at_ms",
        params![thread_id, owner, expires_at_ms],
    )?;
    tx.commit()?;
    Ok(Lease {
        thread_id: thread_id.to_string(),
        owner: owner.to_string(),
        expires_at_ms,
        taken_over_from,
    })
}

/// Ends the lease now if `owner` still holds it (the row stays, naming the last owner).
pub(crate) fn release(
    conn: &Connection,
    thread_id: &str,
    owner: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE leases SET expires_at_ms = MIN(expires_at_ms, ?3)
         WHERE thread_id = ?1 AND owner = ?2",
        params![thread_id, owner, now_ms],
    )?;
    Ok(())
}

impl crate::store::Store {
    /// Takes (or, for its owner, renews) the turn lease of a thread for `ttl`. Another
    /// owner's unexpired lease is `StoreError::Leased` naming it; an expired one is taken over.
    pub fn acquire_lease(
        &self,
        thread_id: &str,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<Lease, StoreError> {
        self.require(thread_id)?;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut db = crate::handles::lock(&self.inner.db);
        acquire(&mut db, thread_id, owner, now_ms, ttl_ms)
    }

    /// Gives up `owner`'s lease on a thread (a no-op when someone else holds it now).
    pub fn release_lease(&self, thread_id: &str, owner: &str) -> Result<(), StoreError> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let db = crate::handles::lock(&self.inner.db);
        release(&db, thread_id, owner, now_ms)
    }
}
