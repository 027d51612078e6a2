//! The live `command/exec` processes of the runtime: one [`ProcessRegistry`] per connection,
//! because a `processId` is chosen by, and scoped to, the connection that started the command.

use crate::sink::Origin;
use codex_exec::ProcessRegistry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The live `command/exec` processes, per connection.
#[derive(Default)]
pub struct CommandExecs {
    by_connection: Mutex<HashMap<Option<Origin>, Arc<ProcessRegistry>>>,
}

impl CommandExecs {
    fn lock(&self) -> MutexGuard<'_, HashMap<Option<Origin>, Arc<ProcessRegistry>>> {
        // Every update is one insert or remove: a poisoned map is still consistent.
        self.by_connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn registry(&self, origin: Option<Origin>) -> Arc<ProcessRegistry> {
        self.lock().entry(origin).or_default().clone()
    }

    /// The registry of `origin`, if it started anything.
    pub fn existing(&self, origin: Option<Origin>) -> Option<Arc<ProcessRegistry>> {
        self.lock().get(&origin).cloned()
    }

    /// Kills the commands of one connection and forgets them.
    pub fn release(&self, origin: Option<Origin>) {
        if let Some(registry) = self.lock().remove(&origin) {
            registry.kill_all();
        }
    }

    /// Kills every command of every connection (server exit).
    pub fn kill_all(&self) {
        for registry in self.lock().values() {
            registry.kill_all();
        }
    }
}
