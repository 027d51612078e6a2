//! [`ConfigHandle`]: the live configuration shared by the server and every thread. Reading the
//! current value is a lock and an `Arc` clone; a successful write (or [`ConfigHandle::reload`],
//! or a thread-agnostic `config/read`) swaps in a new value, so threads started afterwards see
//! it without a restart. Threads already running keep the settings they started with.

use crate::config::Config;
use crate::error::ConfigError;
use crate::settings::Settings;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use toml::Table;

#[derive(Clone)]
pub struct ConfigHandle {
    inner: Arc<Inner>,
}

struct Inner {
    current: RwLock<Snapshot>,
    /// Serialises writes (and reloads) so each one starts from the previous one's result.
    writing: Mutex<()>,
}

#[derive(Clone)]
struct Snapshot {
    config: Arc<Config>,
    settings: Arc<Settings>,
}

impl std::fmt::Debug for ConfigHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigHandle")
            .field("config", &self.config())
            .finish()
    }
}

impl ConfigHandle {
    /// Wraps a loaded configuration; fails if its settings do not resolve.
    pub fn new(config: Config) -> Result<ConfigHandle, ConfigError> {
        let snapshot = Snapshot::of(config)?;
        Ok(ConfigHandle {
            inner: Arc::new(Inner {
                current: RwLock::new(snapshot),
                writing: Mutex::new(()),
            }),
        })
    }

    fn snapshot(&self) -> Snapshot {
        match self.inner.current.read() {
            Ok(guard) => guard.clone(),
            // A panic while swapping cannot leave a half-written Snapshot: assignment is atomic.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.snapshot().config
    }

    /// The current settings (no project layers, no per-thread map): cheap, call freely.
    pub fn settings(&self) -> Arc<Settings> {
        self.snapshot().settings
    }

    /// Settings for a new thread: the current configuration, the trusted project layers of
    /// `cwd`, then the thread's own `config` map. Returns the shared value when neither adds
    /// anything, so the common case costs a directory walk and no parsing.
    pub fn settings_for_thread(
        &self,
        cwd: &Path,
        extra: &Table,
    ) -> Result<Arc<Settings>, ConfigError> {
        let snapshot = self.snapshot();
        let project = snapshot.config.project_layers(cwd)?;
        if !crate::config::applies(&project) && extra.is_empty() {
            return Ok(snapshot.settings);
        }
        snapshot
            .config
            .settings_with_project(project, extra)
            .map(Arc::new)
    }

    /// Reads every file again and, when the result is valid, makes it current.
    pub fn reload(&self) -> Result<Arc<Settings>, ConfigError> {
        let _writing = self.lock_writes();
        let current = self.config();
        let options = current.options().clone();
        let stack = options.load_layers(None)?;
        let requirements = options.load_requirements()?;
        let config = Config::from_parts(options, stack, requirements)?;
        self.install(config)
    }

    pub(crate) fn lock_writes(&self) -> MutexGuard<'_, ()> {
        match self.inner.writing.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Makes a validated configuration current.
    pub(crate) fn install(&self, config: Config) -> Result<Arc<Settings>, ConfigError> {
        let snapshot = Snapshot::of(config)?;
        let settings = snapshot.settings.clone();
        match self.inner.current.write() {
            Ok(mut guard) => *guard = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        Ok(settings)
    }
}

impl Snapshot {
    fn of(config: Config) -> Result<Snapshot, ConfigError> {
        let settings = Arc::new(config.settings(&Table::new())?);
        Ok(Snapshot {
            config: Arc::new(config),
            settings,
        })
    }
}
