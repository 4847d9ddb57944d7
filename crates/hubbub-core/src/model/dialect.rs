//! What the live-stream dialects (PRISM, kitkot, Allmine, Tencent) store: each
//! application's credentials for every dialect, and the login tokens the dialects'
//! own auth flows hand out. Both live in the store so that any node of a cluster can
//! authenticate any request.

use super::Timestamp;
use crate::ids::{AppId, UserId};
use serde_json::Value;

/// The APIs besides ChatKitty's that hubbub speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Prism,
    Kitkot,
    Allmine,
    Tencent,
}

impl Dialect {
    pub const ALL: [Dialect; 4] = [
        Dialect::Prism,
        Dialect::Kitkot,
        Dialect::Allmine,
        Dialect::Tencent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Prism => "prism",
            Dialect::Kitkot => "kitkot",
            Dialect::Allmine => "allmine",
            Dialect::Tencent => "tencent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Dialect::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// One application's credentials for one dialect. `key` is the public identifier the
/// dialect's requests carry, unique per dialect across applications:
/// - PRISM: the OAuth client id (`x-prism-client-id`); `secret` its client secret.
/// - kitkot: the `api_key` itself; `secret` is unused (empty).
/// - Allmine: the JWT issuer (`iss`); `secret` the HS256 signing key.
/// - Tencent: the SDKAppID in decimal; `secret` the UserSig key; `admins` the
///   identifiers allowed to call the REST API.
#[derive(Debug, Clone, PartialEq)]
pub struct DialectCredential {
    pub dialect: Dialect,
    pub key: String,
    pub secret: String,
    pub admins: Vec<String>,
}

/// The kinds of login token the dialects issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialectTokenKind {
    /// A PRISM OAuth authorization code (single use, 10 minutes).
    PrismCode,
    PrismAccess,
    /// Rotated on use.
    PrismRefresh,
    /// A kitkot `session_key`.
    KitkotSession,
    /// An Allmine refresh token (rotated on use); access tokens are JWTs, not stored.
    AllmineRefresh,
    /// A pending Allmine one-time password; `data` holds the code.
    AllmineOtp,
}

impl DialectTokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DialectTokenKind::PrismCode => "prism_code",
            DialectTokenKind::PrismAccess => "prism_access",
            DialectTokenKind::PrismRefresh => "prism_refresh",
            DialectTokenKind::KitkotSession => "kitkot_session",
            DialectTokenKind::AllmineRefresh => "allmine_refresh",
            DialectTokenKind::AllmineOtp => "allmine_otp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DialectTokenKind::PrismCode,
            DialectTokenKind::PrismAccess,
            DialectTokenKind::PrismRefresh,
            DialectTokenKind::KitkotSession,
            DialectTokenKind::AllmineRefresh,
            DialectTokenKind::AllmineOtp,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A stored dialect token. Only the token's hash is stored (see
/// [`crate::credentials::hash_secret`]), never the token.
#[derive(Debug, Clone, PartialEq)]
pub struct DialectToken {
    pub token_hash: String,
    pub kind: DialectTokenKind,
    pub app_id: AppId,
    /// The user it authenticates (`None` for an OTP not yet bound to a user).
    pub user_id: Option<UserId>,
    pub expires_at: Timestamp,
    /// Flow-specific facts (a code's redirect URI, an OTP's digits, ...).
    pub data: Value,
    pub created_at: Timestamp,
}
