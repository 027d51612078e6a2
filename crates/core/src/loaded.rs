//! The table of loaded threads, kept bounded: past the cap, persisted threads that nobody
//! holds and that have no running turn are dropped (their state is rebuilt from the rollout on
//! next use). Ephemeral threads live only here, so they stay.

use crate::thread::LoadedThread;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Loaded threads kept in memory before idle ones are unloaded.
const MAX_LOADED_THREADS: usize = 256;

#[derive(Default)]
pub struct LoadedThreads {
    map: Mutex<HashMap<String, Arc<LoadedThread>>>,
}

impl LoadedThreads {
    pub fn get(&self, id: &str) -> Option<Arc<LoadedThread>> {
        self.map.lock().ok().and_then(|t| t.get(id).cloned())
    }

    pub fn insert(&self, thread: Arc<LoadedThread>) {
        if let Ok(mut t) = self.map.lock() {
            unload_idle(&mut t);
            t.insert(thread.id.clone(), thread);
        }
    }

    /// Inserts `thread` unless another request loaded the same id meanwhile; returns the one
    /// in the table.
    pub fn insert_or_get(&self, thread: Arc<LoadedThread>) -> Arc<LoadedThread> {
        let Ok(mut t) = self.map.lock() else {
            return thread;
        };
        if !t.contains_key(&thread.id) {
            unload_idle(&mut t);
        }
        t.entry(thread.id.clone()).or_insert(thread).clone()
    }

    /// Removes `thread` (this very one, not a reload of the same id) when `still_unwanted`
    /// holds. The check runs under the table's lock, so a request that looks the thread up
    /// either finds it before the check (and the check sees what that request did) or finds
    /// it gone.
    pub fn remove_if(
        &self,
        thread: &Arc<LoadedThread>,
        still_unwanted: impl FnOnce() -> bool,
    ) -> bool {
        let Ok(mut t) = self.map.lock() else {
            return false;
        };
        let same = t
            .get(&thread.id)
            .is_some_and(|held| Arc::ptr_eq(held, thread));
        if same && still_unwanted() {
            t.remove(&thread.id);
            return true;
        }
        false
    }

    pub fn remove(&self, id: &str) {
        if let Ok(mut t) = self.map.lock() {
            t.remove(id);
        }
    }

    /// Loaded thread ids, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .map
            .lock()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        ids.sort();
        ids
    }
}

fn unload_idle(threads: &mut HashMap<String, Arc<LoadedThread>>) {
    if threads.len() < MAX_LOADED_THREADS {
        return;
    }
    threads.retain(|_, t| {
        let idle = !t.ephemeral
            && Arc::strong_count(t) == 1
            && t.state.try_lock().is_ok_and(|st| st.active.is_none());
        !idle
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ThreadSettings;
    use codex_store::ThreadRecord;
    use std::path::PathBuf;

    fn thread(id: &str, ephemeral: bool) -> Arc<LoadedThread> {
        let base = Arc::new(crate::config::Settings::from_table(&toml::Table::new()).unwrap());
        let settings = ThreadSettings::from_config(&base, PathBuf::from("/w")).unwrap();
        let record = ThreadRecord {
            id: id.to_string(),
            path: PathBuf::new(),
            created_at: 0,
            updated_at: 0,
            cwd: PathBuf::from("/w"),
            model_provider: "openai".into(),
            model: None,
            source: serde_json::json!("vscode"),
            cli_version: "0".into(),
            originator: "t".into(),
            name: None,
            preview: String::new(),
            archived: false,
            forked_from_id: None,
        };
        LoadedThread::new(record, settings, ephemeral)
    }

    #[test]
    fn idle_threads_are_unloaded_past_the_cap_but_held_and_ephemeral_ones_stay() {
        let mut table = HashMap::new();
        for i in 0..MAX_LOADED_THREADS {
            table.insert(format!("t{i}"), thread(&format!("t{i}"), false));
        }
        let held = table["t1"].clone();
        table.insert("e".into(), thread("e", true));
        unload_idle(&mut table);
        let mut left: Vec<&String> = table.keys().collect();
        left.sort();
        assert_eq!(left, vec!["e", "t1"]);
        drop(held);
    }
}
