//! Skills as the runtime uses them: one cache of the skills discovered for each working
//! directory (behind `skills/list` and the `<skills_instructions>` message of model requests),
//! and one watcher over the skill roots of every directory seen so far. When a `SKILL.md`
//! under a watched root changes, the cache is dropped and every client gets `skills/changed`.
//!
//! The watcher starts with the first directory asked about (a `skills/list` or a turn), not
//! with the runtime, so a server that never uses skills never watches anything.

use crate::sink::Sink;
use codex_protocol::methods as m;
use codex_protocol::v2::{SkillsChangedNotification, SkillsListEntry};
use codex_workspace::skills::{
    render_instructions, render_skill_input, SkillHomes, SkillsCache, SkillsWatcher,
};
use codex_workspace::WorkspaceError;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Working directories whose repo roots are watched at most; beyond it new directories are
/// still listed (from disk), just not watched, so a long-lived server cannot pile up watches.
const MAX_WATCHED_CWDS: usize = 256;

pub struct Skills {
    cache: Arc<SkillsCache>,
    /// Held while a directory is scanned: the first turns of many threads arriving together
    /// wait for one scan and read its result from the cache, instead of each taking a
    /// blocking-pool thread to scan the same directories.
    scanning: tokio::sync::Mutex<()>,
    watched: Mutex<Watched>,
    /// Runtime-wide: `skills/changed` concerns no thread.
    sink: Sink,
}

#[derive(Default)]
struct Watched {
    cwds: BTreeSet<PathBuf>,
    /// Dropping it stops the watch (and the task that forwards its signals).
    watcher: Option<SkillsWatcher>,
}

impl Skills {
    pub fn new(homes: SkillHomes, sink: Sink) -> Skills {
        Skills {
            cache: Arc::new(SkillsCache::new(homes)),
            scanning: tokio::sync::Mutex::new(()),
            watched: Mutex::new(Watched::default()),
            sink,
        }
    }

    /// The skills of `cwd`, from the cache unless `force_reload`; its roots are watched from
    /// now on.
    pub async fn list(&self, cwd: &Path, force_reload: bool) -> Result<SkillsListEntry, String> {
        self.watch(cwd);
        if !force_reload {
            // The common case (every turn): no trip through the blocking pool.
            if let Some(hit) = self.cache.cached(cwd) {
                return Ok(hit);
            }
        }
        let _scanning = self.scanning.lock().await;
        if !force_reload {
            // Scanned while this call waited for the lock.
            if let Some(hit) = self.cache.cached(cwd) {
                return Ok(hit);
            }
        }
        let cache = self.cache.clone();
        let cwd = cwd.to_path_buf();
        tokio::task::spawn_blocking(move || cache.list(&cwd, force_reload))
            .await
            .map_err(|e| format!("skills scan stopped: {e}"))
    }

    /// The `<skills_instructions>` developer message for a turn in `cwd`, or `None` when it has
    /// no skills.
    pub async fn instructions(&self, cwd: &Path) -> Option<String> {
        match self.list(cwd, false).await {
            Ok(entry) => render_instructions(&entry.skills),
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        }
    }

    /// The `<skill>` user message for a `{type: "skill"}` input: the whole file.
    pub async fn skill_message(name: &str, path: &Path) -> Result<String, WorkspaceError> {
        let name = name.to_string();
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || render_skill_input(&name, &path))
            .await
            .map_err(|e| WorkspaceError::Internal(e.to_string()))?
    }

    /// Makes sure the roots of `cwd` are watched: the watcher is restarted over the roots of
    /// every directory seen so far when a new one arrives.
    fn watch(&self, cwd: &Path) {
        let Ok(mut watched) = self.watched.lock() else {
            return;
        };
        if watched.cwds.contains(cwd) {
            return;
        }
        if watched.cwds.len() >= MAX_WATCHED_CWDS {
            tracing::debug!(
                "not watching skills of {}: too many directories",
                cwd.display()
            );
            return;
        }
        watched.cwds.insert(cwd.to_path_buf());
        let mut roots: Vec<PathBuf> = Vec::new();
        for dir in &watched.cwds {
            for (root, _scope) in self.cache.homes().roots(dir) {
                if !roots.contains(&root) {
                    roots.push(root);
                }
            }
        }
        // Capacity 1: a signal already pending means "rescan", a second adds nothing.
        let (tx, rx) = mpsc::channel(1);
        // The previous watcher goes first, so two never signal the same change.
        watched.watcher = None;
        match SkillsWatcher::start(roots, tx) {
            Ok(watcher) => {
                watched.watcher = Some(watcher);
                tokio::spawn(forward_changes(rx, self.cache.clone(), self.sink.clone()));
            }
            Err(e) => tracing::warn!("cannot watch skills: {e}"),
        }
    }
}

/// Drops the cache and tells every client, once per coalesced change, until the watcher that
/// feeds `changes` is dropped.
async fn forward_changes(mut changes: mpsc::Receiver<()>, cache: Arc<SkillsCache>, sink: Sink) {
    while changes.recv().await.is_some() {
        cache.invalidate();
        sink.notify::<m::SkillsChanged>(&SkillsChangedNotification {})
            .await;
    }
}
