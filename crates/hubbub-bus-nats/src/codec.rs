//! The wire form of a [`ChannelEvent`] on NATS: a small binary header, then the
//! event's JSON payload exactly as the engine serialized it (never re-encoded).
//!
//! ```text
//! version u8 (1) | type u8 | flags u8 (bit 0: has seq) | [seq i64 BE] |
//! epoch length u16 BE | epoch bytes | data bytes (to the end)
//! ```
//!
//! The application and channel travel in the subject, so they are not repeated
//! here. A message of another version is refused, never guessed at: a node of a
//! newer release then drops it and its subscribers recover from the store.

use bytes::{BufMut, Bytes, BytesMut};
use hubbub_core::events::{ChannelEvent, EventType};
use hubbub_core::ids::{AppId, ChannelId};
use std::sync::Arc;

const VERSION: u8 = 1;
const HAS_SEQ: u8 = 1;

/// Why a message could not be read as an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    Truncated,
    Version(u8),
    EventType(u8),
    Epoch,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "truncated event"),
            DecodeError::Version(v) => write!(f, "unknown event encoding version {v}"),
            DecodeError::EventType(t) => write!(f, "unknown event type code {t}"),
            DecodeError::Epoch => write!(f, "epoch is not UTF-8"),
        }
    }
}

impl std::error::Error for DecodeError {}

// Codes are part of the wire format: never renumber, only add.
fn type_code(t: EventType) -> u8 {
    match t {
        EventType::MessageCreated => 1,
        EventType::MessageUpdated => 2,
        EventType::MessageDeleted => 3,
        EventType::ChannelUpdated => 4,
        EventType::ChannelDeleted => 5,
        EventType::MemberAdded => 6,
        EventType::MemberRemoved => 7,
        EventType::ModeratorAdded => 8,
        EventType::ModeratorRemoved => 9,
        EventType::Custom => 10,
        EventType::Keystrokes => 11,
        EventType::Resync => 12,
        EventType::Join => 13,
        EventType::Leave => 14,
        EventType::UserRestricted => 15,
        EventType::UserUnrestricted => 16,
        EventType::RobotAdded => 17,
        EventType::RobotRemoved => 18,
    }
}

fn type_of(code: u8) -> Option<EventType> {
    Some(match code {
        1 => EventType::MessageCreated,
        2 => EventType::MessageUpdated,
        3 => EventType::MessageDeleted,
        4 => EventType::ChannelUpdated,
        5 => EventType::ChannelDeleted,
        6 => EventType::MemberAdded,
        7 => EventType::MemberRemoved,
        8 => EventType::ModeratorAdded,
        9 => EventType::ModeratorRemoved,
        10 => EventType::Custom,
        11 => EventType::Keystrokes,
        12 => EventType::Resync,
        13 => EventType::Join,
        14 => EventType::Leave,
        15 => EventType::UserRestricted,
        16 => EventType::UserUnrestricted,
        17 => EventType::RobotAdded,
        18 => EventType::RobotRemoved,
        _ => return None,
    })
}

/// The message payload of an event.
pub fn encode(event: &ChannelEvent) -> Bytes {
    let epoch = event.epoch.as_bytes();
    // Epochs are short ids; one that does not fit is cut rather than the event lost
    // (a wrong epoch only makes a recovering client re-page history).
    let epoch = &epoch[..epoch.len().min(u16::MAX as usize)];
    let mut out = BytesMut::with_capacity(3 + 8 + 2 + epoch.len() + event.data.len());
    out.put_u8(VERSION);
    out.put_u8(type_code(event.event_type));
    match event.seq {
        Some(seq) => {
            out.put_u8(HAS_SEQ);
            out.put_i64(seq);
        }
        None => out.put_u8(0),
    }
    out.put_u16(epoch.len() as u16);
    out.put_slice(epoch);
    out.put_slice(&event.data);
    out.freeze()
}

/// The event in a message of the channel's subject.
pub fn decode(app: AppId, channel: ChannelId, payload: &[u8]) -> Result<ChannelEvent, DecodeError> {
    let mut rest = payload;
    let mut take = |n: usize| -> Result<&[u8], DecodeError> {
        if rest.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let version = take(1)?[0];
    if version != VERSION {
        return Err(DecodeError::Version(version));
    }
    let code = take(1)?[0];
    let event_type = type_of(code).ok_or(DecodeError::EventType(code))?;
    let flags = take(1)?[0];
    let seq = if flags & HAS_SEQ != 0 {
        let raw: [u8; 8] = take(8)?.try_into().map_err(|_| DecodeError::Truncated)?;
        Some(i64::from_be_bytes(raw))
    } else {
        None
    };
    let len: [u8; 2] = take(2)?.try_into().map_err(|_| DecodeError::Truncated)?;
    let epoch = take(usize::from(u16::from_be_bytes(len)))?;
    let epoch = std::str::from_utf8(epoch).map_err(|_| DecodeError::Epoch)?;
    Ok(ChannelEvent {
        app_id: app,
        channel_id: channel,
        event_type,
        seq,
        epoch: Arc::from(epoch),
        data: Arc::from(rest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: Option<i64>) -> ChannelEvent {
        ChannelEvent::new(
            AppId(3),
            ChannelId(9),
            EventType::MessageCreated,
            seq,
            "ep0ch",
            &serde_json::json!({"type": "message.created", "message": {"body": "hé"}}),
        )
    }

    #[test]
    fn an_event_survives_the_trip_with_its_data_untouched() {
        for seq in [Some(42), None, Some(-1), Some(i64::MAX)] {
            let original = event(seq);
            let wire = encode(&original);
            assert_eq!(
                wire.len(),
                3 + seq.map_or(0, |_| 8) + 2 + 5 + original.data.len()
            );
            let back = decode(AppId(3), ChannelId(9), &wire).unwrap();
            assert_eq!(back.seq, seq);
            assert_eq!(back.event_type, EventType::MessageCreated);
            assert_eq!(&*back.epoch, "ep0ch");
            assert_eq!(&*back.data, &*original.data);
            assert_eq!((back.app_id, back.channel_id), (AppId(3), ChannelId(9)));
        }
    }

    #[test]
    fn every_event_type_has_a_code_of_its_own() {
        let mut seen = std::collections::HashSet::new();
        for code in 0..=255u8 {
            if let Some(t) = type_of(code) {
                assert_eq!(type_code(t), code);
                assert!(seen.insert(t));
            }
        }
        // Every variant of EventType (a new one needs a code here and in type_of).
        assert_eq!(seen.len(), 18);
    }

    #[test]
    fn damaged_messages_are_refused() {
        let wire = encode(&event(Some(7)));
        for cut in 0..13 {
            assert_eq!(
                decode(AppId(1), ChannelId(1), &wire[..cut]).unwrap_err(),
                DecodeError::Truncated,
                "cut at {cut}"
            );
        }
        let mut other = wire.to_vec();
        other[0] = 2;
        assert_eq!(
            decode(AppId(1), ChannelId(1), &other).unwrap_err(),
            DecodeError::Version(2)
        );
        other[0] = 1;
        other[1] = 200;
        assert_eq!(
            decode(AppId(1), ChannelId(1), &other).unwrap_err(),
            DecodeError::EventType(200)
        );
    }
}
