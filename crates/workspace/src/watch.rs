//! `fs/watch` and `fs/unwatch`: one [`WatchRegistry`] per connection (watch ids are the
//! client's and scoped to it). The kernel's events (inotify) are coalesced for
//! [`COALESCE`] and sent as `fs/changed {watchId, changedPaths}` on a bounded channel, so a
//! burst of writes becomes one notification per watch and a slow client applies backpressure
//! instead of growing a queue. Directories are watched recursively.

use crate::error::{require_absolute, WorkspaceError};
use codex_protocol::v2::{
    FsChangedNotification, FsUnwatchParams, FsUnwatchResponse, FsWatchParams, FsWatchResponse,
};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Events closer together than this are reported together.
pub const COALESCE: Duration = Duration::from_millis(50);
/// Paths listed in one notification at most; past it the watched path itself stands for all.
const MAX_PATHS_PER_EVENT: usize = 1000;
/// Raw event batches buffered between the kernel thread and the coalescing task.
const RAW_QUEUE: usize = 1024;

type Watches = Arc<Mutex<HashMap<String, PathBuf>>>;

pub struct WatchRegistry {
    watches: Watches,
    watcher: Mutex<RecommendedWatcher>,
    task: tokio::task::JoinHandle<()>,
}

impl WatchRegistry {
    /// Starts the registry; `fs/changed` notifications go to `out`. Must be called inside a
    /// tokio runtime.
    pub fn new(out: mpsc::Sender<FsChangedNotification>) -> Result<Self, WorkspaceError> {
        let (raw_tx, raw_rx) = mpsc::channel::<Vec<PathBuf>>(RAW_QUEUE);
        let overflowed = Arc::new(AtomicBool::new(false));
        let overflow_flag = overflowed.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let paths = match event {
                Ok(e) => e.paths,
                Err(e) => {
                    tracing::warn!("file watch error: {e}");
                    e.paths
                }
            };
            if raw_tx.try_send(paths).is_err() {
                overflow_flag.store(true, Ordering::Relaxed);
            }
        })
        .map_err(|e| WorkspaceError::Watch {
            path: PathBuf::from("/"),
            message: e.to_string(),
        })?;
        let watches: Watches = Arc::default();
        let task = tokio::spawn(coalesce(raw_rx, watches.clone(), overflowed, out));
        Ok(WatchRegistry {
            watches,
            watcher: Mutex::new(watcher),
            task,
        })
    }

    pub fn watch(&self, p: &FsWatchParams) -> Result<FsWatchResponse, WorkspaceError> {
        require_absolute(&p.path)?;
        let path = std::fs::canonicalize(&p.path).map_err(|e| WorkspaceError::io(&p.path, e))?;
        let mut watches = self.lock_watches()?;
        if watches.contains_key(&p.watch_id) {
            return Err(WorkspaceError::DuplicateWatch(p.watch_id.clone()));
        }
        // One kernel watch per path, however many ids name it.
        if !watches.values().any(|w| w == &path) {
            let mode = if path.is_dir() {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            self.watcher
                .lock()
                .map_err(|_| WorkspaceError::Internal("watcher lock poisoned".into()))?
                .watch(&path, mode)
                .map_err(|e| WorkspaceError::Watch {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
        }
        watches.insert(p.watch_id.clone(), path.clone());
        Ok(FsWatchResponse { path })
    }

    pub fn unwatch(&self, p: &FsUnwatchParams) -> Result<FsUnwatchResponse, WorkspaceError> {
        let mut watches = self.lock_watches()?;
        let path = watches
            .remove(&p.watch_id)
            .ok_or_else(|| WorkspaceError::UnknownWatch(p.watch_id.clone()))?;
        if !watches.values().any(|w| w == &path) {
            if let Ok(mut watcher) = self.watcher.lock() {
                // The path may already be gone (deleted): nothing left to unwatch then.
                let _ = watcher.unwatch(&path);
            }
        }
        Ok(FsUnwatchResponse {})
    }

    /// Watches currently registered.
    pub fn len(&self) -> usize {
        self.watches.lock().map(|w| w.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock_watches(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, HashMap<String, PathBuf>>, WorkspaceError> {
        self.watches
            .lock()
            .map_err(|_| WorkspaceError::Internal("watch table lock poisoned".into()))
    }
}

impl Drop for WatchRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Collects raw events for [`COALESCE`] after the first, then sends one notification per
/// affected watch.
async fn coalesce(
    mut raw: mpsc::Receiver<Vec<PathBuf>>,
    watches: Watches,
    overflowed: Arc<AtomicBool>,
    out: mpsc::Sender<FsChangedNotification>,
) {
    while let Some(first) = raw.recv().await {
        let mut paths: BTreeSet<PathBuf> = first.into_iter().collect();
        let deadline = tokio::time::Instant::now() + COALESCE;
        while let Ok(Some(more)) = tokio::time::timeout_at(deadline, raw.recv()).await {
            paths.extend(more);
        }
        let lost_events = overflowed.swap(false, Ordering::Relaxed);
        let targets: Vec<(String, PathBuf)> = match watches.lock() {
            Ok(w) => w.iter().map(|(id, p)| (id.clone(), p.clone())).collect(),
            Err(_) => return,
        };
        for (watch_id, root) in targets {
            let mut changed: Vec<PathBuf> = paths
                .iter()
                .filter(|p| p.starts_with(&root))
                .cloned()
                .collect();
            if lost_events || changed.len() > MAX_PATHS_PER_EVENT {
                // Some events were dropped or too many to list: the root stands for them all.
                changed = vec![root.clone()];
            }
            if changed.is_empty() {
                continue;
            }
            let note = FsChangedNotification {
                watch_id,
                changed_paths: changed,
            };
            if out.send(note).await.is_err() {
                return; // the connection is gone
            }
        }
    }
}
