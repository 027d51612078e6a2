//! Tool state of one thread that outlives a call: what the user approved for the session, the
//! turn diff, and typed per-thread resources (live processes and the like). Everything here is
//! dropped with the thread; resources that own processes kill them in their `Drop`. (The
//! thread's tools themselves are its [`super::ToolRegistry`], kept beside this.)

use super::diff::TurnDiff;
use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
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
    pub approvals: Mutex<SessionApprovals>,
    pub diff: Mutex<TurnDiff>,
    resources: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Default for ThreadTools {
    fn default() -> Self {
        ThreadTools {
            approvals: Mutex::new(SessionApprovals::default()),
            diff: Mutex::new(TurnDiff::default()),
            resources: Mutex::new(HashMap::new()),
        }
    }
}

impl ThreadTools {
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
