//! The Engine helpers the dialect stands on (hubbub-core engine/tencent_support.rs),
//! called directly.

use crate::helpers::*;
use hubbub_core::Error;
use hubbub_core::engine::tencent_support::{RoomRank, UpsertUser};
use hubbub_core::engine::{Actor, CounterDelta, UserRef};
use hubbub_core::model::RestrictionKind;
use hubbub_core::names::UserName;
use std::time::Duration;

fn name(n: &str) -> UserRef {
    UserRef::Name(UserName::parse(n).unwrap())
}

fn upsert(n: &str) -> UpsertUser {
    UpsertUser {
        name: n.into(),
        display_name: None,
        display_picture_url: None,
    }
}

/// Any offset and limit give the same slice of the full list.
#[tokio::test]
async fn restrictions_page_from_any_offset() {
    let app = spawn_app().await;
    let actor = Actor::App(app.app);
    app.create_room("paged").await;
    let room = app.channel_id("paged").await;
    let users: Vec<UserRef> = (0..7).map(|i| name(&format!("p{i}"))).collect();
    for i in 0..7 {
        app.engine
            .upsert_user(&actor, upsert(&format!("p{i}")))
            .await
            .unwrap();
    }
    app.engine
        .restrict_users(&actor, room, &users, RestrictionKind::Ban, None, "")
        .await
        .unwrap();
    let (all, total) = app
        .engine
        .list_restrictions_from(&actor, room, RestrictionKind::Ban, 0, 100)
        .await
        .unwrap();
    assert_eq!((all.len(), total), (7, 7));
    let all: Vec<&str> = all.iter().map(|r| r.user.name.as_str()).collect();
    for offset in 0..9u64 {
        for limit in 1..5u32 {
            let (page, total) = app
                .engine
                .list_restrictions_from(&actor, room, RestrictionKind::Ban, offset, limit)
                .await
                .unwrap();
            let got: Vec<&str> = page.iter().map(|r| r.user.name.as_str()).collect();
            let want: Vec<&str> = all
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .copied()
                .collect();
            assert_eq!(got, want, "offset {offset} limit {limit}");
            assert_eq!(total, 7);
        }
    }
}

/// Following the rank of the last room returned visits every live room once, in
/// ranking order, for any page size.
#[tokio::test]
async fn ranked_rooms_page_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let actor = Actor::App(app.app);
    for i in 0..9u64 {
        let room = format!("ranked-{i}");
        app.create_room(&room).await;
        let id = app.channel_id(&room).await;
        app.engine
            .add_live_counters(
                &actor,
                id,
                CounterDelta {
                    entries: i % 3,
                    ..CounterDelta::default()
                },
            )
            .await
            .unwrap();
    }
    let (everything, next) = app.engine.rank_live_rooms(&actor, None, 100).await.unwrap();
    assert!(next.is_none());
    let order: Vec<RoomRank> = everything
        .iter()
        .map(|v| RoomRank::of(&v.channel))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(order.len(), 9);
    for limit in 1..=4 {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let (page, next) = app
                .engine
                .rank_live_rooms(&actor, after, limit)
                .await
                .unwrap();
            assert!(page.len() <= limit);
            seen.extend(page.iter().map(|v| RoomRank::of(&v.channel)));
            match next {
                Some(rank) => after = Some(rank),
                None => break,
            }
        }
        assert_eq!(seen, order, "limit {limit}");
    }
}

/// A batch is checked whole: a moderator (or the owner) in it restricts nobody.
#[tokio::test]
async fn a_batch_with_a_moderator_restricts_nobody() {
    let app = spawn_app().await;
    let actor = Actor::App(app.app);
    app.create_room("guarded").await;
    let room = app.channel_id("guarded").await;
    for n in ["plain", "moderator"] {
        app.engine.upsert_user(&actor, upsert(n)).await.unwrap();
    }
    app.engine
        .add_moderators_up_to(&actor, room, &[name("moderator")], 5)
        .await
        .unwrap();
    let refused = app
        .engine
        .restrict_users(
            &actor,
            room,
            &[name("plain"), name("moderator")],
            RestrictionKind::Mute,
            Some(Duration::from_secs(60)),
            "",
        )
        .await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let (mutes, _) = app
        .engine
        .list_restrictions_from(&actor, room, RestrictionKind::Mute, 0, 10)
        .await
        .unwrap();
    assert!(mutes.is_empty());
    // The cap counts moderators already there.
    let over = app
        .engine
        .add_moderators_up_to(&actor, room, &[name("plain")], 1)
        .await;
    assert!(matches!(over, Err(Error::Conflict(_))), "{over:?}");
}

/// An upsert creates once, then changes only what it is given; "" clears the picture.
#[tokio::test]
async fn upserts_create_once_and_change_only_what_is_given() {
    let app = spawn_app().await;
    let actor = Actor::App(app.app);
    let (made, created) = app
        .engine
        .upsert_user(
            &actor,
            UpsertUser {
                name: "face".into(),
                display_name: Some("Face".into()),
                display_picture_url: Some("https://cdn.example/f.png".into()),
            },
        )
        .await
        .unwrap();
    assert!(created);
    assert_eq!(made.display_name.as_str(), "Face");
    let (same, created) = app
        .engine
        .upsert_user(&actor, upsert("face"))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(same.id, made.id);
    assert_eq!(same.display_name.as_str(), "Face");
    assert_eq!(
        same.display_picture_url.as_ref().map(|u| u.as_str()),
        Some("https://cdn.example/f.png")
    );
    let (cleared, _) = app
        .engine
        .upsert_user(
            &actor,
            UpsertUser {
                display_picture_url: Some(String::new()),
                ..upsert("face")
            },
        )
        .await
        .unwrap();
    assert!(cleared.display_picture_url.is_none());
    assert_eq!(cleared.display_name.as_str(), "Face");
    // Only the backend imports.
    let user = Actor::User {
        app: app.app,
        user: made.id,
    };
    assert!(matches!(
        app.engine.upsert_user(&user, upsert("sneaky")).await,
        Err(Error::Forbidden(_))
    ));
}
