//! SQLite-specific behaviour beyond the shared contract: files, reopening, the
//! writer's recovery when a group of appends fails in SQL.

use hubbub_core::Error;
use hubbub_core::ids::AppId;
use hubbub_core::model::{
    AppSettings, ChannelKind, LiveRoom, MessageContent, NewApplication, NewChannel, NewMessage,
};
use hubbub_core::names::{ChannelName, MessageBody, Properties};
use hubbub_core::store::Store;
use hubbub_store_sqlite::{Durability, SqliteOptions, SqliteStore};
use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use std::sync::Arc;

async fn app(store: &SqliteStore) -> AppId {
    store
        .create_application(NewApplication {
            name: "app".into(),
            client_id: "client".into(),
            client_secret_hash: "hash".into(),
            signing_secret: "secret".into(),
            properties: Properties::default(),
            settings: AppSettings::default(),
        })
        .await
        .expect("create application")
        .id
}

async fn channel(store: &SqliteStore, app: AppId, name: &str) -> hubbub_core::model::Channel {
    store
        .create_channel(
            app,
            NewChannel {
                kind: ChannelKind::Public,
                name: Some(ChannelName::parse(name).unwrap()),
                display_name: None,
                creator: None,
                members: vec![],
                properties: Properties::default(),
                live: LiveRoom::default(),
                direct_key: None,
            },
        )
        .await
        .expect("create channel")
}

fn text(channel: hubbub_core::ids::ChannelId, body: &str) -> NewMessage {
    NewMessage {
        channel_id: channel,
        user_id: None,
        content: MessageContent::Text {
            body: MessageBody::parse(body, 4096).unwrap(),
        },
        group_tag: None,
        properties: Properties::default(),
        parent_id: None,
        nested_level: 0,
        idempotency_key: None,
        created_at: None,
    }
}

#[tokio::test]
async fn open_url_creates_directories_and_reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/hubbub.db");
    let url = format!("sqlite://{}?synchronous=normal", path.display());

    let (a, c, last) = {
        let store = SqliteStore::open_url(&url).await.expect("open by url");
        store.check_ready().await.expect("ready");
        let a = app(&store).await;
        let c = channel(&store, a, "room").await;
        let mut last = None;
        for i in 0..10 {
            last = Some(
                store
                    .append_message(a, text(c.id, &format!("m{i}")))
                    .await
                    .unwrap(),
            );
        }
        // The newest message goes; its id must never come back.
        let last = last.unwrap().message;
        store.delete_message(a, last.id).await.unwrap();
        store.close().await;
        let after_close = store.get_channel(a, c.id).await;
        assert!(
            matches!(after_close, Err(Error::Unavailable(_))),
            "{after_close:?}"
        );
        let write_after_close = store.append_message(a, text(c.id, "late")).await;
        assert!(
            matches!(write_after_close, Err(Error::Unavailable(_))),
            "{write_after_close:?}"
        );
        (a, c, last)
    };
    assert!(path.exists());

    let store = SqliteStore::open(SqliteOptions::new(&path).synchronous(Durability::Full))
        .await
        .expect("reopen");
    store.check_ready().await.expect("ready after reopen");
    let reopened = store
        .get_channel(a, c.id)
        .await
        .unwrap()
        .expect("channel kept");
    assert_eq!(reopened.last_seq, 10);
    assert_eq!(reopened.epoch, c.epoch);
    let next = store
        .append_message(a, text(c.id, "after restart"))
        .await
        .unwrap();
    assert_eq!(next.message.seq, 11, "seqs continue, never reused");
    assert!(next.message.id > last.id, "ids continue above deleted ones");
    let history = store.messages_after_seq(a, c.id, 0, 100).await.unwrap();
    assert_eq!(history.len(), 10);
}

#[tokio::test]
async fn a_group_that_fails_in_sql_is_retried_message_by_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hubbub.db");
    let store = Arc::new(SqliteStore::open(SqliteOptions::new(&path)).await.unwrap());
    let a = app(&store).await;
    let broken = channel(&store, a, "broken").await;
    let fine = channel(&store, a, "fine").await;
    // Warm the writer's seq cache for `broken`, then plant a row behind its back so
    // the next seq it hands out collides with UNIQUE (channel_id, seq).
    store
        .append_message(a, text(broken.id, "first"))
        .await
        .unwrap();
    let mut raw = SqliteConnectOptions::new()
        .filename(&path)
        .busy_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO messages (app_id, channel_id, seq, sender_key, kind, body, created_at) \
         VALUES (?, ?, 2, 0, 'text', 'planted', 0)",
    )
    .bind(a.0)
    .bind(broken.id.0)
    .execute(&mut raw)
    .await
    .unwrap();

    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = Arc::clone(&store);
            let target = if i % 4 == 0 { broken.id } else { fine.id };
            tokio::spawn(async move { (target, store.append_message(a, text(target, "x")).await) })
        })
        .collect();
    let mut fine_seqs = Vec::new();
    let mut broken_errors = 0;
    for t in tasks {
        match t.await.unwrap() {
            (ch, Ok(appended)) if ch == fine.id => fine_seqs.push(appended.message.seq),
            (ch, Ok(appended)) => {
                // Once the writer reloaded its positions, later appends may succeed.
                assert_eq!(ch, broken.id);
                assert!(appended.message.seq >= 2);
            }
            (ch, Err(_)) => {
                assert_eq!(ch, broken.id, "only the broken channel's messages may fail");
                broken_errors += 1;
            }
        }
    }
    fine_seqs.sort_unstable();
    assert_eq!(fine_seqs, (1..=30).collect::<Vec<_>>());
    assert_eq!(broken_errors, 10);
    let fine_now = store.get_channel(a, fine.id).await.unwrap().unwrap();
    assert_eq!(fine_now.last_seq, 30);
    // The store keeps working.
    let after = store
        .append_message(a, text(fine.id, "after"))
        .await
        .unwrap();
    assert_eq!(after.message.seq, 31);
}
