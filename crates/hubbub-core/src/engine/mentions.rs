//! Finding mentions in message text.
//!
//! A mention is `@` followed by the name of a user of the application, or `#` followed
//! by the name of a PUBLIC channel (or of the channel the message is sent to). The
//! sigil must start the text or follow a character that is not a letter, digit or one
//! of `_ . @ #` (so `jane@example.com` mentions nobody). The name runs to the next
//! whitespace; trailing punctuation (`@jane,`) is dropped one character at a time until
//! a name matches. Names containing whitespace cannot be mentioned. Only the first
//! [`MAX_LOOKUPS`] candidate names of a message are looked up.

use super::Engine;
use super::channels::user_summary;
use crate::error::Result;
use crate::model::{Channel, ChannelKind, Mention, MentionTarget, MentionedChannel};
use crate::names::{ChannelName, UserName};
use serde_json::{Value, json};

/// Most names looked up for one message (each is a store read).
pub(crate) const MAX_LOOKUPS: usize = 32;

/// A sigil and the text after it, up to the next whitespace.
#[derive(Debug, PartialEq, Eq)]
struct Candidate<'a> {
    /// Byte offset of the sigil.
    at: usize,
    sigil: char,
    run: &'a str,
}

fn may_precede(c: char) -> bool {
    !(c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '#'))
}

/// Every `@name`/`#name` candidate of `body`, in order.
fn candidates(body: &str) -> Vec<Candidate<'_>> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in body.char_indices() {
        if matches!(c, '@' | '#') && previous.is_none_or(may_precede) {
            let rest = &body[at + 1..];
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            if end > 0 {
                found.push(Candidate {
                    at,
                    sigil: c,
                    run: &rest[..end],
                });
            }
        }
        previous = Some(c);
    }
    found
}

/// The names a run may mean, longest first: the run, then without its trailing
/// punctuation one character at a time.
fn names(run: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(run);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.char_indices().next_back() {
            Some((i, c)) if i > 0 && !c.is_alphanumeric() => Some(&current[..i]),
            _ => None,
        };
        Some(current)
    })
}

fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

impl Engine {
    /// The mentions of a text sent to `channel`, in order of appearance.
    pub(crate) async fn find_mentions(
        &self,
        channel: &Channel,
        body: &str,
    ) -> Result<Vec<Mention>> {
        let app = channel.app_id;
        let mut lookups = 0;
        let mut mentions = Vec::new();
        for candidate in candidates(body) {
            let mut target = None;
            let mut matched = "";
            for name in names(candidate.run) {
                if lookups >= MAX_LOOKUPS {
                    break;
                }
                lookups += 1;
                target = match candidate.sigil {
                    '@' => match UserName::parse(name) {
                        Ok(n) => self.store.get_user_by_name(app, &n).await?.map(|user| {
                            MentionTarget::User {
                                user: Box::new(user),
                            }
                        }),
                        Err(_) => None,
                    },
                    _ => match ChannelName::parse(name) {
                        Ok(n) => self
                            .store
                            .get_channel_by_name(app, &n)
                            .await?
                            .filter(|c| c.kind == ChannelKind::Public || c.id == channel.id)
                            .and_then(|c| mentioned_channel(&c))
                            .map(|channel| MentionTarget::Channel { channel }),
                        Err(_) => None,
                    },
                };
                if target.is_some() {
                    matched = name;
                    break;
                }
            }
            if let Some(target) = target {
                let tag = format!("{}{matched}", candidate.sigil);
                let start = utf16_len(&body[..candidate.at]);
                mentions.push(Mention {
                    target,
                    end_position: start + utf16_len(&tag),
                    start_position: start,
                    tag,
                });
            }
            if lookups >= MAX_LOOKUPS {
                break;
            }
        }
        Ok(mentions)
    }
}

fn mentioned_channel(c: &Channel) -> Option<MentionedChannel> {
    Some(MentionedChannel {
        id: c.id,
        kind: c.kind.as_str().to_owned(),
        name: c.name.as_ref()?.as_str().to_owned(),
        display_name: c
            .display_name
            .as_ref()
            .map(|d| d.as_str().to_owned())
            .unwrap_or_default(),
        created_at: c.created_at,
        properties: c.properties.clone(),
    })
}

/// The mention object inside realtime events.
pub(crate) fn mention_summary(m: &Mention) -> Value {
    let mut out = json!({
        "tag": m.tag,
        "start_position": m.start_position,
        "end_position": m.end_position,
    });
    let obj = out.as_object_mut().expect("json! object");
    match &m.target {
        MentionTarget::User { user } => {
            obj.insert("type".into(), json!("USER"));
            obj.insert("user".into(), user_summary(user));
        }
        MentionTarget::Channel { channel } => {
            obj.insert("type".into(), json!("CHANNEL"));
            obj.insert(
                "channel".into(),
                json!({"id": channel.id, "type": channel.kind, "name": channel.name,
                       "display_name": channel.display_name}),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(body: &str) -> Vec<(usize, char, &str)> {
        candidates(body)
            .into_iter()
            .map(|c| (c.at, c.sigil, c.run))
            .collect()
    }

    #[test]
    fn sigils_start_words_only() {
        assert_eq!(
            runs("@jane hi #general, mail jane@x.io (@bob)"),
            vec![(0, '@', "jane"), (9, '#', "general,"), (35, '@', "bob)")]
        );
        assert_eq!(runs("@ alone and a##b"), vec![]);
        assert_eq!(runs("héllo @zoë!"), vec![(7, '@', "zoë!")]);
    }

    #[test]
    fn names_drop_trailing_punctuation_longest_first() {
        assert_eq!(names("jane,").collect::<Vec<_>>(), vec!["jane,", "jane"]);
        assert_eq!(
            names("jane@x.io).").collect::<Vec<_>>(),
            vec!["jane@x.io).", "jane@x.io)", "jane@x.io"]
        );
        assert_eq!(names("!").collect::<Vec<_>>(), vec!["!"]);
        assert_eq!(names("bob").collect::<Vec<_>>(), vec!["bob"]);
    }

    #[test]
    fn positions_are_utf16_offsets() {
        assert_eq!(utf16_len("héllo "), 6);
        assert_eq!(utf16_len("😀"), 2);
    }
}
