//! Tool state of one thread that outlives a call: what the user approved for the session, the
//! turn diff, and typed per-thread resources (live processes and the like). Everything here is
//! dropped with the thread; resources that own processes kill them in their `Drop`. (The
//! thread's tools themselves are its [`super::ToolRegistry`], kept beside this.)

use super::diff::TurnDiff;
use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

/// Approvals the user gave "for the session".
#[derive(Default)]
pub struct SessionApprovals {
    /// Exact command strings.
    pub commands: HashSet<String>,
    /// Absolute paths a patch may change.
    pub patch_paths: HashSet<PathBuf>,
}

pub struct ThreadTools {
    next_process_id: AtomicI32,
    pub approvals: Mutex<SessionApprovals>,
    pub diff: Mutex<TurnDiff>,
    resources: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Default for ThreadTools {
    fn default() -> Self {
        ThreadTools {
            next_process_id: AtomicI32::new(1000),
            approvals: Mutex::new(SessionApprovals::default()),
            diff: Mutex::new(TurnDiff::default()),
            resources: Mutex::new(HashMap::new()),
        }
    }
}

impl ThreadTools {
    /// A fresh process id (also the session id when the process outlives its call).
    pub fn next_process_id(&self) -> i32 {
        self.next_process_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The thread's instance of `T`, created on first use. A tool keeps what must survive
    /// between its calls here (sessions, connections); it lives as long as the thread.
    pub fn resource<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let Ok(mut map) = self.resources.lock() else {
            return Arc::new(T::default());
        };
        let entry = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn Any + Send + Sync>)
            .clone();
        // The map is keyed by the type id, so the downcast cannot fail.
        entry
            .downcast::<T>()
            .unwrap_or_else(|_| Arc::new(T::default()))
    }
}
