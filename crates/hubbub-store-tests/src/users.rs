//! Users and their secrets.

use crate::fixtures::*;
use hubbub_core::Error;
use hubbub_core::ids::UserId;
use hubbub_core::model::{CallStatus, UserChanges, UserFilter, UserKind};
use hubbub_core::names::{DisplayName, ExternalUrl, SecretName};
use hubbub_core::paging::{PageRequest, SortField, SortKey};
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

fn names(users: &[hubbub_core::model::User]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}

pub async fn users_round_trip(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "users").await;
    let mut new = new_user("jane@example.com");
    new.display_name = DisplayName::parse("Jane Doe").unwrap();
    new.kind = UserKind::Bot;
    new.is_guest = true;
    new.properties = props(json!({"team": "red", "level": 3}));
    let jane = s.create_user(a, new).await.expect("create user");
    assert_eq!(jane.app_id, a);
    assert_eq!(jane.name.as_str(), "jane@example.com");
    assert_eq!(jane.display_name.as_str(), "Jane Doe");
    assert_eq!(jane.kind, UserKind::Bot);
    assert!(jane.is_guest);
    assert_eq!(jane.display_picture_url, None);
    assert_eq!(jane.call_status, CallStatus::Available);
    assert_eq!(jane.properties.as_map()["level"], json!(3));

    assert_eq!(s.get_user(a, jane.id).await.unwrap(), Some(jane.clone()));
    assert_eq!(
        s.get_user_by_name(a, &user_name("jane@example.com"))
            .await
            .unwrap(),
        Some(jane.clone())
    );
    assert_eq!(
        s.get_user_by_name(a, &user_name("JANE@example.com"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.get_user(a, UserId(jane.id.0 + 1000)).await.unwrap(), None);
    let other = user(s, a, "john").await;
    assert!(other.id > jane.id, "ids grow");
}

pub async fn duplicate_user_name_conflicts(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "a").await;
    let b = app(s, "b").await;
    user(s, a, "sam").await;
    let again = s.create_user(a, new_user("sam")).await;
    match &again {
        Err(Error::Conflict(message)) => assert!(message.contains("sam"), "{message}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Names are unique per application only.
    let in_b = s
        .create_user(b, new_user("sam"))
        .await
        .expect("same name in b");
    assert_eq!(in_b.app_id, b);
    let total = s
        .list_users(a, &UserFilter::default(), &page(0, 10))
        .await
        .unwrap()
        .total;
    assert_eq!(total, 1);
}

pub async fn update_user_changes_only_given_fields(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "upd").await;
    let u = user_with(s, a, "ann", json!({"k": 1})).await;

    let renamed = s
        .update_user(
            a,
            u.id,
            UserChanges {
                display_name: Some(DisplayName::parse("Ann B.").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.display_name.as_str(), "Ann B.");
    assert_eq!(renamed.properties, u.properties);
    assert_eq!(renamed.presence_status, u.presence_status);
    assert_eq!(renamed.name, u.name);
    assert_eq!(renamed.created_at, u.created_at);

    let url = ExternalUrl::parse("url", "https://example.com/ann.png").unwrap();
    let changed = s
        .update_user(
            a,
            u.id,
            UserChanges {
                display_picture_url: Some(Some(url.clone())),
                is_guest: Some(true),
                presence_status: Some("AWAY".into()),
                properties: Some(props(json!({"k": 2, "new": true}))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.display_picture_url, Some(url));
    assert!(changed.is_guest);
    assert_eq!(changed.presence_status, "AWAY");
    assert_eq!(changed.properties, props(json!({"k": 2, "new": true})));
    assert_eq!(changed.display_name.as_str(), "Ann B.");
    assert_eq!(s.get_user(a, u.id).await.unwrap(), Some(changed.clone()));

    let cleared = s
        .update_user(
            a,
            u.id,
            UserChanges {
                display_picture_url: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.display_picture_url, None);
    assert!(cleared.is_guest);

    let unchanged = s
        .update_user(a, u.id, UserChanges::default())
        .await
        .unwrap();
    assert_eq!(unchanged, cleared);

    assert_eq!(cleared.kind, hubbub_core::model::UserKind::Person);
    let bot = s
        .update_user(
            a,
            u.id,
            UserChanges {
                kind: Some(hubbub_core::model::UserKind::Bot),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(bot.kind, hubbub_core::model::UserKind::Bot);
    assert_eq!(bot.display_name, cleared.display_name);
}

pub async fn missing_users_are_not_found(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "missing").await;
    let ghost = UserId(424_242);
    let update = s.update_user(a, ghost, UserChanges::default()).await;
    assert!(is_not_found(&update), "{update:?}");
    let delete = s.delete_user(a, ghost).await;
    assert!(is_not_found(&delete), "{delete:?}");
    let u = user(s, a, "once").await;
    s.delete_user(a, u.id).await.expect("delete");
    assert_eq!(s.get_user(a, u.id).await.unwrap(), None);
    assert_eq!(s.get_user_by_name(a, &u.name).await.unwrap(), None);
    let again = s.delete_user(a, u.id).await;
    assert!(is_not_found(&again), "{again:?}");
    // The name is free again.
    let reborn = user(s, a, "once").await;
    assert_ne!(reborn.id, u.id, "ids are not reused");
}

pub async fn list_users_pages_sorts_and_counts(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "list").await;
    let b = app(s, "other").await;
    for name in [
        "delta", "alpha", "echo", "charlie", "bravo", "golf", "foxtrot",
    ] {
        user(s, a, name).await;
    }
    user(s, b, "zulu").await;

    let all = UserFilter::default();
    let first = s.list_users(a, &all, &page(0, 3)).await.unwrap();
    assert_eq!(first.total, 7);
    assert_eq!(
        names(&first.items),
        ["delta", "alpha", "echo"],
        "default: id order"
    );
    assert_eq!(first.total_pages(), 3);
    let last = s.list_users(a, &all, &page(2, 3)).await.unwrap();
    assert_eq!(names(&last.items), ["foxtrot"]);
    assert_eq!(last.total, 7);
    let beyond = s.list_users(a, &all, &page(5, 3)).await.unwrap();
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 7);

    let by_name_desc = PageRequest {
        page: 0,
        size: 4,
        sort: vec![SortKey {
            field: SortField::Name,
            descending: true,
        }],
    };
    let sorted = s.list_users(a, &all, &by_name_desc).await.unwrap();
    assert_eq!(names(&sorted.items), ["golf", "foxtrot", "echo", "delta"]);
    let next = s
        .list_users(
            a,
            &all,
            &PageRequest {
                page: 1,
                ..by_name_desc.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(names(&next.items), ["charlie", "bravo", "alpha"]);

    let by_created = PageRequest {
        page: 0,
        size: 10,
        sort: vec![SortKey {
            field: SortField::CreatedTime,
            descending: false,
        }],
    };
    let created = s.list_users(a, &all, &by_created).await.unwrap();
    assert_eq!(created.items.len(), 7);
    assert!(
        created
            .items
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at)
    );

    let named = UserFilter {
        name: Some(user_name("echo")),
        ..Default::default()
    };
    let found = s.list_users(a, &named, &page(0, 10)).await.unwrap();
    assert_eq!(names(&found.items), ["echo"]);
    assert_eq!(found.total, 1);
    let in_b = s.list_users(b, &named, &page(0, 10)).await.unwrap();
    assert_eq!(in_b.total, 0);
}

pub async fn list_users_filters_by_properties_subset(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "props").await;
    user_with(
        s,
        a,
        "u1",
        json!({"team": "red", "level": 1, "vip": true, "tags": ["a"], "meta": {"x": 1, "y": 2}}),
    )
    .await;
    user_with(
        s,
        a,
        "u2",
        json!({"team": "red", "level": 2, "vip": false, "gone": null}),
    )
    .await;
    user_with(
        s,
        a,
        "u3",
        json!({"team": "blue", "level": 1, "ratio": 1.5, "meta": {"y": 2, "x": 1}}),
    )
    .await;
    user_with(s, a, "u4", json!({"team": "Red", "level": "1"})).await;
    user(s, a, "u5").await;

    async fn matching(
        s: &dyn Store,
        a: hubbub_core::ids::AppId,
        filter: serde_json::Value,
        size: u32,
    ) -> (Vec<String>, u64) {
        let f = UserFilter {
            properties: filter.as_object().cloned(),
            ..Default::default()
        };
        let p = s.list_users(a, &f, &page(0, size)).await.unwrap();
        (
            p.items.iter().map(|u| u.name.as_str().to_owned()).collect(),
            p.total,
        )
    }

    assert_eq!(
        matching(s, a, json!({"team": "red"}), 10).await,
        (vec!["u1".into(), "u2".into()], 2)
    );
    assert_eq!(
        matching(s, a, json!({"team": "red", "level": 1}), 10).await,
        (vec!["u1".into()], 1)
    );
    // Numbers and strings are different values.
    assert_eq!(
        matching(s, a, json!({"level": 1}), 10).await,
        (vec!["u1".into(), "u3".into()], 2)
    );
    assert_eq!(
        matching(s, a, json!({"level": "1"}), 10).await,
        (vec!["u4".into()], 1)
    );
    assert_eq!(
        matching(s, a, json!({"vip": true}), 10).await,
        (vec!["u1".into()], 1)
    );
    assert_eq!(
        matching(s, a, json!({"vip": false}), 10).await,
        (vec!["u2".into()], 1)
    );
    // null matches a present null, not a missing key.
    assert_eq!(
        matching(s, a, json!({"gone": null}), 10).await,
        (vec!["u2".into()], 1)
    );
    assert_eq!(
        matching(s, a, json!({"ratio": 1.5}), 10).await,
        (vec!["u3".into()], 1)
    );
    // Nested values compare as JSON values (key order does not matter).
    assert_eq!(
        matching(s, a, json!({"meta": {"x": 1, "y": 2}}), 10).await,
        (vec!["u1".into(), "u3".into()], 2)
    );
    assert_eq!(
        matching(s, a, json!({"tags": ["a"]}), 10).await,
        (vec!["u1".into()], 1)
    );
    // Paging keeps the total of all matches.
    assert_eq!(
        matching(s, a, json!({"meta": {"x": 1, "y": 2}}), 1).await,
        (vec!["u1".into()], 2)
    );
    assert_eq!(
        matching(s, a, json!({"team": "red"}), 1).await,
        (vec!["u1".into()], 2)
    );
    assert_eq!(
        matching(s, a, json!({"team": "green"}), 10).await,
        (vec![], 0)
    );
    assert_eq!(
        matching(s, a, json!({}), 10).await.1,
        5,
        "an empty filter matches all"
    );
}

pub async fn list_users_filters_by_unread(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "unread").await;
    let reader = user(s, a, "reader").await;
    let writer = user(s, a, "writer").await;
    let outsider = user(s, a, "outsider").await;
    let c = channel(s, a, "room", &[reader.id, writer.id]).await;
    send(s, a, c.id, Some(writer.id), "hello").await;
    let last = send(s, a, c.id, Some(reader.id), "hi back").await;

    let with_unread = UserFilter {
        has_unread: Some(true),
        ..Default::default()
    };
    let without_unread = UserFilter {
        has_unread: Some(false),
        ..Default::default()
    };
    let p = s.list_users(a, &with_unread, &page(0, 10)).await.unwrap();
    // reader has the writer's message unread; writer has the reader's.
    assert_eq!(names(&p.items), ["reader", "writer"]);
    assert_eq!(p.total, 2);
    let p = s
        .list_users(a, &without_unread, &page(0, 10))
        .await
        .unwrap();
    assert_eq!(names(&p.items), ["outsider"]);

    s.mark_read(a, c.id, reader.id, last.seq).await.unwrap();
    let p = s.list_users(a, &with_unread, &page(0, 10)).await.unwrap();
    assert_eq!(names(&p.items), ["writer"]);
    assert_eq!(p.total, 1);
    let p = s
        .list_users(a, &without_unread, &page(0, 10))
        .await
        .unwrap();
    assert_eq!(names(&p.items), ["reader", "outsider"]);
    assert_eq!(p.total, 2);
    let _ = outsider;
}

pub async fn user_secrets_set_replace_delete(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "secrets").await;
    let u = user(s, a, "keeper").await;
    let name = SecretName::parse("api-key").unwrap();
    assert_eq!(s.get_user_secret(a, u.id, &name).await.unwrap(), None);
    s.set_user_secret(a, u.id, &name, json!({"token": "t1"}))
        .await
        .unwrap();
    assert_eq!(
        s.get_user_secret(a, u.id, &name).await.unwrap(),
        Some(json!({"token": "t1"}))
    );
    s.set_user_secret(a, u.id, &name, json!("plain string"))
        .await
        .unwrap();
    assert_eq!(
        s.get_user_secret(a, u.id, &name).await.unwrap(),
        Some(json!("plain string"))
    );
    let other = SecretName::parse("other").unwrap();
    assert_eq!(s.get_user_secret(a, u.id, &other).await.unwrap(), None);

    s.delete_user_secret(a, u.id, &name).await.unwrap();
    assert_eq!(s.get_user_secret(a, u.id, &name).await.unwrap(), None);
    let again = s.delete_user_secret(a, u.id, &name).await;
    assert!(is_not_found(&again), "{again:?}");
    let no_user = s
        .set_user_secret(a, UserId(u.id.0 + 1000), &name, json!(1))
        .await;
    assert!(is_not_found(&no_user), "{no_user:?}");
}

pub async fn delete_user_removes_memberships_roles_secrets_and_marks(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "del").await;
    let gone = user(s, a, "gone").await;
    let stays = user(s, a, "stays").await;
    let c = channel(s, a, "room", &[gone.id, stays.id]).await;
    s.add_moderator(a, c.id, gone.id).await.unwrap();
    let secret = SecretName::parse("k").unwrap();
    s.set_user_secret(a, gone.id, &secret, json!(1))
        .await
        .unwrap();
    let m = send(s, a, c.id, Some(gone.id), "my last words").await;
    send(s, a, c.id, Some(stays.id), "bye").await;
    s.mark_read(a, c.id, gone.id, 1).await.unwrap();

    s.delete_user(a, gone.id).await.unwrap();
    assert!(!s.is_member(a, c.id, gone.id).await.unwrap());
    assert!(!s.is_moderator(a, c.id, gone.id).await.unwrap());
    assert_eq!(s.get_user_secret(a, gone.id, &secret).await.unwrap(), None);
    assert_eq!(s.count_unread(a, gone.id).await.unwrap(), 0);
    let members = s.list_members(a, c.id, &page(0, 10)).await.unwrap();
    assert_eq!(names(&members.items), ["stays"]);
    assert_eq!(members.total, 1);
    assert_eq!(
        s.list_moderators(a, c.id, &page(0, 10))
            .await
            .unwrap()
            .total,
        0
    );

    // The message stays, authorless.
    let view = s
        .get_message(a, m.id)
        .await
        .unwrap()
        .expect("message stays");
    assert_eq!(view.user, None);
    assert_eq!(body_of(&view.message), "my last words");
    assert_eq!(view.message.seq, m.seq);
    // A new user never inherits the old id (nor its messages).
    let newcomer = user(s, a, "gone").await;
    assert_ne!(newcomer.id, gone.id);
    let view = s
        .get_message(a, m.id)
        .await
        .unwrap()
        .expect("message stays");
    assert_eq!(view.user, None);
}
