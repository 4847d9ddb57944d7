//! Channel restrictions (bans, mutes), robots, dialect credentials and tokens, and
//! user passwords.

use crate::fixtures::*;
use chrono::Duration;
use hubbub_core::Error;
use hubbub_core::ids::{ChannelId, UserId};
use hubbub_core::model::{
    Dialect, DialectCredential, DialectToken, DialectTokenKind, NewRestriction, RestrictionKind,
    now,
};
use hubbub_core::paging::PageRequest;
use hubbub_core::store::Store;
use serde_json::json;
use std::sync::Arc;

fn restriction(
    user: UserId,
    kind: RestrictionKind,
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> NewRestriction {
    NewRestriction {
        user_id: user,
        kind,
        until,
        reason: format!("{} for testing", kind.as_str()),
        created_by: None,
    }
}

pub async fn restrictions_set_replace_lapse_and_lift(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "restrictions").await;
    let jane = user(s, a, "jane").await;
    let bob = user(s, a, "bob").await;
    let c = channel(s, a, "room", &[]).await;
    let other = channel(s, a, "other", &[]).await;
    let t0 = now();

    let ban = s
        .set_restriction(a, c.id, restriction(jane.id, RestrictionKind::Ban, None))
        .await
        .unwrap();
    assert_eq!(ban.user.id, jane.id);
    assert_eq!(ban.channel_id, c.id);
    assert_eq!(ban.kind, RestrictionKind::Ban);
    assert_eq!(ban.until, None);
    assert_eq!(ban.reason, "BAN for testing");
    let until = t0 + Duration::seconds(60);
    let mute = s
        .set_restriction(
            a,
            c.id,
            restriction(bob.id, RestrictionKind::Mute, Some(until)),
        )
        .await
        .unwrap();
    assert_eq!(mute.until, Some(until));

    let janes = s.active_restrictions(a, c.id, jane.id, t0).await.unwrap();
    assert_eq!(janes.len(), 1);
    assert_eq!(janes[0].kind, RestrictionKind::Ban);
    assert!(
        s.active_restrictions(a, other.id, jane.id, t0)
            .await
            .unwrap()
            .is_empty(),
        "a restriction holds in its own channel only"
    );
    // The timed mute lapses by itself.
    assert_eq!(
        s.active_restrictions(a, c.id, bob.id, t0)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.active_restrictions(a, c.id, bob.id, until)
            .await
            .unwrap()
            .is_empty(),
        "a restriction has lapsed at its end"
    );

    // Setting one again replaces it: now jane's ban is timed.
    let shorter = t0 + Duration::seconds(5);
    s.set_restriction(
        a,
        c.id,
        restriction(jane.id, RestrictionKind::Ban, Some(shorter)),
    )
    .await
    .unwrap();
    let listed = s
        .list_restrictions(a, c.id, RestrictionKind::Ban, t0, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].until, Some(shorter));
    let later = s
        .list_restrictions(
            a,
            c.id,
            RestrictionKind::Ban,
            shorter + Duration::seconds(1),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(later.total, 0, "lapsed restrictions are not listed");
    assert!(later.items.is_empty());

    // Lifting says whether there was one.
    assert!(
        s.lift_restriction(a, c.id, bob.id, RestrictionKind::Mute)
            .await
            .unwrap()
    );
    assert!(
        !s.lift_restriction(a, c.id, bob.id, RestrictionKind::Mute)
            .await
            .unwrap()
    );
    assert!(
        !s.lift_restriction(a, c.id, jane.id, RestrictionKind::Mute)
            .await
            .unwrap(),
        "lifting a mute leaves the ban"
    );
    assert_eq!(
        s.active_restrictions(a, c.id, jane.id, t0)
            .await
            .unwrap()
            .len(),
        1
    );

    // Unknown channel or user.
    let missing = s
        .set_restriction(
            a,
            ChannelId(i64::MAX),
            restriction(jane.id, RestrictionKind::Ban, None),
        )
        .await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
    let missing = s
        .set_restriction(
            a,
            c.id,
            restriction(UserId(i64::MAX), RestrictionKind::Ban, None),
        )
        .await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
}

pub async fn restrictions_page_in_order_and_leave_with_their_user(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "restriction-pages").await;
    let c = channel(s, a, "room", &[]).await;
    let mut users = Vec::new();
    for i in 0..5 {
        let u = user(s, a, &format!("u{i}")).await;
        s.set_restriction(a, c.id, restriction(u.id, RestrictionKind::Mute, None))
            .await
            .unwrap();
        users.push(u);
    }
    let page = PageRequest {
        page: 1,
        size: 2,
        ..PageRequest::default()
    };
    let second = s
        .list_restrictions(a, c.id, RestrictionKind::Mute, now(), &page)
        .await
        .unwrap();
    assert_eq!(second.total, 5);
    let ids: Vec<_> = second.items.iter().map(|r| r.user.id).collect();
    assert_eq!(ids, vec![users[2].id, users[3].id], "oldest first");

    s.delete_user(a, users[0].id).await.unwrap();
    let all = s
        .list_restrictions(
            a,
            c.id,
            RestrictionKind::Mute,
            now(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(all.total, 4, "a deleted user's restrictions go with them");

    // Another application sees none of them.
    let b = app(s, "restriction-pages-b").await;
    let theirs = s
        .list_restrictions(
            b,
            c.id,
            RestrictionKind::Mute,
            now(),
            &PageRequest::default(),
        )
        .await;
    assert!(matches!(theirs, Err(Error::NotFound { .. })), "{theirs:?}");
}

pub async fn robots_are_capped_ordered_and_removable(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "robots").await;
    let c = channel(s, a, "room", &[]).await;
    let bots = [
        user(s, a, "bot1").await,
        user(s, a, "bot2").await,
        user(s, a, "bot3").await,
        user(s, a, "bot4").await,
    ];
    for bot in &bots[..3] {
        assert!(s.add_robot(a, c.id, bot.id, 3).await.unwrap());
    }
    assert!(
        !s.add_robot(a, c.id, bots[0].id, 3).await.unwrap(),
        "adding a robot again is a no-op, even at the cap"
    );
    let full = s.add_robot(a, c.id, bots[3].id, 3).await;
    assert!(matches!(full, Err(Error::Conflict(_))), "{full:?}");
    let listed: Vec<_> = s
        .list_robots(a, c.id)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(listed, vec![bots[0].id, bots[1].id, bots[2].id]);
    assert!(s.remove_robot(a, c.id, bots[1].id).await.unwrap());
    assert!(!s.remove_robot(a, c.id, bots[1].id).await.unwrap());
    assert!(s.add_robot(a, c.id, bots[3].id, 3).await.unwrap());
    assert_eq!(s.list_robots(a, c.id).await.unwrap().len(), 3);
    let missing = s.add_robot(a, c.id, UserId(i64::MAX), 3).await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
    s.delete_channel(a, c.id).await.unwrap();
    let gone = s.list_robots(a, c.id).await.unwrap();
    assert!(gone.is_empty());
}

fn credential(dialect: Dialect, key: &str) -> DialectCredential {
    DialectCredential {
        dialect,
        key: key.into(),
        secret: format!("secret-of-{key}"),
        admins: vec!["administrator".into(), "ops".into()],
    }
}

pub async fn dialect_credentials_are_unique_per_dialect(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "dialects-a").await;
    let b = app(s, "dialects-b").await;
    s.put_dialect_credential(a, credential(Dialect::Tencent, "1400000000"))
        .await
        .unwrap();
    s.put_dialect_credential(a, credential(Dialect::Kitkot, "kk-a"))
        .await
        .unwrap();
    // The same key in another dialect is fine; in the same dialect it is not.
    s.put_dialect_credential(b, credential(Dialect::Prism, "kk-a"))
        .await
        .unwrap();
    let taken = s
        .put_dialect_credential(b, credential(Dialect::Kitkot, "kk-a"))
        .await;
    assert!(matches!(taken, Err(Error::Conflict(_))), "{taken:?}");

    let (found_app, found) = s
        .find_dialect_credential(Dialect::Tencent, "1400000000")
        .await
        .unwrap()
        .expect("found by key");
    assert_eq!(found_app, a);
    assert_eq!(found, credential(Dialect::Tencent, "1400000000"));
    assert!(
        s.find_dialect_credential(Dialect::Prism, "1400000000")
            .await
            .unwrap()
            .is_none()
    );

    // Replacing rotates the key: the old one no longer finds the application.
    s.put_dialect_credential(a, credential(Dialect::Kitkot, "kk-a2"))
        .await
        .unwrap();
    assert!(
        s.find_dialect_credential(Dialect::Kitkot, "kk-a")
            .await
            .unwrap()
            .is_none()
    );
    let mine = s.list_dialect_credentials(a).await.unwrap();
    let mut kinds: Vec<_> = mine.iter().map(|c| (c.dialect, c.key.clone())).collect();
    kinds.sort_by_key(|(d, _)| d.as_str());
    assert_eq!(
        kinds,
        vec![
            (Dialect::Kitkot, "kk-a2".to_owned()),
            (Dialect::Tencent, "1400000000".to_owned())
        ]
    );
    // A failed put changed nothing.
    assert_eq!(s.list_dialect_credentials(b).await.unwrap().len(), 1);
}

fn token(
    hash: &str,
    kind: DialectTokenKind,
    app: hubbub_core::ids::AppId,
    user: Option<UserId>,
    ttl: Duration,
) -> DialectToken {
    let created = now();
    DialectToken {
        token_hash: hash.into(),
        kind,
        app_id: app,
        user_id: user,
        expires_at: created + ttl,
        data: json!({"redirect_uri": "https://example.test/cb"}),
        created_at: created,
    }
}

pub async fn dialect_tokens_find_take_once_expire_and_revoke(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "tokens").await;
    let jane = user(s, a, "jane").await;
    let hour = Duration::hours(1);
    let code = token(
        "h-code",
        DialectTokenKind::PrismCode,
        a,
        Some(jane.id),
        hour,
    );
    s.insert_dialect_token(code.clone()).await.unwrap();
    let dup = s.insert_dialect_token(code.clone()).await;
    assert!(matches!(dup, Err(Error::Conflict(_))), "{dup:?}");

    let t = now();
    assert_eq!(
        s.find_dialect_token(DialectTokenKind::PrismCode, "h-code", t)
            .await
            .unwrap(),
        Some(code.clone())
    );
    assert!(
        s.find_dialect_token(DialectTokenKind::PrismAccess, "h-code", t)
            .await
            .unwrap()
            .is_none(),
        "a token is found under its own kind only"
    );
    assert!(
        s.find_dialect_token(DialectTokenKind::PrismCode, "h-code", code.expires_at)
            .await
            .unwrap()
            .is_none(),
        "an expired token is not found"
    );

    // Concurrent takes: exactly one wins.
    let (x, y) = tokio::join!(
        s.take_dialect_token(DialectTokenKind::PrismCode, "h-code", t),
        s.take_dialect_token(DialectTokenKind::PrismCode, "h-code", t)
    );
    let winners = [x.unwrap(), y.unwrap()]
        .into_iter()
        .filter(|t| t.is_some())
        .count();
    assert_eq!(winners, 1);
    assert!(
        s.find_dialect_token(DialectTokenKind::PrismCode, "h-code", t)
            .await
            .unwrap()
            .is_none()
    );

    // An expired token cannot be taken.
    let stale = token(
        "h-stale",
        DialectTokenKind::AllmineRefresh,
        a,
        Some(jane.id),
        Duration::seconds(1),
    );
    s.insert_dialect_token(stale.clone()).await.unwrap();
    assert!(
        s.take_dialect_token(
            DialectTokenKind::AllmineRefresh,
            "h-stale",
            stale.expires_at
        )
        .await
        .unwrap()
        .is_none()
    );

    // Logout revokes the given kinds of one user only.
    let bob = user(s, a, "bob").await;
    for (hash, kind, who) in [
        ("r1", DialectTokenKind::AllmineRefresh, jane.id),
        ("r2", DialectTokenKind::AllmineRefresh, jane.id),
        ("k1", DialectTokenKind::KitkotSession, jane.id),
        ("r3", DialectTokenKind::AllmineRefresh, bob.id),
    ] {
        s.insert_dialect_token(token(hash, kind, a, Some(who), hour))
            .await
            .unwrap();
    }
    let revoked = s
        .revoke_dialect_tokens(a, jane.id, &[DialectTokenKind::AllmineRefresh])
        .await
        .unwrap();
    assert_eq!(revoked, 2);
    let t = now();
    assert!(
        s.find_dialect_token(DialectTokenKind::KitkotSession, "k1", t)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.find_dialect_token(DialectTokenKind::AllmineRefresh, "r3", t)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.find_dialect_token(DialectTokenKind::AllmineRefresh, "r1", t)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn user_passwords_set_clear_and_stay_private(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "passwords").await;
    let jane = user(s, a, "jane").await;
    assert_eq!(s.get_user_password(a, jane.id).await.unwrap(), None);
    s.set_user_password(a, jane.id, Some("$argon2id$fake".into()))
        .await
        .unwrap();
    assert_eq!(
        s.get_user_password(a, jane.id).await.unwrap().as_deref(),
        Some("$argon2id$fake")
    );
    let b = app(s, "passwords-b").await;
    assert_eq!(
        s.get_user_password(b, jane.id).await.unwrap(),
        None,
        "another application cannot read it"
    );
    let missing = s.set_user_password(b, jane.id, Some("x".into())).await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
    s.set_user_password(a, jane.id, None).await.unwrap();
    assert_eq!(s.get_user_password(a, jane.id).await.unwrap(), None);
}
