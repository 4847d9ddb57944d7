//! What the live-stream dialects need from the core besides chat: each application's
//! credentials for every dialect, the login tokens of their auth flows, and user
//! passwords for those logins. All of it is stored, so any node authenticates any
//! request.

use super::{Actor, Engine, UserRef, require_app};
use crate::credentials::{hash_secret, random_token};
use crate::error::{Error, Result};
use crate::ids::{AppId, UserId};
use crate::model::{
    Application, Dialect, DialectCredential, DialectToken, DialectTokenKind, User, now,
};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;
use serde_json::Value;
use std::time::Duration;

/// Passwords are 8 to 256 characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// At most this many Tencent admin identifiers per application.
pub const MAX_TENCENT_ADMINS: usize = 16;

/// A password hash checked when the user does not exist, so that a login for an
/// unknown name costs as much as one for a known name.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3uQf1H1MFXlyfhO3QO4vbmqxU/4yXsm9lWx3T7Fw1mA";

impl Engine {
    /// Fresh credentials of every dialect for a new application. Keys are random, so
    /// a collision with another application is retried, not reported.
    pub(super) async fn generate_dialect_credentials(
        &self,
        app: &Application,
    ) -> Result<Vec<DialectCredential>> {
        let mut all = Vec::new();
        for dialect in Dialect::ALL {
            all.push(self.rotate_dialect_credential(app.id, dialect).await?);
        }
        Ok(all)
    }

    /// Replaces the application's credential of `dialect` with fresh random values
    /// (Tencent keeps its admin list).
    pub async fn rotate_dialect_credential(
        &self,
        app: AppId,
        dialect: Dialect,
    ) -> Result<DialectCredential> {
        let admins = match dialect {
            Dialect::Tencent => self
                .dialect_credential(app, dialect)
                .await?
                .map(|c| c.admins)
                .unwrap_or_else(|| vec!["administrator".to_owned()]),
            _ => Vec::new(),
        };
        let mut last = None;
        for _ in 0..8 {
            let credential = DialectCredential {
                dialect,
                key: match dialect {
                    Dialect::Prism => format!("prism_{}", random_token(12)),
                    Dialect::Kitkot => format!("kk_{}", random_token(16)),
                    Dialect::Allmine => format!("allmine_{}", random_token(12)),
                    // Tencent SDKAppIDs are ten-digit numbers starting 14 or 16.
                    Dialect::Tencent => rand::thread_rng()
                        .gen_range(1_400_000_000u64..1_499_999_999)
                        .to_string(),
                },
                secret: match dialect {
                    Dialect::Kitkot => String::new(),
                    _ => random_token(32),
                },
                admins: admins.clone(),
            };
            match self
                .store
                .put_dialect_credential(app, credential.clone())
                .await
            {
                Ok(()) => return Ok(credential),
                Err(Error::Conflict(e)) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(Error::internal(format!(
            "could not draw a free {} key: {}",
            dialect.as_str(),
            last.unwrap_or_default()
        )))
    }

    /// Sets a dialect credential to given values (operators moving an existing
    /// integration, e.g. a Tencent SDKAppID and key from the Tencent console).
    pub async fn set_dialect_credential(
        &self,
        app: AppId,
        credential: DialectCredential,
    ) -> Result<DialectCredential> {
        validate_credential(&credential)?;
        self.store
            .put_dialect_credential(app, credential.clone())
            .await?;
        Ok(credential)
    }

    /// Every dialect credential of the application.
    pub async fn dialect_credentials(&self, app: AppId) -> Result<Vec<DialectCredential>> {
        self.store.list_dialect_credentials(app).await
    }

    pub async fn dialect_credential(
        &self,
        app: AppId,
        dialect: Dialect,
    ) -> Result<Option<DialectCredential>> {
        Ok(self
            .store
            .list_dialect_credentials(app)
            .await?
            .into_iter()
            .find(|c| c.dialect == dialect))
    }

    /// The application whose `dialect` credential has this key.
    pub async fn find_dialect_app(
        &self,
        dialect: Dialect,
        key: &str,
    ) -> Result<Option<(Application, DialectCredential)>> {
        let Some((app, credential)) = self.store.find_dialect_credential(dialect, key).await?
        else {
            return Ok(None);
        };
        Ok(self
            .store
            .get_application(app)
            .await?
            .map(|application| (application, credential)))
    }

    // ----- login tokens -------------------------------------------------------------

    /// Issues a random token of `kind` valid for `ttl`; only its hash is stored.
    pub async fn issue_dialect_token(
        &self,
        app: AppId,
        kind: DialectTokenKind,
        user: Option<UserId>,
        ttl: Duration,
        data: Value,
    ) -> Result<String> {
        let token = random_token(32);
        let created_at = now();
        let ttl = chrono::Duration::from_std(ttl).map_err(|_| Error::invalid("ttl", "too long"))?;
        self.store
            .insert_dialect_token(DialectToken {
                token_hash: hash_secret(&token),
                kind,
                app_id: app,
                user_id: user,
                expires_at: created_at + ttl,
                data,
                created_at,
            })
            .await?;
        Ok(token)
    }

    /// The unexpired token of `kind`, if `token` is one.
    pub async fn find_dialect_token(
        &self,
        kind: DialectTokenKind,
        token: &str,
    ) -> Result<Option<DialectToken>> {
        self.store
            .find_dialect_token(kind, &hash_secret(token), now())
            .await
    }

    /// Uses up a single-use token (a code, a refresh token being rotated): of two
    /// concurrent uses exactly one succeeds.
    pub async fn take_dialect_token(
        &self,
        kind: DialectTokenKind,
        token: &str,
    ) -> Result<Option<DialectToken>> {
        self.store
            .take_dialect_token(kind, &hash_secret(token), now())
            .await
    }

    /// Ends every token of these kinds the user holds (logout).
    pub async fn revoke_dialect_tokens(
        &self,
        app: AppId,
        user: UserId,
        kinds: &[DialectTokenKind],
    ) -> Result<u64> {
        self.store.revoke_dialect_tokens(app, user, kinds).await
    }

    // ----- passwords ------------------------------------------------------------------

    /// Sets (or with `None` removes) a user's password for the dialects' login flows.
    pub async fn set_user_password(
        &self,
        actor: &Actor,
        user: &UserRef,
        password: Option<&str>,
    ) -> Result<User> {
        require_app(actor)?;
        let user = self.resolve_user(actor.app(), user).await?;
        let hash = match password {
            None => None,
            Some(p) => {
                let chars = p.chars().count();
                if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
                    return Err(Error::invalid(
                        "password",
                        format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
                    ));
                }
                Some(hash_password(p.to_owned()).await?)
            }
        };
        self.store
            .set_user_password(actor.app(), user.id, hash)
            .await?;
        Ok(user)
    }

    /// The user with this name if `password` is theirs. Unknown names, users without
    /// a password and wrong passwords all answer `None`, after the same work.
    pub async fn verify_user_password(
        &self,
        app: AppId,
        name: &str,
        password: &str,
    ) -> Result<Option<User>> {
        let user = match crate::names::UserName::parse(name) {
            Ok(name) => self.store.get_user_by_name(app, &name).await?,
            Err(_) => None,
        };
        let stored = match &user {
            Some(u) => self.store.get_user_password(app, u.id).await?,
            None => None,
        };
        let matches = verify_password(
            password.to_owned(),
            stored.clone().unwrap_or_else(|| DECOY_HASH.to_owned()),
        )
        .await?;
        Ok(match (user, stored) {
            (Some(user), Some(_)) if matches => Some(user),
            _ => None,
        })
    }
}

fn validate_credential(c: &DialectCredential) -> Result<()> {
    let key_ok = match c.dialect {
        Dialect::Tencent => c
            .key
            .parse::<u64>()
            .is_ok_and(|n| n > 0 && n <= u64::from(u32::MAX)),
        _ => {
            (8..=128).contains(&c.key.len())
                && c.key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        }
    };
    if !key_ok {
        return Err(Error::invalid(
            "key",
            match c.dialect {
                Dialect::Tencent => "a Tencent SDKAppID is a positive 32-bit number",
                _ => "must be 8 to 128 letters, digits, '-', '_' or '.'",
            },
        ));
    }
    if c.dialect != Dialect::Kitkot && !(8..=256).contains(&c.secret.len()) {
        return Err(Error::invalid("secret", "must be 8 to 256 bytes"));
    }
    if c.admins.len() > MAX_TENCENT_ADMINS
        || c.admins
            .iter()
            .any(|a| a.is_empty() || a.len() > 32 || a.chars().any(char::is_control))
    {
        return Err(Error::invalid(
            "admins",
            format!("at most {MAX_TENCENT_ADMINS} identifiers of 1 to 32 bytes"),
        ));
    }
    Ok(())
}

/// Argon2id with its default (OWASP) parameters, off the async threads: a hash costs
/// tens of milliseconds by design.
async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(Error::internal)
    })
    .await
    .map_err(Error::internal)?
}

async fn verify_password(password: String, stored: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&stored).map_err(Error::internal)?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(Error::internal)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong horse!".into(), hash).await.unwrap());
        // The decoy parses, so an unknown user costs a real verification.
        assert!(
            !verify_password("anything".into(), DECOY_HASH.into())
                .await
                .unwrap()
        );
    }

    #[test]
    fn credentials_are_validated_per_dialect() {
        let ok = DialectCredential {
            dialect: Dialect::Tencent,
            key: "1400000000".into(),
            secret: "hubbub-test-key".into(),
            admins: vec!["administrator".into()],
        };
        assert!(validate_credential(&ok).is_ok());
        for bad_key in ["0", "abc", "99999999999"] {
            let bad = DialectCredential {
                key: bad_key.into(),
                ..ok.clone()
            };
            assert!(validate_credential(&bad).is_err(), "{bad_key}");
        }
        let no_admin = DialectCredential {
            admins: vec![String::new()],
            ..ok.clone()
        };
        assert!(validate_credential(&no_admin).is_err());
        let kitkot = DialectCredential {
            dialect: Dialect::Kitkot,
            key: "kk_0123456789".into(),
            secret: String::new(),
            admins: vec![],
        };
        assert!(validate_credential(&kitkot).is_ok());
    }
}

// ----- the dialects' credentials of a user -------------------------------------------
// Issued here (not in the dialects) so that the CLI (`hubbub token --for ...`) and the
// dialects' own login flows hand out exactly the same things.

/// PRISM OAuth lifetimes (seed-surfaces 1.3 [P]).
pub const PRISM_CODE_TTL: Duration = Duration::from_secs(600);
pub const PRISM_ACCESS_TTL: Duration = Duration::from_secs(3600);
pub const PRISM_REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// A kitkot `session_key` lasts 30 days.
pub const KITKOT_SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Allmine's documented lifetimes: `expiresIn: 3600`, `refreshExpiresIn: 2592000`.
pub const ALLMINE_ACCESS_TTL: Duration = Duration::from_secs(3600);
pub const ALLMINE_REFRESH_TTL: Duration = Duration::from_secs(2_592_000);

/// An access/refresh pair (PRISM, Allmine).
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: Duration,
    pub refresh_expires_in: Duration,
}

/// Who an Allmine access JWT or a PRISM access token speaks for.
#[derive(Debug, Clone)]
pub struct DialectIdentity {
    pub app: Application,
    pub user: User,
}

impl Engine {
    /// A PRISM access token and refresh token for a user (the end of the OAuth flow).
    pub async fn issue_prism_tokens(&self, app: AppId, user: UserId) -> Result<TokenPair> {
        let access_token = self
            .issue_dialect_token(
                app,
                DialectTokenKind::PrismAccess,
                Some(user),
                PRISM_ACCESS_TTL,
                Value::Null,
            )
            .await?;
        let refresh_token = self
            .issue_dialect_token(
                app,
                DialectTokenKind::PrismRefresh,
                Some(user),
                PRISM_REFRESH_TTL,
                Value::Null,
            )
            .await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            expires_in: PRISM_ACCESS_TTL,
            refresh_expires_in: PRISM_REFRESH_TTL,
        })
    }

    /// A kitkot `session_key` for a user.
    pub async fn issue_kitkot_session(&self, app: AppId, user: UserId) -> Result<String> {
        self.issue_dialect_token(
            app,
            DialectTokenKind::KitkotSession,
            Some(user),
            KITKOT_SESSION_TTL,
            Value::Null,
        )
        .await
    }

    /// The application and user of a stored token of `kind` (PRISM access tokens,
    /// kitkot session keys). `None` for unknown or expired tokens, or a user since
    /// deleted.
    pub async fn authenticate_dialect_token(
        &self,
        kind: DialectTokenKind,
        token: &str,
    ) -> Result<Option<DialectIdentity>> {
        if token.is_empty() || token.len() > 512 {
            return Ok(None);
        }
        let Some(found) = self.find_dialect_token(kind, token).await? else {
            return Ok(None);
        };
        self.dialect_identity(found.app_id, found.user_id).await
    }

    async fn dialect_identity(
        &self,
        app: AppId,
        user: Option<UserId>,
    ) -> Result<Option<DialectIdentity>> {
        let Some(user) = user else { return Ok(None) };
        let (Some(app), Some(user)) = (
            self.store.get_application(app).await?,
            self.store.get_user(app, user).await?,
        ) else {
            return Ok(None);
        };
        Ok(Some(DialectIdentity { app, user }))
    }

    /// An Allmine access JWT (HS256 with the application's Allmine key; `iss` = the
    /// credential's key, `sub` = the user id, `exp`) and a stored refresh token.
    pub async fn issue_allmine_tokens(&self, app: AppId, user: UserId) -> Result<TokenPair> {
        let credential = self
            .dialect_credential(app, Dialect::Allmine)
            .await?
            .ok_or_else(|| Error::not_found("allmine credential"))?;
        let now = super::realtime::unix_now();
        let access_token = super::sign_hs256(
            credential.secret.as_bytes(),
            &serde_json::json!({
                "iss": credential.key,
                "sub": user.0.to_string(),
                "iat": now,
                "exp": now + ALLMINE_ACCESS_TTL.as_secs() as i64,
                "jti": random_token(8),
            }),
        );
        let refresh_token = self
            .issue_dialect_token(
                app,
                DialectTokenKind::AllmineRefresh,
                Some(user),
                ALLMINE_REFRESH_TTL,
                Value::Null,
            )
            .await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            expires_in: ALLMINE_ACCESS_TTL,
            refresh_expires_in: ALLMINE_REFRESH_TTL,
        })
    }

    /// Verifies an Allmine access JWT: issuer known, signature (constant time), not
    /// expired, user still there. `None` for anything else.
    pub async fn authenticate_allmine(&self, token: &str) -> Result<Option<DialectIdentity>> {
        let Ok(jwt) = super::realtime::decode_hs256(token) else {
            return Ok(None);
        };
        let Some(issuer) = jwt.claims.get("iss").and_then(Value::as_str) else {
            return Ok(None);
        };
        let Some((app, credential)) = self.find_dialect_app(Dialect::Allmine, issuer).await? else {
            return Ok(None);
        };
        if !jwt.verify(credential.secret.as_bytes()) {
            return Ok(None);
        }
        let exp = jwt.claims.get("exp").and_then(Value::as_i64);
        if exp.is_none_or(|exp| exp <= super::realtime::unix_now()) {
            return Ok(None);
        }
        let user = jwt
            .claims
            .get("sub")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok())
            .map(UserId);
        self.dialect_identity(app.id, user).await
    }
}
