//! Per-thread slots: a mutex per thread id that serializes that thread's file operations
//! (so ordinals stay strictly increasing), holding a bounded cache of open append handles.

use std::collections::HashMap;
use std::fs::File;
use std::sync::{Arc, Mutex, MutexGuard};

/// Open handles kept at most (idle slots beyond this are dropped, closing their files).
const MAX_SLOTS: usize = 256;

/// Locks a mutex, recovering from poisoning: the protected state is either re-derivable
/// from disk (handles) or a SQLite connection whose transactions roll back on their own.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An `O_APPEND` handle on a rollout file plus what the next write needs to know.
pub(crate) struct OpenFile {
    pub file: File,
    pub next_ordinal: u64,
    /// The file's last byte is not '\n' (torn line left by a crash): terminate it first.
    pub needs_newline: bool,
    /// The file's length after our last write (or when opened). Another length before the
    /// next write means another process appended (a server sharing `$CODEX_HOME` ran a
    /// turn): the handle is then reopened so ordinals continue theirs.
    pub len: u64,
}

#[derive(Default)]
pub(crate) struct Slot {
    pub open: Option<OpenFile>,
}

#[derive(Default)]
pub(crate) struct Slots {
    map: Mutex<HashMap<String, Arc<Mutex<Slot>>>>,
}

impl Slots {
    /// The slot for a thread id, created on first use. The map lock is held only here.
    pub(crate) fn slot(&self, id: &str) -> Arc<Mutex<Slot>> {
        let mut map = lock(&self.map);
        if let Some(slot) = map.get(id) {
            return Arc::clone(slot);
        }
        if map.len() >= MAX_SLOTS {
            // A slot referenced only by the map is idle: nobody holds or waits for its lock,
            // and nobody can obtain it while we hold the map lock, so dropping it is safe.
            map.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        let slot = Arc::new(Mutex::new(Slot::default()));
        map.insert(id.to_string(), Arc::clone(&slot));
        slot
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.map).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_slots_are_evicted_busy_ones_kept() {
        let slots = Slots::default();
        let busy = slots.slot("busy");
        for i in 0..(MAX_SLOTS * 2) {
            drop(slots.slot(&format!("t{i}")));
        }
        assert!(slots.len() <= MAX_SLOTS);
        assert!(Arc::ptr_eq(&busy, &slots.slot("busy")));
    }
}
