//! The chat of a room: sending, reading in bound batches, deleting.
//!
//! Reading: a `cursor` + `internalExt` pair names one batch for good ("bound", [S]):
//! the messages of the room with `after < seq <= upto` in one sequence epoch
//! (`Engine::live_chat_window`). A call without a pair answers the newest messages
//! and the pair of the (empty) batch at the end of the room's sequence; a call with
//! a pair answers that pair's batch — the same batch however often it is asked —
//! and the pair of the next batch, holding whatever was committed meanwhile.
//! `hasMore` says that next batch already holds messages, so a client polls again
//! at once rather than after `fetchInterval`.

use super::auth::Caller;
use super::error::{KitkotError, KitkotResult, success};
use super::live::room_id;
use super::room::{message_object, room_object};
use super::{KitkotState, parse_id, request_id};
use crate::AppState;
use axum::Extension;
use axum::extract::State;
use hubbub_core::engine::{SendContent, SendMessage, SeqWindow};
use hubbub_core::ids::{ChannelId, MessageId};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Messages per batch, at most.
pub(crate) const BATCH: u32 = 50;
/// How long a client should wait between polls, in ms [S].
pub(crate) const FETCH_INTERVAL_MS: u64 = 1000;

/// `GET /kitkot/api/live/chat/send_message?api_key&session_key&room_id&content
/// [&anchor_id&request_id]` — sends `content` as the caller; answers the room
/// object.
pub(crate) async fn send_message(
    State(state): State<AppState>,
    Extension(kitkot): Extension<Arc<KitkotState>>,
    caller: Caller,
) -> KitkotResult {
    let content = caller.params.required("content")?;
    let room = room_id(caller.params.required("room_id")?)?;
    let (_, view) = state
        .engine
        .send_live_chat(
            &caller.actor(),
            room,
            SendMessage {
                on_behalf_of: None,
                content: SendContent::Text(content.to_owned()),
                group_tag: None,
                properties: Value::Null,
                idempotency_key: None,
            },
        )
        .await?;
    let presence = &*state.gateway.presence;
    kitkot
        .viewers
        .touch(presence, caller.app.id, room, caller.user.id);
    let viewers = kitkot
        .viewers
        .count(presence, caller.app.id, room, &view.channel.live.counters);
    let mut payload = room_object(&view, viewers);
    payload.insert("request_id".into(), Value::from(request_id()));
    Ok(success(payload))
}

/// `GET /kitkot/api/live/chat?api_key&session_key&room_id[&cursor&internalExt]` —
/// a batch of the room's chat, oldest first.
pub(crate) async fn fetch(
    State(state): State<AppState>,
    Extension(kitkot): Extension<Arc<KitkotState>>,
    caller: Caller,
) -> KitkotResult {
    let room = room_id(caller.params.required("room_id")?)?;
    let window = match (
        caller.params.get("cursor"),
        caller.params.get("internalExt"),
    ) {
        (None, None) => None,
        (Some(cursor), Some(ext)) => Some(decode_pair(room, cursor, ext)?),
        // The pair travels together [S].
        _ => return Err(KitkotError::invalid_parameters()),
    };
    let batch = state
        .engine
        .live_chat_window(&caller.actor(), room, window, BATCH)
        .await?;
    kitkot.viewers.touch(
        &*state.gateway.presence,
        caller.app.id,
        room,
        caller.user.id,
    );
    let messages: Vec<Value> = batch
        .messages
        .iter()
        .map(|m| message_object(m, m.message.user_id.and_then(|u| batch.authors.get(&u))))
        .collect();
    let (cursor, internal_ext) = encode_pair(room, &batch.next);
    let payload = json!({
        "messages": messages,
        "cursor": cursor,
        "fetchInterval": FETCH_INTERVAL_MS,
        "now": chrono::Utc::now().timestamp_millis().to_string(),
        "internalExt": internal_ext,
        "hasMore": batch.more,
    });
    Ok(success(match payload {
        Value::Object(map) => map,
        _ => Map::new(),
    }))
}

/// `GET /kitkot/api/live/chat/delete_message?api_key&session_key&room_id&msg_id` [P]
/// — the room's owner or an admin deletes a message of the room; anyone else is
/// refused (403).
pub(crate) async fn delete_message(State(state): State<AppState>, caller: Caller) -> KitkotResult {
    let room = room_id(caller.params.required("room_id")?)?;
    let message = caller.params.required("msg_id")?;
    let message = parse_id(message)
        .map(MessageId)
        .ok_or_else(|| KitkotError::from(hubbub_core::Error::not_found("message")))?;
    state
        .engine
        .delete_room_message_as_moderator(&caller.actor(), room, message)
        .await?;
    Ok(success(Map::new()))
}

/// The pair naming a window: `cursor` = `"<after>_<upto>"`, `internalExt` =
/// `"room_id:<room>|epoch:<epoch>|seq:<after>-<upto>"`.
fn encode_pair(room: ChannelId, w: &SeqWindow) -> (String, String) {
    (
        format!("{}_{}", w.after, w.upto),
        format!(
            "room_id:{}|epoch:{}|seq:{}-{}",
            room.0, w.epoch, w.after, w.upto
        ),
    )
}

/// Reads a pair back. Anything this server did not write for this room — another
/// room's pair, a cursor that disagrees with its internalExt, garbage — is 400
/// "Invalid cursor"; the engine then checks the window against the room.
fn decode_pair(room: ChannelId, cursor: &str, ext: &str) -> Result<SeqWindow, KitkotError> {
    let invalid = KitkotError::invalid_cursor;
    let mut fields = ext.split('|');
    let mut field = |name: &str| {
        fields
            .next()
            .and_then(|f| f.strip_prefix(name))
            .and_then(|f| f.strip_prefix(':'))
            .ok_or_else(invalid)
    };
    let ext_room = field("room_id")?;
    let epoch = field("epoch")?;
    let seq = field("seq")?;
    if fields.next().is_some() || ext_room != room.0.to_string() {
        return Err(invalid());
    }
    let (after, upto) = seq.split_once('-').ok_or_else(invalid)?;
    let number = |s: &str| {
        s.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0 && s == n.to_string())
            .ok_or_else(invalid)
    };
    let window = SeqWindow {
        epoch: epoch.to_owned(),
        after: number(after)?,
        upto: number(upto)?,
    };
    if epoch.is_empty() || cursor != format!("{}_{}", window.after, window.upto) {
        return Err(invalid());
    }
    Ok(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip_and_forgeries_are_refused() {
        let room = ChannelId(42);
        let w = SeqWindow {
            epoch: "0a1b2c3d4e5f6a7b".into(),
            after: 7,
            upto: 12,
        };
        let (cursor, ext) = encode_pair(room, &w);
        assert_eq!(cursor, "7_12");
        assert_eq!(ext, "room_id:42|epoch:0a1b2c3d4e5f6a7b|seq:7-12");
        assert_eq!(decode_pair(room, &cursor, &ext).unwrap(), w);

        for (c, e) in [
            ("7_12", "room_id:43|epoch:0a1b2c3d4e5f6a7b|seq:7-12"), // another room
            ("7_13", "room_id:42|epoch:0a1b2c3d4e5f6a7b|seq:7-12"), // disagreeing pair
            ("7_12", "room_id:42|epoch:0a1b2c3d4e5f6a7b|seq:7-12|x:1"),
            ("7_12", "room_id:42|seq:7-12"),
            ("-1_12", "room_id:42|epoch:e|seq:-1-12"),
            ("07_12", "room_id:42|epoch:e|seq:07-12"),
            ("7_12", "room_id:42|epoch:|seq:7-12"),
            ("abc", "def"),
        ] {
            let e = decode_pair(room, c, e).unwrap_err();
            assert_eq!(e.msg, "Invalid cursor", "{c} {e:?}");
        }
    }
}
