//! Channels, members and moderators.

use crate::fixtures::*;
use chrono::Duration;
use hubbub_core::Error;
use hubbub_core::ids::{ChannelId, UserId};
use hubbub_core::model::{
    ChannelChanges, ChannelFilter, ChannelKind, LiveRoom, LiveStatus, MessageFilter, NewChannel,
    direct_channel_key, now,
};
use hubbub_core::names::{DisplayName, Properties};
use hubbub_core::paging::{CursorRequest, PageRequest, SortField, SortKey};
use hubbub_core::store::Store;
use serde_json::json;
use std::sync::Arc;

fn page(page: u32, size: u32) -> PageRequest {
    PageRequest {
        page,
        size,
        sort: vec![],
    }
}

fn channel_names(channels: &[hubbub_core::model::Channel]) -> Vec<&str> {
    channels
        .iter()
        .map(|c| c.name.as_ref().map_or("<direct>", |n| n.as_str()))
        .collect()
}

fn user_names(users: &[hubbub_core::model::User]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}

fn direct(members: &[UserId]) -> NewChannel {
    NewChannel {
        kind: ChannelKind::Direct,
        name: None,
        display_name: None,
        creator: members.first().copied(),
        members: members.to_vec(),
        properties: Properties::default(),
        live: LiveRoom::default(),
        direct_key: Some(direct_channel_key(members)),
    }
}

pub async fn channels_round_trip(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "channels").await;
    let owner = user(s, a, "owner").await;
    let guest = user(s, a, "guest").await;
    let mut new = new_channel("stream", &[owner.id, guest.id]);
    new.kind = ChannelKind::Private;
    new.creator = Some(owner.id);
    new.properties = props(json!({"topic": "rust"}));
    new.live.status = LiveStatus::Live;
    new.live.title = Some("Building hubbub".into());
    new.live.chat.slow_mode_secs = 5;
    new.live.counters.likes = 42;
    let c = s.create_channel(a, new).await.expect("create channel");
    assert_eq!(c.app_id, a);
    assert_eq!(c.kind, ChannelKind::Private);
    assert_eq!(c.name.as_ref().map(|n| n.as_str()), Some("stream"));
    assert_eq!(c.display_name.as_ref().map(|n| n.as_str()), Some("stream"));
    assert_eq!(c.creator, Some(owner.id));
    assert_eq!(c.last_seq, 0);
    assert_eq!(c.last_message_id, None);
    assert!(!c.epoch.is_empty());
    assert_eq!(c.live.status, LiveStatus::Live);
    assert_eq!(c.live.title.as_deref(), Some("Building hubbub"));
    assert_eq!(c.live.chat.slow_mode_secs, 5);
    assert_eq!(c.live.counters.likes, 42);

    assert_eq!(s.get_channel(a, c.id).await.unwrap(), Some(c.clone()));
    assert_eq!(
        s.get_channel_by_name(a, &channel_name("stream"))
            .await
            .unwrap(),
        Some(c.clone())
    );
    assert_eq!(
        s.get_channel_by_name(a, &channel_name("nope"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.get_channel(a, ChannelId(c.id.0 + 1000)).await.unwrap(),
        None
    );
    assert!(s.is_member(a, c.id, owner.id).await.unwrap());
    assert!(s.is_member(a, c.id, guest.id).await.unwrap());

    let other = channel(s, a, "other", &[]).await;
    assert_ne!(other.epoch, c.epoch, "each channel has its own epoch");
    assert!(other.id > c.id);
    assert!(!s.is_member(a, other.id, owner.id).await.unwrap());

    let d = s
        .create_channel(a, direct(&[owner.id, guest.id]))
        .await
        .unwrap();
    assert_eq!(d.kind, ChannelKind::Direct);
    assert_eq!(d.name, None);
    let key = direct_channel_key(&[guest.id, owner.id]);
    assert_eq!(
        s.find_direct_channel(a, &key).await.unwrap(),
        Some(d.clone())
    );
    assert_eq!(s.find_direct_channel(a, "1,2,3").await.unwrap(), None);
    let members = s.direct_members(a, d.id).await.unwrap();
    assert_eq!(user_names(&members), ["owner", "guest"], "id order");

    let ghost = s
        .create_channel(a, new_channel("ghostly", &[UserId(owner.id.0 + 1000)]))
        .await;
    assert!(is_not_found(&ghost), "unknown initial member: {ghost:?}");
    assert_eq!(
        s.get_channel_by_name(a, &channel_name("ghostly"))
            .await
            .unwrap(),
        None
    );
}

pub async fn duplicate_channel_names_and_direct_keys_conflict(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "dups").await;
    let b = app(s, "dups-b").await;
    let u1 = user(s, a, "u1").await;
    let u2 = user(s, a, "u2").await;
    channel(s, a, "lobby", &[]).await;
    let again = s.create_channel(a, new_channel("lobby", &[u1.id])).await;
    match &again {
        Err(Error::Conflict(message)) => assert!(message.contains("lobby"), "{message}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(
        s.create_channel(b, new_channel("lobby", &[])).await.is_ok(),
        "names are per app"
    );

    s.create_channel(a, direct(&[u1.id, u2.id])).await.unwrap();
    let twin = s.create_channel(a, direct(&[u2.id, u1.id])).await;
    assert!(is_conflict(&twin), "{twin:?}");
    // Direct channels have no name, and many of them coexist.
    let u3 = user(s, a, "u3").await;
    s.create_channel(a, direct(&[u1.id, u3.id])).await.unwrap();
    let all = s
        .list_channels(a, &ChannelFilter::default(), &page(0, 10))
        .await
        .unwrap();
    assert_eq!(all.total, 3);
}

pub async fn update_channel_changes_only_given_fields(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "upd").await;
    let mut new = new_channel("room", &[]);
    new.properties = props(json!({"a": 1}));
    let c = s.create_channel(a, new).await.unwrap();
    let renamed = s
        .update_channel(
            a,
            c.id,
            ChannelChanges {
                display_name: Some(DisplayName::parse("The Room").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        renamed.display_name.as_ref().map(|d| d.as_str()),
        Some("The Room")
    );
    assert_eq!(renamed.properties, c.properties);
    assert_eq!(renamed.epoch, c.epoch);
    assert_eq!(renamed.name, c.name);

    let live = LiveRoom {
        status: LiveStatus::Scheduled,
        chat: hubbub_core::model::ChatSettings {
            enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let changed = s
        .update_channel(
            a,
            c.id,
            ChannelChanges {
                properties: Some(props(json!({"b": [1, 2]}))),
                live: Some(live.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.properties, props(json!({"b": [1, 2]})));
    assert_eq!(changed.live, live);
    assert_eq!(
        changed.display_name.as_ref().map(|d| d.as_str()),
        Some("The Room")
    );
    assert_eq!(s.get_channel(a, c.id).await.unwrap(), Some(changed));

    let missing = s
        .update_channel(a, ChannelId(c.id.0 + 1000), ChannelChanges::default())
        .await;
    assert!(is_not_found(&missing), "{missing:?}");
}

pub async fn list_channels_filters_pages_and_counts(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "list").await;
    let ann = user(s, a, "ann").await;
    let bob = user(s, a, "bob").await;
    let cid = user(s, a, "cid").await;
    let before = now() - Duration::seconds(1);

    let mut red = new_channel("red", &[ann.id, bob.id]);
    red.properties = props(json!({"color": "red", "size": 3}));
    s.create_channel(a, red).await.unwrap();
    let mut blue = new_channel("blue", &[ann.id]);
    blue.kind = ChannelKind::Private;
    blue.properties = props(json!({"color": "blue", "nested": {"k": [1]}}));
    s.create_channel(a, blue).await.unwrap();
    s.create_channel(a, new_channel("green", &[bob.id, cid.id]))
        .await
        .unwrap();
    s.create_channel(a, direct(&[ann.id, bob.id]))
        .await
        .unwrap();
    let after = now() + Duration::seconds(1);

    async fn names_of(
        s: &dyn Store,
        a: hubbub_core::ids::AppId,
        f: ChannelFilter,
        p: PageRequest,
    ) -> (Vec<String>, u64) {
        let page = s.list_channels(a, &f, &p).await.unwrap();
        (
            page.items
                .iter()
                .map(|c| {
                    c.name
                        .as_ref()
                        .map_or("<direct>".to_owned(), |n| n.as_str().to_owned())
                })
                .collect(),
            page.total,
        )
    }
    let all = ChannelFilter::default();
    let first = s.list_channels(a, &all, &page(0, 3)).await.unwrap();
    assert_eq!(channel_names(&first.items), ["red", "blue", "green"]);
    assert_eq!(first.total, 4);
    let by_name = PageRequest {
        page: 0,
        size: 2,
        sort: vec![SortKey {
            field: SortField::Name,
            descending: true,
        }],
    };
    assert_eq!(
        names_of(s, a, all.clone(), by_name).await,
        (vec!["red".into(), "green".into()], 4)
    );

    let kind = ChannelFilter {
        kind: Some(ChannelKind::Private),
        ..Default::default()
    };
    assert_eq!(
        names_of(s, a, kind, page(0, 10)).await,
        (vec!["blue".into()], 1)
    );
    let direct_only = ChannelFilter {
        kind: Some(ChannelKind::Direct),
        ..Default::default()
    };
    assert_eq!(names_of(s, a, direct_only, page(0, 10)).await.1, 1);

    let of_ann = ChannelFilter {
        member: Some(ann.id),
        ..Default::default()
    };
    assert_eq!(
        names_of(s, a, of_ann, page(0, 10)).await,
        (vec!["red".into(), "blue".into(), "<direct>".into()], 3)
    );
    let ann_and_bob = ChannelFilter {
        members: vec![ann.id, bob.id],
        ..Default::default()
    };
    assert_eq!(
        names_of(s, a, ann_and_bob, page(0, 10)).await,
        (vec!["red".into(), "<direct>".into()], 2)
    );
    let with_cid_page = ChannelFilter {
        members: vec![cid.id],
        kind: Some(ChannelKind::Public),
        ..Default::default()
    };
    assert_eq!(
        names_of(s, a, with_cid_page, page(0, 10)).await,
        (vec!["green".into()], 1)
    );

    let colored = ChannelFilter {
        properties: json!({"color": "red"}).as_object().cloned(),
        ..Default::default()
    };
    assert_eq!(
        names_of(s, a, colored, page(0, 10)).await,
        (vec!["red".into()], 1)
    );
    let nested = ChannelFilter {
        properties: json!({"nested": {"k": [1]}}).as_object().cloned(),
        ..Default::default()
    };
    assert_eq!(
        names_of(s, a, nested, page(0, 10)).await,
        (vec!["blue".into()], 1)
    );

    let in_range = ChannelFilter {
        created_from: Some(before),
        created_to: Some(after),
        ..Default::default()
    };
    assert_eq!(names_of(s, a, in_range, page(0, 10)).await.1, 4);
    let too_late = ChannelFilter {
        created_from: Some(after),
        ..Default::default()
    };
    assert_eq!(names_of(s, a, too_late, page(0, 10)).await.1, 0);
    let too_early = ChannelFilter {
        created_to: Some(before),
        ..Default::default()
    };
    assert_eq!(names_of(s, a, too_early, page(0, 10)).await.1, 0);
}

pub async fn delete_channel_cascades(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "cascade").await;
    let u = user(s, a, "u").await;
    let v = user(s, a, "v").await;
    let doomed = channel(s, a, "doomed", &[u.id, v.id]).await;
    let kept = channel(s, a, "kept", &[u.id, v.id]).await;
    s.add_moderator(a, doomed.id, u.id).await.unwrap();
    let gone = send(s, a, doomed.id, Some(v.id), "in doomed").await;
    let stays = send(s, a, kept.id, Some(v.id), "in kept").await;
    s.mark_read(a, doomed.id, u.id, 1).await.unwrap();
    assert_eq!(s.count_unread(a, u.id).await.unwrap(), 1);

    s.delete_channel(a, doomed.id).await.unwrap();
    assert_eq!(s.get_channel(a, doomed.id).await.unwrap(), None);
    assert_eq!(s.get_message(a, gone.id).await.unwrap(), None);
    assert!(s.get_message(a, stays.id).await.unwrap().is_some());
    assert!(!s.is_member(a, doomed.id, u.id).await.unwrap());
    assert!(!s.is_moderator(a, doomed.id, u.id).await.unwrap());
    assert!(s.is_member(a, kept.id, u.id).await.unwrap());
    assert_eq!(
        s.count_unread(a, u.id).await.unwrap(),
        1,
        "only kept's message"
    );
    let everything = s
        .list_messages(a, &MessageFilter::default(), &CursorRequest::default())
        .await
        .unwrap();
    assert_eq!(everything.total, 1);
    let in_doomed = s.messages_after_seq(a, doomed.id, 0, 100).await.unwrap();
    assert!(in_doomed.is_empty());
    let append = s
        .append_message(a, text(doomed.id, Some(u.id), "late"))
        .await;
    assert!(is_not_found(&append), "{append:?}");
    let again = s.delete_channel(a, doomed.id).await;
    assert!(is_not_found(&again), "{again:?}");
    let members = s.list_members(a, doomed.id, &page(0, 10)).await;
    assert!(is_not_found(&members), "{members:?}");
    // The name is free again, with a fresh sequence.
    let reborn = channel(s, a, "doomed", &[]).await;
    assert_eq!(reborn.last_seq, 0);
    assert_eq!(send(s, a, reborn.id, None, "first").await.seq, 1);
}

pub async fn members_add_remove_list(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "members").await;
    let zed = user(s, a, "zed").await;
    let amy = user(s, a, "amy").await;
    let bo = user(s, a, "bo").await;
    let c = channel(s, a, "room", &[]).await;
    assert_eq!(
        s.list_members(a, c.id, &page(0, 10)).await.unwrap().total,
        0
    );

    s.add_member(a, c.id, zed.id).await.unwrap();
    s.add_member(a, c.id, bo.id).await.unwrap();
    s.add_member(a, c.id, amy.id).await.unwrap();
    s.add_member(a, c.id, zed.id)
        .await
        .expect("adding twice is a no-op");
    assert!(s.is_member(a, c.id, amy.id).await.unwrap());

    let members = s.list_members(a, c.id, &page(0, 10)).await.unwrap();
    assert_eq!(
        user_names(&members.items),
        ["zed", "bo", "amy"],
        "membership order"
    );
    assert_eq!(members.total, 3);
    let first_two = s.list_members(a, c.id, &page(0, 2)).await.unwrap();
    assert_eq!(user_names(&first_two.items), ["zed", "bo"]);
    assert_eq!(first_two.total, 3);
    let by_name = PageRequest {
        page: 0,
        size: 10,
        sort: vec![SortKey {
            field: SortField::Name,
            descending: false,
        }],
    };
    let sorted = s.list_members(a, c.id, &by_name).await.unwrap();
    assert_eq!(user_names(&sorted.items), ["amy", "bo", "zed"]);

    let memberships = s.list_memberships(a, c.id, &page(0, 10)).await.unwrap();
    assert_eq!(memberships.total, 3);
    assert_eq!(memberships.items[0].user, zed);
    assert!(memberships.items.iter().all(|m| m.channel_id == c.id));
    assert!(
        memberships
            .items
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at)
    );

    s.remove_member(a, c.id, bo.id).await.unwrap();
    assert!(!s.is_member(a, c.id, bo.id).await.unwrap());
    let again = s.remove_member(a, c.id, bo.id).await;
    assert!(is_not_found(&again), "{again:?}");
    assert_eq!(
        s.list_members(a, c.id, &page(0, 10)).await.unwrap().total,
        2
    );

    let no_user = s.add_member(a, c.id, UserId(zed.id.0 + 1000)).await;
    assert!(is_not_found(&no_user), "{no_user:?}");
    let no_channel = s.add_member(a, ChannelId(c.id.0 + 1000), zed.id).await;
    assert!(is_not_found(&no_channel), "{no_channel:?}");
    assert!(
        !s.is_member(a, ChannelId(c.id.0 + 1000), zed.id)
            .await
            .unwrap()
    );
}

pub async fn moderators_add_remove_list(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "mods").await;
    let m1 = user(s, a, "m1").await;
    let m2 = user(s, a, "m2").await;
    let c = channel(s, a, "room", &[m1.id]).await;
    assert!(!s.is_moderator(a, c.id, m1.id).await.unwrap());
    s.add_moderator(a, c.id, m2.id).await.unwrap();
    s.add_moderator(a, c.id, m1.id).await.unwrap();
    s.add_moderator(a, c.id, m2.id).await.expect("no-op");
    assert!(s.is_moderator(a, c.id, m1.id).await.unwrap());
    assert!(
        !s.is_member(a, c.id, m2.id).await.unwrap(),
        "moderators need not be members"
    );
    let mods = s.list_moderators(a, c.id, &page(0, 10)).await.unwrap();
    assert_eq!(user_names(&mods.items), ["m2", "m1"]);
    assert_eq!(mods.total, 2);
    s.remove_moderator(a, c.id, m2.id).await.unwrap();
    assert!(!s.is_moderator(a, c.id, m2.id).await.unwrap());
    let again = s.remove_moderator(a, c.id, m2.id).await;
    assert!(is_not_found(&again), "{again:?}");
    let mods = s.list_moderators(a, c.id, &page(0, 10)).await.unwrap();
    assert_eq!(user_names(&mods.items), ["m1"]);
    let no_user = s.add_moderator(a, c.id, UserId(m1.id.0 + 1000)).await;
    assert!(is_not_found(&no_user), "{no_user:?}");
}
