//! Chat-user management of a live (seed-surfaces 1.5): all `PUT`, all answering
//! `data: null`. `{userId}` is a view-chat `authorId`. Bans are the engine's room bans,
//! so a PRISM ban holds in every API; managers are the room's moderators.
//!
//! Repeating a ban replaces it (a new end); unban and unmod of someone who is not
//! banned or not a manager succeed and change nothing.

use super::auth::PrismUser;
use super::error::{Envelope, PrismError};
use super::extract::{JsonObject, PathParams};
use crate::AppState;
use axum::extract::State;
use hubbub_core::engine::{Restrict, UserRef};
use hubbub_core::model::RestrictionKind;
use std::time::Duration;

/// `PUT /prism/v1/service/live/{liveId}/ban/{userId}` — block until lifted.
pub(crate) async fn ban(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
) -> Result<Envelope<()>, PrismError> {
    let (live, target) = (path.live()?, path.user()?);
    state
        .engine
        .restrict_user(
            &user.actor(),
            live,
            Restrict {
                user: UserRef::Id(target),
                kind: RestrictionKind::Ban,
                duration: None,
                reason: String::new(),
            },
        )
        .await?;
    Ok(Envelope(()))
}

/// `PUT /prism/v1/service/live/{liveId}/timedBan/{userId}` — block for
/// `{"banTime": seconds}` (more than 0).
pub(crate) async fn timed_ban(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
    body: JsonObject,
) -> Result<Envelope<()>, PrismError> {
    let (live, target) = (path.live()?, path.user()?);
    let seconds = match body.integer("banTime")? {
        None => return Err(PrismError::invalid("banTime is required")),
        Some(s) if s <= 0 => {
            return Err(PrismError::invalid("banTime must be more than 0 seconds"));
        }
        Some(s) => s as u64,
    };
    state
        .engine
        .restrict_user(
            &user.actor(),
            live,
            Restrict {
                user: UserRef::Id(target),
                kind: RestrictionKind::Ban,
                duration: Some(Duration::from_secs(seconds)),
                reason: String::new(),
            },
        )
        .await
        .map_err(|e| PrismError::from_core(e, &[("duration", "banTime")]))?;
    Ok(Envelope(()))
}

/// `PUT /prism/v1/service/live/{liveId}/unban/{userId}` — lift a permanent or timed
/// block.
pub(crate) async fn unban(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
) -> Result<Envelope<()>, PrismError> {
    let (live, target) = (path.live()?, path.user()?);
    state
        .engine
        .lift_restriction(
            &user.actor(),
            live,
            &UserRef::Id(target),
            RestrictionKind::Ban,
        )
        .await?;
    Ok(Envelope(()))
}

/// `PUT /prism/v1/service/live/{liveId}/mod/{userId}` — make a manager (the live's
/// owner only).
pub(crate) async fn grant_manager(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
) -> Result<Envelope<()>, PrismError> {
    let (live, target) = (path.live()?, path.user()?);
    state
        .engine
        .appoint_moderator(&user.actor(), live, &UserRef::Id(target))
        .await?;
    Ok(Envelope(()))
}

/// `PUT /prism/v1/service/live/{liveId}/unmod/{userId}` — take the manager role
/// (the live's owner only).
pub(crate) async fn revoke_manager(
    State(state): State<AppState>,
    user: PrismUser,
    path: PathParams,
) -> Result<Envelope<()>, PrismError> {
    let (live, target) = (path.live()?, path.user()?);
    state
        .engine
        .dismiss_moderator(&user.actor(), live, &UserRef::Id(target))
        .await?;
    Ok(Envelope(()))
}
