//! sqlx errors mapped into the core's [`Error`] at the boundary: unique violations
//! become `Conflict` (worded by the caller, who knows the resource), a database that
//! cannot be reached or written becomes `Unavailable`, anything else `Internal`.

use hubbub_core::Error;
use sqlx::error::ErrorKind;

/// SQLite primary result codes that mean "the database cannot serve now" rather than
/// "this request is wrong": BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN,
/// PROTOCOL.
const UNAVAILABLE_CODES: &[i32] = &[5, 6, 7, 8, 10, 13, 14, 15];

/// Maps a driver error; a unique violation becomes a generic conflict.
pub(crate) fn map(e: sqlx::Error) -> Error {
    map_with_conflict(e, |_| "already exists".to_owned())
}

/// Maps a driver error; a unique violation becomes `Conflict(conflict(message))`, where
/// `message` is SQLite's (it names the violated columns).
pub(crate) fn map_with_conflict(e: sqlx::Error, conflict: impl FnOnce(&str) -> String) -> Error {
    match e {
        sqlx::Error::Database(db) => {
            if db.kind() == ErrorKind::UniqueViolation {
                return Error::Conflict(conflict(db.message()));
            }
            let primary = db
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .map(|c| c & 0xff);
            match primary {
                Some(code) if UNAVAILABLE_CODES.contains(&code) => {
                    Error::Unavailable(format!("database: {}", db.message()))
                }
                _ => Error::Internal(format!("database: {db}")),
            }
        }
        sqlx::Error::Io(io) => Error::Unavailable(format!("database i/o: {io}")),
        sqlx::Error::PoolTimedOut => {
            Error::Unavailable("database: timed out waiting for a connection".into())
        }
        sqlx::Error::PoolClosed => Error::Unavailable("database: the store is closed".into()),
        sqlx::Error::WorkerCrashed => {
            Error::Unavailable("database: the connection's worker stopped".into())
        }
        other => Error::Internal(format!("database: {other}")),
    }
}

/// True when the error means the connection itself is gone (the writer reopens it).
pub(crate) fn is_connection_lost(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed | sqlx::Error::PoolClosed
    )
}
