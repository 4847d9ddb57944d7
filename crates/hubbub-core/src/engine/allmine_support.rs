//! What the Allmine dialect needs from the core beyond [`dialects`](super::dialects):
//! one-time-password logins (by email or phone) with a brute-force limit, rotation of
//! refresh tokens, and four live-room operations that other dialects can use too:
//! sending into a room whose broadcast has not ended, numbered pages of a room's
//! history, deleting a message addressed through its room, and a viewer's like.
//!
//! # One-time passwords
//! A pending OTP is a [`DialectTokenKind::AllmineOtp`] token whose token string is
//! derived from the application and the address (so the verify step finds it without
//! the client holding anything but the code); its `data` holds the code's hash and
//! two counters. The rules, per application and address:
//! * a code has [`OTP_DIGITS`] digits and lives [`OTP_TTL`] from the last send;
//! * a new send replaces the code but keeps the counters, and at most
//!   [`OTP_MAX_SENDS`] codes are sent per window (then `RateLimited` until it ends);
//! * a wrong guess costs one of [`OTP_MAX_FAILURES`] attempts and leaves the code
//!   valid; the last wrong guess kills it: even the right code fails, and no new code
//!   is sent, for [`OTP_TTL`];
//! * the right code is used up by the login.
//!
//! So an attacker gets at most five guesses at a 1-in-10 000 code per window.
//! Every change takes the stored record first (an atomic delete) and then writes the
//! new one, so concurrent guesses are never both checked against one record: while
//! one verify holds the record, another finds nothing and fails. A write that meets a
//! record written meanwhile (a send racing a verify) takes it and merges the counters
//! (the larger of each), so no interleaving resets them.

use super::users::CreateUser;
use super::{Actor, DialectIdentity, Engine, SendMessage, TokenPair};
use crate::credentials::{hash_secret, verify_secret};
use crate::error::{Error, Result};
use crate::ids::{AppId, ChannelId, MessageId, UserId};
use crate::model::{
    Appended, Channel, ChannelKind, DialectToken, DialectTokenKind, LiveStatus, MessageFilter,
    MessageView, Timestamp, User, UserKind, now,
};
use crate::names::{Properties, UserName};
use crate::paging::{CursorDirection, CursorRequest, MAX_PAGE_SIZE, Page, PageRequest};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// Digits of a one-time password.
pub const OTP_DIGITS: usize = 4;
/// How long a code stays valid after it was sent (and how long a dead one blocks).
pub const OTP_TTL: Duration = Duration::from_secs(600);
/// Wrong guesses an address may make per window before its pending code dies.
pub const OTP_MAX_FAILURES: u32 = 5;
/// Codes sent to one address per window.
pub const OTP_MAX_SENDS: u32 = 5;

/// Longest e-mail address accepted (a user name holds at most 128 characters).
const MAX_EMAIL_CHARS: usize = 128;
/// E.164: at most 15 digits with the country code.
const MAX_PHONE_DIGITS: usize = 15;

/// Where a one-time password goes, validated and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpAddress {
    /// A lower-cased e-mail address.
    Email(String),
    /// A phone number: country calling code and national number, digits only.
    Phone {
        country_code: String,
        number: String,
    },
}

impl OtpAddress {
    /// An e-mail address: trimmed, lower-cased, one `@` between a local part of at
    /// most 64 characters and a dotted domain, no spaces, at most 128 characters.
    pub fn email(raw: &str) -> Result<Self> {
        let email = raw.trim().to_lowercase();
        let bad = || Error::invalid("email", "must be an e-mail address like name@example.com");
        if email.is_empty() || email.chars().count() > MAX_EMAIL_CHARS {
            return Err(bad());
        }
        if email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c))
        {
            return Err(bad());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(bad());
        };
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        let local_ok = !local.is_empty()
            && local.chars().count() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !domain_ok || !local_ok {
            return Err(bad());
        }
        Ok(OtpAddress::Email(email))
    }

    /// A phone number from a country calling code (`"+90"` or `"90"`, 1 to 3 digits)
    /// and a national number (digits; spaces, dashes, dots and parentheses are
    /// dropped). Together at most 15 digits.
    pub fn phone(country_code: &str, number: &str) -> Result<Self> {
        let cc = country_code.trim();
        let cc = cc.strip_prefix('+').unwrap_or(cc);
        if cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()) || cc == "0" {
            return Err(Error::invalid(
                "countryCode",
                "must be a country calling code like +90",
            ));
        }
        let digits: String = number
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        if digits.len() < 4
            || cc.len() + digits.len() > MAX_PHONE_DIGITS
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Error::invalid(
                "phoneNumber",
                format!(
                    "must be a phone number of at least 4 digits, at most {MAX_PHONE_DIGITS} with the country code"
                ),
            ));
        }
        Ok(OtpAddress::Phone {
            country_code: cc.to_owned(),
            number: digits,
        })
    }

    /// The user name of the address's user: the e-mail address, or the phone number
    /// in E.164 form (`+905551234567`).
    pub fn user_name(&self) -> String {
        match self {
            OtpAddress::Email(email) => email.clone(),
            OtpAddress::Phone {
                country_code,
                number,
            } => format!("+{country_code}{number}"),
        }
    }

    /// The display name of a user created by a login: the part of the e-mail address
    /// before `@`, or the phone number.
    pub fn display_name(&self) -> String {
        match self {
            OtpAddress::Email(email) => email.split('@').next().unwrap_or(email).to_owned(),
            OtpAddress::Phone { .. } => self.user_name(),
        }
    }

    fn describe(&self) -> Value {
        match self {
            OtpAddress::Email(email) => serde_json::json!({ "email": email }),
            OtpAddress::Phone { .. } => serde_json::json!({ "phone": self.user_name() }),
        }
    }
}

/// A successful OTP login or refresh: the user and a fresh token pair.
#[derive(Debug, Clone)]
pub struct AllmineLogin {
    pub user: User,
    pub tokens: TokenPair,
    /// Whether this login created the user.
    pub created: bool,
}

/// The stored state of an address's pending code (the token's `data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OtpRecord {
    /// The address, for operators reading the table.
    #[serde(flatten)]
    address: Value,
    /// Hash of the token string and the code (see [`code_hash`]).
    code_hash: String,
    /// When the code was drawn, in milliseconds; the newer code wins a merge.
    issued_at_ms: i64,
    /// Wrong guesses in this window.
    failures: u32,
    /// Codes sent in this window.
    sends: u32,
}

impl OtpRecord {
    fn dead(&self) -> bool {
        self.failures >= OTP_MAX_FAILURES
    }

    /// Combines two records of one address written concurrently: the counters never
    /// go down, and the newer code is the one that works.
    fn merge(self, other: OtpRecord) -> OtpRecord {
        let failures = self.failures.max(other.failures);
        let sends = self.sends.max(other.sends);
        let newer = if other.issued_at_ms > self.issued_at_ms {
            other
        } else {
            self
        };
        OtpRecord {
            failures,
            sends,
            ..newer
        }
    }
}

/// The token string under which an address's pending code is stored.
fn otp_token(app: AppId, address: &OtpAddress) -> String {
    format!("allmine-otp:{}:{}", app.0, address.user_name())
}

/// The stored form of a code. The token string salts it per application and address.
fn code_hash(token: &str, code: &str) -> String {
    hash_secret(&format!("{token}#{code}"))
}

fn draw_code() -> String {
    let n = rand::thread_rng().gen_range(0..10u32.pow(OTP_DIGITS as u32));
    format!("{n:0width$}", width = OTP_DIGITS)
}

fn check_code(code: &str) -> Result<()> {
    if code.len() == OTP_DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::invalid(
            "code",
            format!("must be {OTP_DIGITS} digits"),
        ))
    }
}

fn ttl() -> chrono::Duration {
    chrono::Duration::from_std(OTP_TTL).expect("ten minutes fit")
}

fn left_until(t: Timestamp) -> Duration {
    (t - now()).to_std().unwrap_or(Duration::from_secs(1))
}

impl Engine {
    // ----- one-time passwords -------------------------------------------------------

    /// Draws a new code for `address` and returns it (the caller delivers it). The
    /// counters of the window carry over; refused with `RateLimited` while the code is
    /// dead or after [`OTP_MAX_SENDS`] codes in one window.
    pub async fn send_allmine_otp(&self, app: AppId, address: &OtpAddress) -> Result<String> {
        let token = otp_token(app, address);
        let previous = self.take_otp(&token).await?;
        let (failures, sends) = previous
            .as_ref()
            .map_or((0, 0), |(r, _)| (r.failures, r.sends));
        if let Some((record, expires_at)) = previous
            && (record.dead() || record.sends >= OTP_MAX_SENDS)
        {
            let expires_at = self.put_otp(app, &token, record, expires_at).await?;
            return Err(Error::RateLimited {
                retry_after: left_until(expires_at),
            });
        }
        let code = draw_code();
        let record = OtpRecord {
            address: address.describe(),
            code_hash: code_hash(&token, &code),
            issued_at_ms: now().timestamp_millis(),
            failures,
            sends: sends + 1,
        };
        self.put_otp(app, &token, record, now() + ttl()).await?;
        Ok(code)
    }

    /// Checks a code sent to `address`. The right code logs the user in, creating
    /// the user on the first login (name = [`OtpAddress::user_name`], display name =
    /// [`OtpAddress::display_name`], `properties` given to a new user only). `None`
    /// for a wrong, expired, dead or never-sent code; see the module docs for what a
    /// wrong guess costs.
    pub async fn verify_allmine_otp(
        &self,
        app: AppId,
        address: &OtpAddress,
        code: &str,
        properties: Value,
    ) -> Result<Option<AllmineLogin>> {
        check_code(code)?;
        let name = UserName::parse(&address.user_name())?;
        Properties::parse("properties", properties.clone())?;
        let token = otp_token(app, address);
        let Some((mut record, expires_at)) = self.take_otp(&token).await? else {
            return Ok(None);
        };
        if record.dead() {
            self.put_otp(app, &token, record, expires_at).await?;
            return Ok(None);
        }
        if !verify_secret(&format!("{token}#{code}"), &record.code_hash) {
            record.failures += 1;
            // A dead code blocks the address for a full window from the last guess.
            let expires_at = if record.dead() {
                now() + ttl()
            } else {
                expires_at
            };
            self.put_otp(app, &token, record, expires_at).await?;
            return Ok(None);
        }
        let (user, created) = self.login_user(app, &name, address, properties).await?;
        let tokens = self.issue_allmine_tokens(app, user.id).await?;
        Ok(Some(AllmineLogin {
            user,
            tokens,
            created,
        }))
    }

    /// Rotates an Allmine refresh token: the old one is used up (a second use finds
    /// nothing) and a new pair is issued. `None` for an unknown, expired or used
    /// token, or a user since deleted.
    pub async fn refresh_allmine_tokens(
        &self,
        refresh_token: &str,
    ) -> Result<Option<AllmineLogin>> {
        if refresh_token.is_empty() || refresh_token.len() > 512 {
            return Ok(None);
        }
        let Some(taken) = self
            .take_dialect_token(DialectTokenKind::AllmineRefresh, refresh_token)
            .await?
        else {
            return Ok(None);
        };
        let Some(user) = taken.user_id else {
            return Ok(None);
        };
        let Some(user) = self.store.get_user(taken.app_id, user).await? else {
            return Ok(None);
        };
        let tokens = self.issue_allmine_tokens(taken.app_id, user.id).await?;
        Ok(Some(AllmineLogin {
            user,
            tokens,
            created: false,
        }))
    }

    /// Ends every Allmine session of the user: their refresh tokens are revoked.
    /// Access JWTs are not stored and stay valid until they expire (at most
    /// [`ALLMINE_ACCESS_TTL`](super::ALLMINE_ACCESS_TTL)).
    pub async fn logout_allmine(&self, identity: &DialectIdentity) -> Result<u64> {
        self.revoke_dialect_tokens(
            identity.app.id,
            identity.user.id,
            &[DialectTokenKind::AllmineRefresh],
        )
        .await
    }

    /// The user of an address, created on its first login.
    async fn login_user(
        &self,
        app: AppId,
        name: &UserName,
        address: &OtpAddress,
        properties: Value,
    ) -> Result<(User, bool)> {
        if let Some(user) = self.store.get_user_by_name(app, name).await? {
            return Ok((user, false));
        }
        let created = self
            .create_user(
                &Actor::App(app),
                CreateUser {
                    name: name.as_str().to_owned(),
                    display_name: Some(address.display_name()),
                    is_guest: false,
                    kind: UserKind::Person,
                    properties,
                },
            )
            .await;
        match created {
            Ok(user) => Ok((user, true)),
            // Created meanwhile (by the backend): log into that user.
            Err(Error::Conflict(_)) => self
                .store
                .get_user_by_name(app, name)
                .await?
                .map(|u| (u, false))
                .ok_or_else(|| Error::internal("user vanished after a name conflict")),
            Err(e) => Err(e),
        }
    }

    /// Takes (removes) the address's pending record, with its expiry.
    async fn take_otp(&self, token: &str) -> Result<Option<(OtpRecord, Timestamp)>> {
        let Some(taken) = self
            .take_dialect_token(DialectTokenKind::AllmineOtp, token)
            .await?
        else {
            return Ok(None);
        };
        let record: OtpRecord = serde_json::from_value(taken.data).map_err(Error::internal)?;
        Ok(Some((record, taken.expires_at)))
    }

    /// Stores the address's record. A record stored meanwhile by a concurrent call is
    /// taken and merged into this one. Returns the expiry written.
    async fn put_otp(
        &self,
        app: AppId,
        token: &str,
        mut record: OtpRecord,
        mut expires_at: Timestamp,
    ) -> Result<Timestamp> {
        for _ in 0..8 {
            let data = serde_json::to_value(&record).map_err(Error::internal)?;
            let inserted = self
                .store
                .insert_dialect_token(DialectToken {
                    token_hash: hash_secret(token),
                    kind: DialectTokenKind::AllmineOtp,
                    app_id: app,
                    user_id: None,
                    expires_at,
                    data,
                    created_at: now(),
                })
                .await;
            match inserted {
                Ok(()) => return Ok(expires_at),
                Err(Error::Conflict(_)) => {
                    if let Some((other, other_expiry)) = self.take_otp(token).await? {
                        record = record.merge(other);
                        expires_at = expires_at.max(other_expiry);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::Unavailable(
            "one-time password is being changed concurrently; retry".into(),
        ))
    }

    // ----- live rooms ---------------------------------------------------------------

    /// Sends a message into a live room, like [`Engine::send_message`], but refuses
    /// (`Conflict`) once the room's broadcast has ended: its chat is closed.
    pub async fn send_live_message(
        &self,
        actor: &Actor,
        channel: ChannelId,
        input: SendMessage,
    ) -> Result<(Appended, MessageView)> {
        let channel = self.get_channel(actor, channel).await?;
        require_not_ended(&channel)?;
        self.send_in_thread(actor, channel, None, input).await
    }

    /// One numbered page of a channel's messages, newest first (page 0 holds the
    /// newest `page.size`), with the channel's total. A page past the end is empty
    /// and keeps the total. Sort keys are ignored. Reaching page `n` reads the `n`
    /// pages before it, so deep pages cost more; clients that walk far should use
    /// cursors ([`Engine::list_messages`]).
    pub async fn list_messages_by_page(
        &self,
        actor: &Actor,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<MessageView>> {
        let channel = self.get_channel(actor, channel).await?;
        if page.size == 0 || page.size > MAX_PAGE_SIZE {
            return Err(Error::invalid(
                "size",
                format!("must be 1 to {MAX_PAGE_SIZE}"),
            ));
        }
        let filter = MessageFilter {
            channel_id: Some(channel.id),
            ..MessageFilter::default()
        };
        let size = page.size as usize;
        let mut skip = page.offset();
        let mut items = Vec::with_capacity(size);
        let mut cursor = None;
        let total = loop {
            let want = (skip + (size - items.len()) as u64).min(u64::from(MAX_PAGE_SIZE)) as u32;
            let chunk = self
                .store
                .list_messages(
                    actor.app(),
                    &filter,
                    &CursorRequest {
                        size: want,
                        cursor,
                        direction: CursorDirection::Older,
                    },
                )
                .await?;
            if cursor.is_none() && page.offset() >= chunk.total {
                break chunk.total;
            }
            let read = chunk.items.len();
            cursor = chunk.items.last().map(|m| m.message.id);
            for item in chunk.items {
                if skip > 0 {
                    skip -= 1;
                } else if items.len() < size {
                    items.push(item);
                }
            }
            if items.len() == size || !chunk.has_more || read == 0 {
                break chunk.total;
            }
        };
        Ok(Page {
            items,
            request: page.clone(),
            total,
        })
    }

    /// Deletes a message addressed through its channel (`.../rooms/{id}/messages/{id}`):
    /// a message of another channel is `NotFound`. Who may delete is as for
    /// [`Engine::delete_message`]: its author, the channel's owner or moderators, or the
    /// backend.
    pub async fn delete_channel_message(
        &self,
        actor: &Actor,
        channel: ChannelId,
        message: MessageId,
    ) -> Result<MessageView> {
        let channel = self.get_channel(actor, channel).await?;
        let found = self.get_message(actor, message).await?;
        if found.message.channel_id != channel.id {
            return Err(Error::not_found("message"));
        }
        self.delete_message(actor, message).await
    }

    /// A viewer's like of a live room: the room's `likes` counter rises by one.
    /// Refused to users banned from the room or not members of a private one
    /// (`Forbidden`) and once the broadcast has ended (`Conflict`).
    pub async fn like_live(&self, actor: &Actor, channel: ChannelId) -> Result<Channel> {
        let current = self.get_channel(actor, channel).await?;
        require_not_ended(&current)?;
        if let Some(user) = actor.user() {
            self.require_can_enter(&current, user).await?;
            self.require_member_if_private(&current, user).await?;
        }
        self.add_live_counters(
            actor,
            channel,
            super::CounterDelta {
                likes: 1,
                ..Default::default()
            },
        )
        .await
    }

    async fn require_member_if_private(&self, channel: &Channel, user: UserId) -> Result<()> {
        if channel.kind != ChannelKind::Public
            && !self
                .store
                .is_member(channel.app_id, channel.id, user)
                .await?
        {
            return Err(Error::Forbidden("only members may do this here".into()));
        }
        Ok(())
    }
}

fn require_not_ended(channel: &Channel) -> Result<()> {
    if channel.live.status == LiveStatus::Ended {
        return Err(Error::Conflict(
            "the broadcast has ended; its chat is closed".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            OtpAddress::email("  Alice.B@Example.COM ").unwrap(),
            OtpAddress::Email("alice.b@example.com".into())
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "al ice@example.com",
            "alice@@example.com",
            "alice@exa_mple.com",
            ".alice@example.com",
            "a..b@example.com",
            "alice@-example.com",
        ] {
            assert!(OtpAddress::email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(120));
        assert!(OtpAddress::email(&long).is_err());
    }

    #[test]
    fn phones_become_e164_names() {
        let phone = OtpAddress::phone("+90", "555 123-45(67)").unwrap();
        assert_eq!(phone.user_name(), "+905551234567");
        assert_eq!(phone.display_name(), "+905551234567");
        assert_eq!(
            OtpAddress::phone("1", "5551234").unwrap().user_name(),
            "+15551234"
        );
        for (cc, number) in [
            ("", "5551234"),
            ("+", "5551234"),
            ("0", "5551234"),
            ("+9000", "5551234"),
            ("+90", "123"),
            ("+90", "55512345678901"),
            ("+90", "555x1234"),
        ] {
            assert!(OtpAddress::phone(cc, number).is_err(), "{cc} {number}");
        }
    }

    #[test]
    fn display_name_is_the_local_part() {
        let email = OtpAddress::email("john.doe@example.com").unwrap();
        assert_eq!(email.user_name(), "john.doe@example.com");
        assert_eq!(email.display_name(), "john.doe");
    }

    #[test]
    fn codes_are_four_digits() {
        for _ in 0..200 {
            let code = draw_code();
            assert!(check_code(&code).is_ok(), "{code}");
        }
        for bad in ["", "123", "12345", "12a4", "١٢٣٤"] {
            assert!(check_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn code_hashes_are_salted_by_address() {
        let a = otp_token(AppId(1), &OtpAddress::email("a@example.com").unwrap());
        let b = otp_token(AppId(1), &OtpAddress::email("b@example.com").unwrap());
        let other_app = otp_token(AppId(2), &OtpAddress::email("a@example.com").unwrap());
        assert_ne!(code_hash(&a, "1234"), code_hash(&b, "1234"));
        assert_ne!(code_hash(&a, "1234"), code_hash(&other_app, "1234"));
        assert!(verify_secret(&format!("{a}#1234"), &code_hash(&a, "1234")));
    }

    #[test]
    fn merged_records_keep_the_larger_counters_and_the_newer_code() {
        let record = |code: &str, at: i64, failures: u32, sends: u32| OtpRecord {
            address: serde_json::json!({"email": "a@example.com"}),
            code_hash: code.into(),
            issued_at_ms: at,
            failures,
            sends,
        };
        let merged = record("old", 1, 4, 1).merge(record("new", 2, 0, 2));
        assert_eq!(merged, record("new", 2, 4, 2));
        let merged = record("new", 2, 1, 3).merge(record("old", 1, 3, 1));
        assert_eq!(merged, record("new", 2, 3, 3));
        assert!(record("x", 0, OTP_MAX_FAILURES, 0).dead());
        assert!(!record("x", 0, OTP_MAX_FAILURES - 1, 0).dead());
    }

    #[test]
    fn records_round_trip_with_the_address_flattened() {
        let record = OtpRecord {
            address: serde_json::json!({"phone": "+905551234567"}),
            code_hash: "h".into(),
            issued_at_ms: 5,
            failures: 1,
            sends: 2,
        };
        let value = serde_json::to_value(&record).unwrap();
        assert_eq!(value["phone"], "+905551234567");
        assert_eq!(value["failures"], 1);
        let back: OtpRecord = serde_json::from_value(value).unwrap();
        assert_eq!(back, record);
    }
}
