//! Reported messages: a user or the app backend reports a message with a reason;
//! moderators list a channel's reported messages.

use super::{Actor, Engine, UserRef};
use crate::error::{Error, Result};
use crate::ids::{ChannelId, MessageId};
use crate::model::{ChannelKind, MessageView, NewReport, Report};
use crate::paging::{Page, PageRequest};

/// Longest report reason, in bytes.
pub const MAX_REASON_BYTES: usize = 1000;

fn parse_reason(raw: &str) -> Result<String> {
    let reason = raw.trim();
    if reason.is_empty() || reason.len() > MAX_REASON_BYTES {
        return Err(Error::invalid(
            "reason",
            format!("must be 1 to {MAX_REASON_BYTES} bytes"),
        ));
    }
    if reason
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::invalid(
            "reason",
            "must not contain control characters other than newline and tab",
        ));
    }
    Ok(reason.to_owned())
}

impl Engine {
    /// Reports a message. A user reports as themselves, a message of a channel they
    /// may read and not their own; the app backend may name the reporting user.
    /// Returns the report and the message with its new `report_count`.
    pub async fn report_message(
        &self,
        actor: &Actor,
        message: MessageId,
        reporter: Option<&UserRef>,
        reason: &str,
    ) -> Result<(Report, MessageView)> {
        let app = actor.app();
        let reason = parse_reason(reason)?;
        let view = self.get_message(actor, message).await?;
        let reporter = match (actor, reporter) {
            (Actor::User { user, .. }, _) => Some(*user),
            (Actor::App(_), Some(r)) => Some(
                self.resolve_user(app, r)
                    .await
                    .map_err(|_| Error::invalid("user", "no such user in this application"))?
                    .id,
            ),
            (Actor::App(_), None) => None,
        };
        if let Some(user) = reporter {
            if view.message.user_id == Some(user) {
                return Err(Error::Forbidden("nobody reports their own message".into()));
            }
            if let Actor::User { .. } = actor {
                let channel = self.get_channel(actor, view.message.channel_id).await?;
                if channel.kind != ChannelKind::Public
                    && channel.creator != Some(user)
                    && !self.store.is_member(app, channel.id, user).await?
                {
                    return Err(Error::Forbidden(
                        "only members may report messages of this channel".into(),
                    ));
                }
            }
        }
        let report = self
            .store
            .report_message(
                app,
                NewReport {
                    message_id: message,
                    user_id: reporter,
                    reason,
                },
            )
            .await?;
        let view = self.get_message(actor, message).await?;
        Ok((report, view))
    }

    /// The channel's reported messages, most recently reported first (the app backend
    /// or the channel's moderators).
    pub async fn list_reported_messages(
        &self,
        actor: &Actor,
        channel: ChannelId,
        page: &PageRequest,
    ) -> Result<Page<MessageView>> {
        let found = self.get_channel(actor, channel).await?;
        self.require_moderator(actor, &found).await?;
        self.store
            .list_reported_messages(actor.app(), channel, page)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        assert_eq!(parse_reason("  spam \n").unwrap(), "spam");
        assert!(parse_reason("   ").is_err());
        assert!(parse_reason(&"x".repeat(MAX_REASON_BYTES + 1)).is_err());
        assert!(parse_reason("bad\u{7}bell").is_err());
        assert!(parse_reason("line one\nline two").is_ok());
    }
}
