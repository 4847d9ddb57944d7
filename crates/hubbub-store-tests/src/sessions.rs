//! User sessions and chat sessions.

use crate::fixtures::*;
use hubbub_core::ids::{ChannelId, UserId, UserSessionId};
use hubbub_core::model::{NewUserSession, SessionState};
use hubbub_core::paging::PageRequest;
use hubbub_core::store::Store;
use std::sync::Arc;

fn session(user: UserId, agent: Option<&str>) -> NewUserSession {
    NewUserSession {
        user_id: user,
        user_agent: agent.map(str::to_owned),
    }
}

pub async fn sessions_start_end_and_list_by_state(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "sessions").await;
    let jane = user(s, a, "jane").await;
    let c1 = channel(s, a, "one", &[]).await;
    let c2 = channel(s, a, "two", &[]).await;

    let us = s
        .start_user_session(a, session(jane.id, Some("centrifuge-js/5.8.0")))
        .await
        .unwrap();
    assert_eq!(us.user, jane);
    assert_eq!(us.user_agent.as_deref(), Some("centrifuge-js/5.8.0"));
    assert_eq!(us.state(), SessionState::Active);
    assert_eq!(us.ended_at, None);
    let cs1 = s.start_chat_session(a, us.id, c1.id).await.unwrap();
    let cs2 = s.start_chat_session(a, us.id, c2.id).await.unwrap();
    assert_eq!(cs1.channel_id, c1.id);
    assert_eq!(cs1.user_session, us);
    assert_eq!(cs1.state(), SessionState::Active);

    s.end_chat_session(a, cs1.id).await.unwrap();
    s.end_chat_session(a, cs1.id).await.unwrap();
    let all = PageRequest::default();
    let active = s
        .list_chat_sessions(a, Some(SessionState::Active), &all)
        .await
        .unwrap();
    assert_eq!(active.total, 1);
    assert_eq!(active.items[0].id, cs2.id);
    let ended = s
        .list_chat_sessions(a, Some(SessionState::Ended), &all)
        .await
        .unwrap();
    assert_eq!(ended.total, 1);
    assert_eq!(ended.items[0].id, cs1.id);
    assert!(ended.items[0].ended_at.is_some());
    assert_eq!(s.list_chat_sessions(a, None, &all).await.unwrap().total, 2);

    // Ending the user session ends its chat sessions.
    s.end_user_session(a, us.id).await.unwrap();
    let users = s
        .list_user_sessions(a, Some(SessionState::Ended), &all)
        .await
        .unwrap();
    assert_eq!(users.total, 1);
    let ended_us = &users.items[0];
    assert_eq!(ended_us.id, us.id);
    assert!(ended_us.ended_at.unwrap() >= us.created_at);
    assert_eq!(
        s.list_chat_sessions(a, Some(SessionState::Active), &all)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        s.list_user_sessions(a, Some(SessionState::Active), &all)
            .await
            .unwrap()
            .total,
        0
    );

    let missing = s
        .start_user_session(a, session(UserId(jane.id.0 + 100), None))
        .await;
    assert!(is_not_found(&missing), "{missing:?}");
    let missing = s
        .start_chat_session(a, UserSessionId(us.id.0 + 100), c1.id)
        .await;
    assert!(is_not_found(&missing), "{missing:?}");
    let missing = s
        .start_chat_session(a, us.id, ChannelId(c2.id.0 + 100))
        .await;
    assert!(is_not_found(&missing), "{missing:?}");
    let missing = s.end_user_session(a, UserSessionId(us.id.0 + 100)).await;
    assert!(is_not_found(&missing), "{missing:?}");
}

pub async fn end_active_sessions_ends_every_application(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "restart-a").await;
    let b = app(s, "restart-b").await;
    let jane = user(s, a, "jane").await;
    let bob = user(s, b, "bob").await;
    let c = channel(s, a, "room", &[]).await;
    let us = s
        .start_user_session(a, session(jane.id, None))
        .await
        .unwrap();
    s.start_chat_session(a, us.id, c.id).await.unwrap();
    s.start_user_session(b, session(bob.id, None))
        .await
        .unwrap();
    let done = s
        .start_user_session(b, session(bob.id, None))
        .await
        .unwrap();
    s.end_user_session(b, done.id).await.unwrap();

    assert_eq!(s.end_active_sessions().await.unwrap(), 2);
    let all = PageRequest::default();
    for app in [a, b] {
        let active = s
            .list_user_sessions(app, Some(SessionState::Active), &all)
            .await
            .unwrap();
        assert_eq!(active.total, 0);
    }
    assert_eq!(
        s.list_chat_sessions(a, Some(SessionState::Ended), &all)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(s.end_active_sessions().await.unwrap(), 0);
}

pub async fn tenant_isolation_of_sessions(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "iso-sessions-a").await;
    let b = app(s, "iso-sessions-b").await;
    let jane = user(s, a, "jane").await;
    let c = channel(s, a, "room", &[]).await;
    let us = s
        .start_user_session(a, session(jane.id, None))
        .await
        .unwrap();
    let cs = s.start_chat_session(a, us.id, c.id).await.unwrap();
    let all = PageRequest::default();
    assert_eq!(s.list_user_sessions(b, None, &all).await.unwrap().total, 0);
    assert_eq!(s.list_chat_sessions(b, None, &all).await.unwrap().total, 0);
    let foreign = s.start_user_session(b, session(jane.id, None)).await;
    assert!(is_not_found(&foreign), "{foreign:?}");
    let foreign = s.start_chat_session(b, us.id, c.id).await;
    assert!(is_not_found(&foreign), "{foreign:?}");
    let foreign = s.end_user_session(b, us.id).await;
    assert!(is_not_found(&foreign), "{foreign:?}");
    let foreign = s.end_chat_session(b, cs.id).await;
    assert!(is_not_found(&foreign), "{foreign:?}");
    assert_eq!(
        s.list_user_sessions(a, Some(SessionState::Active), &all)
            .await
            .unwrap()
            .total,
        1
    );
    // A deleted user's sessions go with them.
    s.delete_user(a, jane.id).await.unwrap();
    assert_eq!(s.list_user_sessions(a, None, &all).await.unwrap().total, 0);
    assert_eq!(s.list_chat_sessions(a, None, &all).await.unwrap().total, 0);
}
