//! How a [`PostgresStore`](crate::PostgresStore) is opened: the server, the pool, the
//! writer's batches and the timeouts. Built from a URL ([`PostgresOptions::from_url`]).

use hubbub_core::{Error, Result};
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::time::Duration;

/// Query parameters of the URL that tune hubbub rather than the connection; they are
/// taken out before the URL reaches the driver.
const OWN_PARAMETERS: &[&str] = &["max_connections", "max_batch"];

/// Options of [`PostgresStore::open`](crate::PostgresStore::open).
#[derive(Clone)]
pub struct PostgresOptions {
    /// Where and how to connect (host, port, database, user, password, TLS, ...).
    pub connect: PgConnectOptions,
    /// Pooled connections serving reads and the writes other than appends (default
    /// 16). The writer has one more of its own.
    pub max_connections: u32,
    /// Most messages one append transaction (one commit) may hold (default 4096).
    pub max_batch: usize,
    /// Append commands that may wait for the writer before senders are held back
    /// (default 16384).
    pub queue_capacity: usize,
    /// How long a caller waits for a pooled connection (default 5 s).
    pub acquire_timeout: Duration,
    /// How long one append batch may take, BEGIN to COMMIT (default 30 s).
    pub batch_timeout: Duration,
    /// How long [`check_ready`](hubbub_core::store::Store::check_ready) waits for the
    /// server (default 2 s).
    pub ready_timeout: Duration,
    /// Times a transaction is run again after a deadlock or a serialization failure
    /// (default 3).
    pub retries: u32,
}

impl std::fmt::Debug for PostgresOptions {
    /// The connection options may hold a password: only where they point is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("host", &self.connect.get_host())
            .field("port", &self.connect.get_port())
            .field("database", &self.connect.get_database())
            .field("max_connections", &self.max_connections)
            .field("max_batch", &self.max_batch)
            .finish_non_exhaustive()
    }
}

impl PostgresOptions {
    /// Defaults for the given connection options.
    pub fn new(connect: PgConnectOptions) -> Self {
        Self {
            connect,
            max_connections: 16,
            max_batch: 4096,
            queue_capacity: 16384,
            acquire_timeout: Duration::from_secs(5),
            batch_timeout: Duration::from_secs(30),
            ready_timeout: Duration::from_secs(2),
            retries: 3,
        }
    }

    /// Parses `postgres://user:password@host:port/database?...` (or `postgresql://`),
    /// with the driver's parameters (`sslmode`, `application_name`, ...) and hubbub's
    /// own `max_connections=N` and `max_batch=N`.
    pub fn from_url(url: &str) -> Result<Self> {
        let invalid = |reason: String| Error::invalid("database_url", reason);
        if !is_postgres_url(url) {
            return Err(invalid(
                "a PostgreSQL URL starts with postgres:// or postgresql://".into(),
            ));
        }
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let mut driver_params = Vec::new();
        let mut max_connections = None;
        let mut max_batch = None;
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !OWN_PARAMETERS.contains(&key) {
                driver_params.push(pair);
                continue;
            }
            let n: usize = value
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid(format!("{key} must be a positive number")))?;
            match key {
                "max_connections" => max_connections = Some(n),
                _ => max_batch = Some(n),
            }
        }
        let driver_url = if driver_params.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", driver_params.join("&"))
        };
        let connect = PgConnectOptions::from_str(&driver_url)
            // The driver's message may quote the URL, password included: say less.
            .map_err(|_| invalid("not a valid PostgreSQL connection URL".into()))?;
        let mut options = Self::new(connect.application_name("hubbub"));
        if let Some(n) = max_connections {
            options.max_connections = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(n) = max_batch {
            options.max_batch = n;
        }
        Ok(options)
    }
}

/// True for URLs this crate opens (`postgres://`, `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_hubbub_parameters() {
        let o = PostgresOptions::from_url(
            "postgres://hub:secret@db.example:6543/chat?sslmode=disable&max_connections=32&max_batch=100",
        )
        .unwrap();
        assert_eq!(o.connect.get_host(), "db.example");
        assert_eq!(o.connect.get_port(), 6543);
        assert_eq!(o.connect.get_database(), Some("chat"));
        assert_eq!(o.connect.get_username(), "hub");
        assert_eq!(o.max_connections, 32);
        assert_eq!(o.max_batch, 100);
        let shown = format!("{o:?}");
        assert!(!shown.contains("secret"), "{shown}");

        let o = PostgresOptions::from_url("postgresql://localhost/hubbub").unwrap();
        assert_eq!(o.max_connections, 16);
        assert_eq!(o.connect.get_database(), Some("hubbub"));
    }

    #[test]
    fn bad_urls_are_invalid() {
        for url in [
            "sqlite://x.db",
            "postgres://h/db?max_batch=0",
            "postgres://h/db?max_connections=many",
        ] {
            let e = PostgresOptions::from_url(url).unwrap_err();
            assert!(matches!(e, Error::Invalid { .. }), "{url}: {e:?}");
        }
        assert!(is_postgres_url("postgresql://x"));
        assert!(!is_postgres_url("sqlite://x"));
    }
}
