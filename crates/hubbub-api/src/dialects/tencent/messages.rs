//! Sending text into a live room on behalf of an account.

use super::auth::Call;
use super::body::account_ref;
use super::error::{Reply, TencentError, TencentResult, code};
use super::rooms::{PROPERTIES_KEY, live_room};
use crate::AppState;
use axum::extract::State;
use hubbub_core::Error;
use hubbub_core::engine::{SendContent, SendMessage};
use serde_json::json;

/// Longest `ExtensionInfo` kept with a message [P].
const MAX_EXTENSION_INFO_BYTES: usize = 8 * 1024;

/// `POST /v4/live_engine_http_srv/send_text_msg` — the message is `Sender_Account`'s,
/// like one they sent themselves: it has the room's next seq (`MsgSeq`) and shows in
/// every API's history. A muted or banned sender is refused with 10017 [P] (Tencent
/// Chat's "muted in this group"), nothing is stored and no `MsgDropReason` is given.
/// As an App admin's call it is not held back by the room's mute-all switch (the owner
/// and admins are exempt from it [S]; so is the App admin).
pub(super) async fn send_text_msg(State(state): State<AppState>, call: Call) -> TencentResult {
    let room_id = call.body.room_id()?;
    let sender = call.body.required_str("Sender_Account")?;
    let text = call.body.required_str("TextContent")?;
    if text.is_empty() {
        return Err(call.body.bad("TextContent must not be empty"));
    }
    let extension = call
        .body
        .str_max("ExtensionInfo", MAX_EXTENSION_INFO_BYTES)?;
    let sender_ref = account_ref(sender).map_err(|_| {
        TencentError::new(code::NOT_IMPORTED, format!("{sender:?} was never imported"))
    })?;
    let room = live_room(&state, &call.actor, room_id).await?;
    let properties = match extension {
        Some(info) => json!({ PROPERTIES_KEY: { "ExtensionInfo": info } }),
        None => json!({}),
    };
    let (appended, _) = state
        .engine
        .send_message(
            &call.actor,
            room.id,
            SendMessage {
                on_behalf_of: Some(sender_ref),
                content: SendContent::Text(text.to_owned()),
                group_tag: None,
                properties,
                idempotency_key: None,
            },
        )
        .await
        .map_err(|e| match e {
            Error::Forbidden(m) => TencentError::new(code::SENDER_RESTRICTED, m),
            // The engine reports an unknown on-behalf-of sender as a bad `user`.
            Error::Invalid { field, .. } if field == "user" => {
                TencentError::new(code::NOT_IMPORTED, format!("{sender:?} was never imported"))
            }
            other => other.into(),
        })?;
    Ok(Reply::Response(json!({
        "MsgTime": appended.message.created_at.timestamp(),
        "MsgSeq": appended.message.seq,
    })))
}
