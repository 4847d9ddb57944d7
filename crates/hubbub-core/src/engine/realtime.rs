//! Realtime: connection tokens, who a realtime connection is, which channels it may
//! read, and the ephemeral events (typing) that only realtime clients send.
//!
//! # Connection tokens
//! A connection token is a JWT (RFC 7519) signed with HS256 using the application's
//! realtime signing secret (`realtime_signing_secret`, printed by `hubbub app create`).
//! Claims:
//! * `sub` — the user name; an empty string is an anonymous, read-only viewer (allowed
//!   only when the application setting `anonymous_viewers` is on, and only for PUBLIC
//!   channels);
//! * `iss` — the application's `client_id` (`app` is accepted as a synonym);
//! * `exp` — expiry, seconds since the Unix epoch; required;
//! * `iat` — optional, issued-at.
//!
//! An unknown user is created on first connect (as a guest) only when the application
//! setting `guest_users` is on.

use super::{Actor, Engine, require_app};
use crate::error::{Error, Result};
use crate::events::{ChannelEvent, EventType};
use crate::ids::{AppId, ChannelId};
use crate::model::{
    AppCredentials, Application, Channel, ChannelKind, MessageView, NewUser, User, UserKind,
};
use crate::names::{ChannelName, DisplayName, Properties, UserName};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

/// The longest lifetime a minted token may have.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(30 * 86_400);

/// Largest token accepted, in bytes.
const MAX_TOKEN_BYTES: usize = 4096;

/// The prefix of a direct channel's protocol name: `$direct:<channel id>`.
pub const DIRECT_PREFIX: &str = "$direct:";

/// Who a realtime connection is.
#[derive(Debug, Clone)]
pub struct RealtimeIdentity {
    pub app: Application,
    /// `None` for an anonymous viewer.
    pub user: Option<User>,
    /// When the token expires (seconds since the Unix epoch).
    pub expires_at: i64,
}

impl RealtimeIdentity {
    pub fn actor(&self) -> Option<Actor> {
        self.user.as_ref().map(|u| Actor::User {
            app: self.app.id,
            user: u.id,
        })
    }

    /// The user name, empty for an anonymous viewer.
    pub fn user_name(&self) -> &str {
        self.user.as_ref().map(|u| u.name.as_str()).unwrap_or("")
    }
}

/// Why a connection token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a well-formed HS256 JWT of a known application, or a bad signature.
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// Well-formed and correctly signed, but past its `exp`.
    #[error("token expired")]
    Expired,
    /// The token names a user who does not exist, and guests are not allowed.
    #[error("unknown user")]
    UnknownUser,
    /// An anonymous token, and the application does not allow anonymous viewers.
    #[error("anonymous viewers are not allowed in this application")]
    AnonymousNotAllowed,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] Error),
}

/// Signs `claims` as an HS256 JWT.
pub fn sign_hs256(secret: &[u8], claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// A JWT split and decoded, not yet verified.
pub(super) struct UnverifiedJwt<'a> {
    signing_input: &'a str,
    signature: Vec<u8>,
    pub(super) claims: serde_json::Map<String, Value>,
}

pub(super) fn decode_hs256(token: &str) -> Result<UnverifiedJwt<'_>, TokenError> {
    if token.is_empty() {
        return Err(TokenError::Invalid("no token"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Invalid("token too long"));
    }
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or(TokenError::Invalid("not a JWT"))?;
    let (header, payload) = signing_input
        .split_once('.')
        .ok_or(TokenError::Invalid("not a JWT"))?;
    let header: Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(TokenError::Invalid("malformed JWT header"))?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(TokenError::Invalid("only HS256 tokens are accepted"));
    }
    let claims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice::<Value>(&p).ok())
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .ok_or(TokenError::Invalid("malformed JWT claims"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Invalid("malformed JWT signature"))?;
    Ok(UnverifiedJwt {
        signing_input,
        signature,
        claims,
    })
}

impl UnverifiedJwt<'_> {
    /// Checks the signature in constant time.
    pub(super) fn verify(&self, secret: &[u8]) -> bool {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            return false;
        };
        mac.update(self.signing_input.as_bytes());
        mac.verify_slice(&self.signature).is_ok()
    }
}

pub(super) fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The protocol name of a channel: its name, or `$direct:<id>` for direct channels.
pub fn channel_protocol_name(channel: &Channel) -> String {
    match &channel.name {
        Some(name) if channel.kind != ChannelKind::Direct => name.as_str().to_owned(),
        _ => format!("{DIRECT_PREFIX}{}", channel.id),
    }
}

/// The `message.created` event of a stored message, byte for byte the one the engine
/// published when the message was sent (recovery and gap fills use it).
pub fn message_created_event(epoch: &str, view: &MessageView) -> ChannelEvent {
    ChannelEvent::new(
        view.message.app_id,
        view.message.channel_id,
        EventType::MessageCreated,
        Some(view.message.seq),
        epoch,
        &super::event_payloads::MessageEvent::new(EventType::MessageCreated, view),
    )
}

impl Engine {
    /// Tells the other nodes of a cluster that a user's connection joined (or left)
    /// a channel, so their subscribers get the `join` (`leave`) push this node's
    /// gateway gave its own. Not stored: presence is not history.
    pub fn announce_presence(
        &self,
        app: AppId,
        channel: ChannelId,
        joined: bool,
        user: &str,
        client: &str,
    ) {
        let event_type = if joined {
            EventType::Join
        } else {
            EventType::Leave
        };
        self.bus.announce(Arc::new(ChannelEvent::new(
            app,
            channel,
            event_type,
            None,
            "",
            &json!({"info": {"user": user, "client": client}}),
        )));
    }

    /// Mints a connection token for `user` (empty: anonymous) of the application with
    /// this client id. Returns the token and its expiry (Unix seconds).
    pub async fn mint_realtime_token(
        &self,
        client_id: &str,
        user: &str,
        ttl: Duration,
    ) -> Result<(String, i64)> {
        let credentials = self
            .store
            .find_credentials(client_id)
            .await?
            .ok_or_else(|| Error::not_found("application"))?;
        mint(&credentials, user, ttl)
    }

    /// Mints a connection token for the actor's own application (its backend only).
    pub async fn mint_realtime_token_for(
        &self,
        actor: &Actor,
        user: &str,
        ttl: Duration,
    ) -> Result<(String, i64)> {
        require_app(actor)?;
        let app = self.get_application(actor).await?;
        self.mint_realtime_token(&app.client_id, user, ttl).await
    }

    /// Checks a connection token and resolves who it names, creating a guest user on
    /// first connect when the application allows guests.
    pub async fn authenticate_realtime(&self, token: &str) -> Result<RealtimeIdentity, TokenError> {
        let jwt = decode_hs256(token)?;
        let client_id = jwt
            .claims
            .get("iss")
            .or_else(|| jwt.claims.get("app"))
            .and_then(Value::as_str)
            .ok_or(TokenError::Invalid("the token names no application (iss)"))?;
        let credentials = self.store.find_credentials(client_id).await?;
        let Some(credentials) = credentials else {
            // Spend the same work as a real check so timing does not reveal ids.
            let _ = jwt.verify(b"unknown-application");
            return Err(TokenError::Invalid("bad signature"));
        };
        if !jwt.verify(credentials.signing_secret.as_bytes()) {
            return Err(TokenError::Invalid("bad signature"));
        }
        let exp = jwt
            .claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or(TokenError::Invalid("the token has no exp"))?;
        if exp <= unix_now() {
            return Err(TokenError::Expired);
        }
        if let Some(nbf) = jwt.claims.get("nbf").and_then(Value::as_i64)
            && nbf > unix_now() + 60
        {
            return Err(TokenError::Invalid("the token is not valid yet"));
        }
        let sub = jwt
            .claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let app = credentials.app;
        if sub.is_empty() {
            if !app.settings.anonymous_viewers {
                return Err(TokenError::AnonymousNotAllowed);
            }
            return Ok(RealtimeIdentity {
                app,
                user: None,
                expires_at: exp,
            });
        }
        let name = UserName::parse(sub)
            .map_err(|_| TokenError::Invalid("sub is not a valid user name"))?;
        let user = match self.store.get_user_by_name(app.id, &name).await? {
            Some(user) => user,
            None if app.settings.guest_users => self.create_guest(&app, name).await?,
            None => return Err(TokenError::UnknownUser),
        };
        Ok(RealtimeIdentity {
            app,
            user: Some(user),
            expires_at: exp,
        })
    }

    async fn create_guest(&self, app: &Application, name: UserName) -> Result<User> {
        let created = self
            .store
            .create_user(
                app.id,
                NewUser {
                    display_name: DisplayName::parse(name.as_str())?,
                    name: name.clone(),
                    kind: UserKind::Person,
                    is_guest: true,
                    properties: Properties::default(),
                },
            )
            .await;
        match created {
            Ok(user) => Ok(user),
            // Two first connects at once: the loser reads the winner's user.
            Err(Error::Conflict(_)) => self
                .store
                .get_user_by_name(app.id, &name)
                .await?
                .ok_or_else(|| Error::internal("guest vanished after conflict")),
            Err(e) => Err(e),
        }
    }

    /// The channel a realtime client names: a channel name, or `$direct:<id>`.
    pub async fn realtime_channel(
        &self,
        identity: &RealtimeIdentity,
        name: &str,
    ) -> Result<Channel> {
        let app = identity.app.id;
        let found = if let Some(id) = name.strip_prefix(DIRECT_PREFIX) {
            let id: i64 = id.parse().map_err(|_| Error::not_found("channel"))?;
            self.store
                .get_channel(app, ChannelId(id))
                .await?
                .filter(|c| c.kind == ChannelKind::Direct)
        } else {
            match ChannelName::parse(name) {
                Ok(name) => self.store.get_channel_by_name(app, &name).await?,
                Err(_) => None,
            }
        };
        found.ok_or_else(|| Error::not_found("channel"))
    }

    /// Whether the connection may read (subscribe to, see the history and presence
    /// of) the channel: anyone for PUBLIC channels, members only for PRIVATE and
    /// DIRECT ones; anonymous viewers PUBLIC channels only; never a user banned there.
    pub async fn require_can_read(
        &self,
        identity: &RealtimeIdentity,
        channel: &Channel,
    ) -> Result<()> {
        if let Some(user) = &identity.user {
            // A banned user may not watch the room either (Tencent: "cannot enter").
            self.require_can_enter(channel, user.id).await?;
        }
        if channel.kind == ChannelKind::Public {
            return Ok(());
        }
        let Some(user) = &identity.user else {
            return Err(Error::Forbidden(
                "anonymous viewers may only watch public channels".into(),
            ));
        };
        if channel.creator == Some(user.id)
            || self
                .store
                .is_member(channel.app_id, channel.id, user.id)
                .await?
        {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "only members may read this channel".into(),
            ))
        }
    }

    /// Publishes a typing indicator (`keystrokes` event; not stored, rate-limited:
    /// see [`keystrokes`](super::keystrokes)). `keys` is the text typed so far, if the
    /// client shares it.
    pub async fn send_keystrokes(
        &self,
        actor: &Actor,
        channel: ChannelId,
        keys: Option<String>,
    ) -> Result<()> {
        if !matches!(actor, Actor::User { .. }) {
            return Err(Error::Forbidden("only users type".into()));
        }
        self.get_channel(actor, channel).await?;
        self.type_in(actor, crate::model::ThreadRef::Main(channel), None, keys)
            .await?;
        Ok(())
    }
}

fn mint(credentials: &AppCredentials, user: &str, ttl: Duration) -> Result<(String, i64)> {
    if !user.is_empty() {
        UserName::parse(user)?;
    }
    if ttl.is_zero() || ttl > MAX_TOKEN_TTL {
        return Err(Error::invalid(
            "ttl",
            format!("must be 1 to {} seconds", MAX_TOKEN_TTL.as_secs()),
        ));
    }
    let now = unix_now();
    let exp = now + ttl.as_secs() as i64;
    let claims = json!({
        "sub": user,
        "iss": credentials.app.client_id,
        "iat": now,
        "exp": exp,
    });
    Ok((
        sign_hs256(credentials.signing_secret.as_bytes(), &claims),
        exp,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_with_its_secret_only() {
        let token = sign_hs256(b"s3cret", &json!({"sub": "jane", "iss": "hb_x", "exp": 1}));
        let jwt = decode_hs256(&token).ok().unwrap();
        assert!(jwt.verify(b"s3cret"));
        assert!(!jwt.verify(b"other"));
        assert_eq!(jwt.claims["sub"], "jane");
    }

    #[test]
    fn tampered_and_foreign_tokens_are_refused() {
        let token = sign_hs256(b"k", &json!({"sub": "jane", "iss": "hb_x", "exp": 1}));
        let (head, _) = token.rsplit_once('.').unwrap();
        let forged_claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"root","iss":"hb_x","exp":1}"#);
        let (header, _) = head.split_once('.').unwrap();
        let sig = token.rsplit_once('.').unwrap().1;
        let forged = format!("{header}.{forged_claims}.{sig}");
        assert!(!decode_hs256(&forged).ok().unwrap().verify(b"k"));
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#)
        );
        assert!(matches!(
            decode_hs256(&none_alg),
            Err(TokenError::Invalid(_))
        ));
        assert!(matches!(decode_hs256(""), Err(TokenError::Invalid(_))));
        assert!(matches!(decode_hs256("a.b"), Err(TokenError::Invalid(_))));
    }
}
