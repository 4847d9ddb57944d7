//! Sessions across restarts: no realtime connection survives one, so sessions left
//! ACTIVE by a previous run are ENDED when the server starts, and ENDED sessions stay
//! listed.

use hubbub::config::Config;
use hubbub::startup::Application;
use hubbub_core::engine::{Actor, CreateUser};
use hubbub_core::model::{NewUserSession, SessionState, UserKind};
use hubbub_core::paging::PageRequest;

#[tokio::test]
async fn sessions_left_active_end_when_the_server_starts_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let first = Application::build(&config).await.expect("first run builds");
    let engine = first.engine().clone();
    let app = engine.create_application("restart").await.unwrap();
    let actor = Actor::App(app.application.id);
    let jane = engine
        .create_user(
            &actor,
            CreateUser {
                name: "jane".into(),
                display_name: None,
                is_guest: false,
                kind: UserKind::Person,
                properties: serde_json::Value::Null,
            },
        )
        .await
        .unwrap();
    let store = engine.store();
    let app_id = app.application.id;
    let new = || NewUserSession {
        user_id: jane.id,
        user_agent: None,
    };
    let live = store.start_user_session(app_id, new()).await.unwrap();
    let done = store.start_user_session(app_id, new()).await.unwrap();
    store.end_user_session(app_id, done.id).await.unwrap();
    let channel = engine
        .create_channel(
            &actor,
            hubbub_core::engine::CreateChannel {
                kind: hubbub_core::model::ChannelKind::Public,
                name: Some("room".into()),
                display_name: None,
                creator: None,
                members: vec![],
                properties: serde_json::Value::Null,
                live: None,
            },
        )
        .await
        .unwrap()
        .0;
    store
        .start_chat_session(app_id, live.id, channel.channel.id)
        .await
        .unwrap();
    drop(first);

    // The next start ends what the previous run left ACTIVE.
    let second = Application::build(&config)
        .await
        .expect("second run builds");
    let engine = second.engine();
    let all = PageRequest::default();
    let active = engine
        .list_user_sessions(&actor, Some(SessionState::Active), &all)
        .await
        .unwrap();
    assert_eq!(active.total, 0);
    let ended = engine
        .list_user_sessions(&actor, Some(SessionState::Ended), &all)
        .await
        .unwrap();
    assert_eq!(ended.total, 2, "ENDED sessions stay listed");
    assert!(ended.items.iter().all(|s| s.ended_at.is_some()));
    let chats = engine
        .list_chat_sessions(&actor, Some(SessionState::Ended), &all)
        .await
        .unwrap();
    assert_eq!(chats.total, 1);
}
