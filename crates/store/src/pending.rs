//! Index updates of appends, coalesced: a turn appends about seven times, and one index
//! update per turn (instead of one per append) is most of the saving of batching.
//!
//! An append writes its lines to the rollout at once (durability does not wait for the
//! index) and merges what it changed (file size, ordinals, preview, name, model) into the
//! thread's pending entry here. Entries are written to the index, all in one transaction:
//! before anything reads the index in this process (`get`, `list`, reopening a handle), when
//! the caller flushes (end of turn, `sync`), when a thread's entry is older than
//! [`MAX_DELAY`] at its next append (so other processes sharing the index see a long turn's
//! progress), and when the store is dropped. A crash loses only pending index updates, which
//! reconciliation re-derives from the files (their size no longer matches the row).
//!
//! Lock order: a slot, then the index connection, then this map; the map is never held
//! while taking another lock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::error::StoreError;
use crate::handles::lock;
use crate::index::{self, AppendUpdate};

/// Longest an append's index update waits for a flush (checked at the thread's next append).
pub(crate) const MAX_DELAY: Duration = Duration::from_millis(500);

#[derive(Default)]
pub(crate) struct Pending {
    map: Mutex<HashMap<String, (AppendUpdate, Instant)>>,
}

impl Pending {
    /// Merges an append's update; `true` when the thread's entry has waited long enough
    /// that the caller should flush it now.
    pub(crate) fn merge(&self, id: &str, update: AppendUpdate) -> bool {
        let mut map = lock(&self.map);
        match map.get_mut(id) {
            Some((current, since)) => {
                *current = std::mem::take(current).then(update);
                since.elapsed() >= MAX_DELAY
            }
            None => {
                map.insert(id.to_string(), (update, Instant::now()));
                false
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.map).is_empty()
    }

    /// Every pending entry (the caller holds the index lock while applying them, so two
    /// flushes never apply entries out of order).
    pub(crate) fn take_all(&self) -> Vec<(String, AppendUpdate)> {
        lock(&self.map)
            .drain()
            .map(|(id, (update, _))| (id, update))
            .collect()
    }

    pub(crate) fn take(&self, id: &str) -> Option<AppendUpdate> {
        lock(&self.map).remove(id).map(|(update, _)| update)
    }

    /// Puts entries back after a failed flush, under any newer ones merged meanwhile.
    pub(crate) fn restore(&self, entries: Vec<(String, AppendUpdate)>) {
        let mut map = lock(&self.map);
        for (id, older) in entries {
            match map.remove(&id) {
                Some((newer, since)) => map.insert(id, (older.then(newer), since)),
                None => map.insert(id, (older, Instant::now())),
            };
        }
    }
}

/// Writes every pending entry to the index in one transaction.
pub(crate) fn flush_all(pending: &Pending, db: &Mutex<Connection>) -> Result<(), StoreError> {
    if pending.is_empty() {
        return Ok(());
    }
    let mut db = lock(db);
    let entries = pending.take_all();
    apply(pending, &mut db, entries)
}

/// Writes one thread's pending entry, if any.
pub(crate) fn flush_one(
    pending: &Pending,
    db: &Mutex<Connection>,
    id: &str,
) -> Result<(), StoreError> {
    if pending.is_empty() {
        return Ok(());
    }
    let mut db = lock(db);
    match pending.take(id) {
        Some(update) => apply(pending, &mut db, vec![(id.to_string(), update)]),
        None => Ok(()),
    }
}

fn apply(
    pending: &Pending,
    db: &mut Connection,
    entries: Vec<(String, AppendUpdate)>,
) -> Result<(), StoreError> {
    let written = (|| {
        let tx = db.transaction()?;
        for (id, update) in &entries {
            index::apply_append(&tx, id, update)?;
        }
        tx.commit()?;
        Ok(())
    })();
    if written.is_err() {
        pending.restore(entries);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(size: i64, preview: Option<&str>, model: Option<&str>) -> AppendUpdate {
        AppendUpdate {
            size,
            mtime_ns: size,
            next_ordinal: u64::try_from(size).unwrap(),
            preview: preview.map(str::to_string),
            event_name: None,
            model: model.map(str::to_string),
        }
    }

    #[test]
    fn merged_updates_keep_the_first_preview_and_the_latest_state() {
        let pending = Pending::default();
        assert!(!pending.merge("t", update(1, Some("first"), Some("m1"))));
        assert!(!pending.merge("t", update(2, Some("second"), None)));
        let taken = pending.take_all();
        assert_eq!(
            taken,
            vec![("t".into(), update(2, Some("first"), Some("m1")))]
        );
        assert!(pending.is_empty());
        // A failed flush goes back under what arrived meanwhile.
        pending.merge("t", update(3, None, Some("m3")));
        pending.restore(taken);
        assert_eq!(
            pending.take("t"),
            Some(update(3, Some("first"), Some("m3")))
        );
    }
}
