//! The one error type of the core. It says *what* went wrong in domain terms; each
//! dialect (ChatKitty, PRISM, kitkot, Allmine, Tencent, the realtime gateway) maps it
//! into its own error body in its own `error.rs`. Nothing here knows about HTTP.

use std::time::Duration;

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the engine or a store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was well-formed but broke a rule (empty name, body too long, ...).
    /// `field` names the offending input as the client spelled it.
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },

    /// The addressed resource does not exist in the caller's application. Another
    /// application's resources are reported exactly like missing ones.
    #[error("{resource} not found")]
    NotFound { resource: &'static str },

    /// A uniqueness rule was broken (a user name already taken, ...).
    #[error("{0}")]
    Conflict(String),

    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),

    /// The caller sends too fast (rate limit or slow mode).
    #[error("rate limited: retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },

    /// Storage or broker is unreachable; the caller should retry later. Never a 500.
    #[error("service unavailable: {0}")]
    Unavailable(String),

    /// A bug or an unexpected driver error. Dialects answer with an opaque body and
    /// log the cause.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(resource: &'static str) -> Self {
        Error::NotFound { resource }
    }

    /// Shorthand for [`Error::Internal`] from any displayable cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Error::Internal(cause.to_string())
    }
}
