//! The read-only connections that serve queries.
//!
//! A fixed set of connections behind a semaphore. sqlx's own pool pings every
//! connection it takes back (one more round trip to the connection's worker thread),
//! which for short SQLite reads doubled their cost; these connections are handed back
//! as they are. A connection that failed with an i/o-level error is replaced on its
//! next use.

use crate::driver_error;
use hubbub_core::{Error, Result};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection};
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use tokio::sync::{Semaphore, SemaphorePermit};

pub(crate) struct ReaderPool {
    options: SqliteConnectOptions,
    /// `None`: a slot whose connection must be (re)opened before use.
    idle: Mutex<Vec<Option<SqliteConnection>>>,
    permits: Semaphore,
}

/// A connection taken from the pool; returns to it when dropped.
pub(crate) struct Reader<'a> {
    /// Always `Some` until `drop` takes it back to the pool.
    conn: Option<SqliteConnection>,
    /// Set when the connection failed at the i/o level: it is not reused.
    retired: bool,
    pool: &'a ReaderPool,
    _permit: SemaphorePermit<'a>,
}

fn closed() -> Error {
    Error::Unavailable("database: the store is closed".into())
}

impl ReaderPool {
    /// Opens `size` connections with `options` (which should be read-only).
    pub(crate) async fn open(options: SqliteConnectOptions, size: usize) -> Result<Self> {
        let mut idle = Vec::with_capacity(size);
        for _ in 0..size.max(1) {
            idle.push(Some(options.connect().await.map_err(driver_error::map)?));
        }
        let permits = Semaphore::new(idle.len());
        Ok(Self {
            options,
            idle: Mutex::new(idle),
            permits,
        })
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Option<SqliteConnection>>> {
        // Pushing or popping cannot leave the vector inconsistent: ignore poisoning.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) async fn acquire(&self) -> Result<Reader<'_>> {
        let permit = self.permits.acquire().await.map_err(|_| closed())?;
        // A permit guarantees a slot.
        let slot = self.slots().pop().ok_or_else(closed)?;
        let conn = match slot {
            Some(conn) => conn,
            None => match self.options.connect().await {
                Ok(conn) => conn,
                Err(e) => {
                    self.slots().push(None);
                    return Err(driver_error::map(e));
                }
            },
        };
        Ok(Reader {
            conn: Some(conn),
            retired: false,
            pool: self,
            _permit: permit,
        })
    }

    /// Refuses further acquisitions and drops the idle connections.
    pub(crate) fn close(&self) {
        self.permits.close();
        self.slots().clear();
    }
}

impl Reader<'_> {
    /// Starts a read transaction, so that the queries up to [`Reader::finish`] see one
    /// snapshot (a page and its total count agree even while the writer commits).
    pub(crate) async fn begin(&mut self) -> Result<()> {
        let result = sqlx::query("BEGIN")
            .execute(&mut **self)
            .await
            .map(|_| ())
            .map_err(driver_error::map);
        self.check(result)
    }

    /// Ends the read transaction of [`Reader::begin`] and passes `result` through.
    pub(crate) async fn finish<T>(&mut self, result: Result<T>) -> Result<T> {
        if sqlx::query("COMMIT").execute(&mut **self).await.is_err() {
            // Never hand a connection with an open transaction back to the pool.
            self.retired = true;
        }
        self.check(result)
    }

    /// Passes `result` through; an `Unavailable` error retires the connection, so
    /// the slot reconnects on its next use.
    pub(crate) fn check<T>(&mut self, result: Result<T>) -> Result<T> {
        if matches!(result, Err(Error::Unavailable(_))) {
            self.retired = true;
        }
        result
    }
}

impl Deref for Reader<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        match &self.conn {
            Some(conn) => conn,
            None => unreachable!("only drop takes the connection"),
        }
    }
}

impl DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match &mut self.conn {
            Some(conn) => conn,
            None => unreachable!("only drop takes the connection"),
        }
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if self.pool.permits.is_closed() {
            return;
        }
        let conn = self.conn.take().filter(|_| !self.retired);
        self.pool.slots().push(conn);
    }
}
