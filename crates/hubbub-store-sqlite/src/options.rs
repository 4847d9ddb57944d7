//! How a [`SqliteStore`](crate::SqliteStore) is opened: file, durability, pool and
//! batch sizes. Built in code ([`SqliteOptions::new`]) or from a URL
//! ([`SqliteOptions::from_url`]).

use hubbub_core::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

/// What an acknowledged write survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `PRAGMA synchronous=FULL`: every commit is fsynced before callers are answered,
    /// so an acknowledged write survives a power loss. Group commit keeps this cheap:
    /// one fsync covers a whole batch.
    #[default]
    Full,
    /// `PRAGMA synchronous=NORMAL`: commits are not fsynced (the WAL is synced at
    /// checkpoints). Faster, and the database never corrupts, but the last
    /// acknowledged writes can be lost on a power loss or OS crash (not on a process
    /// crash).
    Normal,
}

impl Durability {
    fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "full" => Some(Durability::Full),
            "normal" => Some(Durability::Normal),
            _ => None,
        }
    }
}

/// Options of [`SqliteStore::open`](crate::SqliteStore::open).
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// The database file. Missing parent directories and the file are created.
    pub path: PathBuf,
    /// See [`Durability`]; `Full` by default.
    pub synchronous: Durability,
    /// Read-only connections serving queries (default 4).
    pub readers: u32,
    /// Most write commands one transaction (one fsync) may hold (default 1024).
    pub max_batch: usize,
    /// Write commands that may wait for the writer before senders are held back
    /// (default 8192).
    pub queue_capacity: usize,
    /// How long a connection waits for a lock held by another process (default 5 s).
    pub busy_timeout: Duration,
    /// Page cache per connection, in KiB (default 32 MiB).
    pub cache_size_kib: u32,
}

impl SqliteOptions {
    /// Defaults for a database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous: Durability::Full,
            readers: 4,
            max_batch: 1024,
            queue_capacity: 8192,
            busy_timeout: Duration::from_secs(5),
            cache_size_kib: 32 * 1024,
        }
    }

    /// Parses `sqlite://PATH` (relative), `sqlite:///ABSOLUTE/PATH` or `sqlite:PATH`,
    /// optionally followed by `?synchronous=full|normal&readers=N&max_batch=N`.
    pub fn from_url(url: &str) -> Result<Self> {
        let invalid = |reason: String| Error::invalid("database_url", reason);
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| invalid(format!("'{url}' does not start with sqlite://")))?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        if path.is_empty() || path == ":memory:" {
            return Err(invalid(
                "needs a file path (in-memory databases are not supported)".into(),
            ));
        }
        let mut options = Self::new(path);
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "synchronous" => {
                    options.synchronous = Durability::parse(value).ok_or_else(|| {
                        invalid(format!("synchronous must be full or normal, not '{value}'"))
                    })?;
                }
                "readers" => {
                    options.readers = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=64).contains(n))
                        .ok_or_else(|| invalid("readers must be 1 to 64".into()))?;
                }
                "max_batch" => {
                    options.max_batch = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=65_536).contains(n))
                        .ok_or_else(|| invalid("max_batch must be 1 to 65536".into()))?;
                }
                other => return Err(invalid(format!("unknown option '{other}'"))),
            }
        }
        Ok(options)
    }

    /// Builder-style setter of [`Self::synchronous`].
    pub fn synchronous(mut self, durability: Durability) -> Self {
        self.synchronous = durability;
        self
    }

    /// Builder-style setter of [`Self::readers`].
    pub fn readers(mut self, readers: u32) -> Self {
        self.readers = readers;
        self
    }

    /// Builder-style setter of [`Self::max_batch`].
    pub fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn urls_name_relative_and_absolute_files() {
        let o = SqliteOptions::from_url("sqlite://data/hubbub.db").unwrap();
        assert_eq!(o.path, Path::new("data/hubbub.db"));
        assert_eq!(o.synchronous, Durability::Full);
        let o = SqliteOptions::from_url("sqlite:///var/lib/hubbub.db?synchronous=normal&readers=2")
            .unwrap();
        assert_eq!(o.path, Path::new("/var/lib/hubbub.db"));
        assert_eq!(o.synchronous, Durability::Normal);
        assert_eq!(o.readers, 2);
        let o = SqliteOptions::from_url("sqlite:x.db?max_batch=64").unwrap();
        assert_eq!(o.path, Path::new("x.db"));
        assert_eq!(o.max_batch, 64);
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(SqliteOptions::from_url("postgres://x").is_err());
        assert!(SqliteOptions::from_url("sqlite://").is_err());
        assert!(SqliteOptions::from_url("sqlite::memory:").is_err());
        assert!(SqliteOptions::from_url("sqlite://x.db?synchronous=off").is_err());
        assert!(SqliteOptions::from_url("sqlite://x.db?readers=0").is_err());
        assert!(SqliteOptions::from_url("sqlite://x.db?colour=blue").is_err());
    }
}
