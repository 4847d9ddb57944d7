//! sqlx errors mapped into the core's [`Error`] at the boundary: unique violations
//! become `Conflict` (worded by the caller, who knows the resource), a server that
//! cannot be reached or cannot serve now becomes `Unavailable`, anything else
//! `Internal`.

use hubbub_core::Error;

/// SQLSTATE of a unique violation.
const UNIQUE_VIOLATION: &str = "23505";
/// SQLSTATE of a foreign key violation.
pub(crate) const FOREIGN_KEY_VIOLATION: &str = "23503";
/// SQLSTATEs after which the whole transaction may simply be run again.
const RETRYABLE: &[&str] = &["40001", "40P01"];
/// How the message of a mapped retryable error begins (see [`is_retry`]).
const RETRY_PREFIX: &str = "database: transaction conflict: ";

/// True for SQLSTATEs that mean "the server cannot serve now" rather than "this
/// request is wrong": connection exceptions (08), insufficient resources (53), operator
/// intervention (57: shutdown, crash, cancelled statements), a read-only server (a
/// standby after a failover), and serialization failures or deadlocks that survived
/// their retries.
fn unavailable_state(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57")
        || code == "25006"
        || RETRYABLE.contains(&code)
}

/// Maps a driver error; a unique violation becomes a generic conflict.
pub(crate) fn map(e: sqlx::Error) -> Error {
    map_with_conflict(e, |_| "already exists".to_owned())
}

/// Maps a driver error; a unique violation becomes `Conflict(conflict(constraint))`,
/// where `constraint` names the violated constraint (or is empty).
pub(crate) fn map_with_conflict(e: sqlx::Error, conflict: impl FnOnce(&str) -> String) -> Error {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if code == UNIQUE_VIOLATION {
                return Error::Conflict(conflict(db.constraint().unwrap_or("")));
            }
            if RETRYABLE.contains(&code.as_str()) {
                Error::Unavailable(format!("{RETRY_PREFIX}{}", db.message()))
            } else if unavailable_state(&code) {
                Error::Unavailable(format!("database: {}", db.message()))
            } else {
                Error::Internal(format!("database: {db} (SQLSTATE {code})"))
            }
        }
        e if is_connection_lost(&e) => Error::Unavailable(format!("database: {e}")),
        sqlx::Error::PoolTimedOut => {
            Error::Unavailable("database: timed out waiting for a connection".into())
        }
        sqlx::Error::PoolClosed => Error::Unavailable("database: the store is closed".into()),
        other => Error::Internal(format!("database: {other}")),
    }
}

/// True when the error means the connection itself is gone or unusable (the writer
/// then opens a new one; a pool connection is not reused).
pub(crate) fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c == "57P01" || c == "57P02" || c == "57P03"),
        _ => false,
    }
}

/// True when running the whole transaction again may succeed: a serialization
/// failure or a deadlock (another node's transaction won).
pub(crate) fn is_retryable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| RETRYABLE.contains(&c.as_ref())))
}

/// True when a mapped error came from a deadlock or a serialization failure: running
/// the whole transaction again may succeed.
pub(crate) fn is_retry(e: &Error) -> bool {
    matches!(e, Error::Unavailable(m) if m.starts_with(RETRY_PREFIX))
}

/// The SQLSTATE of a database error, if it is one.
pub(crate) fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_unavailable_not_internal() {
        let io = sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused",
        ));
        assert!(matches!(map(io), Error::Unavailable(_)));
        assert!(matches!(
            map(sqlx::Error::PoolTimedOut),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            map(sqlx::Error::PoolClosed),
            Error::Unavailable(_)
        ));
        assert!(matches!(map(sqlx::Error::RowNotFound), Error::Internal(_)));
    }

    #[test]
    fn server_states_that_mean_try_later() {
        for code in ["08006", "53300", "57P01", "57014", "25006", "40P01"] {
            assert!(unavailable_state(code), "{code}");
        }
        for code in ["23502", "42601", "22P02"] {
            assert!(!unavailable_state(code), "{code}");
        }
    }
}
