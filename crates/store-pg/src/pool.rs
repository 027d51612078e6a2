//! A small connection pool: at most `size` connections, idle ones reused, closed ones
//! dropped, every wait (for a free slot, for a connect) bounded by the operation timeout.
//! Connections are made on demand, so a database that is down fails the calls made while
//! it is down and the next call connects again.

use std::sync::Mutex;
use std::time::Duration;

use codex_store::StoreError;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::{Client, Config, NoTls};

use crate::error::db_error;

pub(crate) struct Pool {
    config: Config,
    idle: Mutex<Vec<Client>>,
    slots: Semaphore,
    timeout: Duration,
}

/// A connection checked out of the pool; goes back (if still open) when dropped.
pub(crate) struct Pooled<'a> {
    client: Option<Client>,
    pool: &'a Pool,
    _slot: SemaphorePermit<'a>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        // Only `Drop` takes the client out.
        self.client.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // A connection dropped mid-operation (timeout, cancellation) may hold an open
            // transaction or a half-read result: only idle-clean ones are reused.
            if !client.is_closed() && !std::thread::panicking() {
                if let Ok(mut idle) = self.pool.idle.lock() {
                    idle.push(client);
                }
            }
        }
    }
}

impl Pool {
    pub(crate) fn new(mut config: Config, size: usize, timeout: Duration) -> Pool {
        config
            .connect_timeout(timeout)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .application_name("codex");
        Pool {
            config,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(size),
            timeout,
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A connection: an idle one, or a new one when none is idle.
    pub(crate) async fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let slot = tokio::time::timeout(self.timeout, self.slots.acquire())
            .await
            .map_err(|_| {
                StoreError::Unavailable(format!(
                    "no database connection free within {:?}",
                    self.timeout
                ))
            })?
            .map_err(|_| StoreError::Unavailable("connection pool closed".into()))?;
        let reused = loop {
            let next = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            match next {
                Some(client) if client.is_closed() => continue,
                other => break other,
            }
        };
        let client = match reused {
            Some(client) => client,
            None => self.connect().await?,
        };
        Ok(Pooled {
            client: Some(client),
            pool: self,
            _slot: slot,
        })
    }

    async fn connect(&self) -> Result<Client, StoreError> {
        let connecting = self.config.connect(NoTls);
        let (client, connection) = tokio::time::timeout(self.timeout, connecting)
            .await
            .map_err(|_| {
                StoreError::Unavailable(format!(
                    "connecting to the database took longer than {:?}",
                    self.timeout
                ))
            })?
            .map_err(|e| db_error("connect", e))?;
        // The connection object does the socket I/O; it ends when the client is dropped.
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "database connection ended");
            }
        });
        Ok(client)
    }
}
