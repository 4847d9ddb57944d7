//! What only a PostgreSQL store has: several nodes appending to one channel, and a
//! server that goes away and comes back. Each test gets a fresh database on the test
//! server (`HUBBUB_TEST_DATABASE_URL`).

use futures::future::join_all;
use hubbub_core::Error;
use hubbub_core::ids::{AppId, ChannelId, MessageId};
use hubbub_core::model::{
    AppSettings, ChannelKind, LiveRoom, Message, MessageContent, NewApplication, NewChannel,
    NewMessage,
};
use hubbub_core::names::{ChannelName, IdempotencyKey, MessageBody, Properties};
use hubbub_core::store::Store;
use hubbub_store_postgres::test_database::TestDatabase;
use hubbub_store_postgres::{PostgresOptions, PostgresStore};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

fn text(channel: ChannelId, body: &str, key: Option<&str>) -> NewMessage {
    NewMessage {
        channel_id: channel,
        user_id: None,
        content: MessageContent::Text {
            body: MessageBody::parse(body, 4096).expect("body"),
        },
        group_tag: None,
        properties: Properties::default(),
        parent_id: None,
        nested_level: 0,
        idempotency_key: key.map(|k| IdempotencyKey::parse(k).expect("key")),
        created_at: None,
    }
}

async fn app_and_channel(store: &dyn Store) -> (AppId, ChannelId) {
    let app = store
        .create_application(NewApplication {
            name: "nodes".into(),
            client_id: "nodes".into(),
            client_secret_hash: "hash".into(),
            signing_secret: "secret".into(),
            properties: Properties::default(),
            settings: AppSettings::default(),
        })
        .await
        .expect("application")
        .id;
    let channel = store
        .create_channel(
            app,
            NewChannel {
                kind: ChannelKind::Public,
                name: Some(ChannelName::parse("hot").expect("name")),
                display_name: None,
                creator: None,
                members: vec![],
                properties: Properties::default(),
                live: LiveRoom::default(),
                direct_key: None,
            },
        )
        .await
        .expect("channel")
        .id;
    (app, channel)
}

/// Two stores on one database are two nodes: two writers, two pools.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_appending_to_one_channel_share_one_gapless_sequence() {
    let database = TestDatabase::create().await;
    let nodes: Vec<Arc<PostgresStore>> = vec![
        Arc::new(
            PostgresStore::open(database.options())
                .await
                .expect("node a"),
        ),
        Arc::new(
            PostgresStore::open(database.options())
                .await
                .expect("node b"),
        ),
    ];
    let (app, channel) = app_and_channel(nodes[0].as_ref()).await;

    // 16 senders per node; every fourth message carries a key that senders of both
    // nodes send (the same key from both nodes must store one message).
    let tasks = (0..32).map(|t| {
        let node = Arc::clone(&nodes[t % 2]);
        tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..40 {
                let key = (i % 4 == 0).then(|| format!("shared-{}-{i}", t / 2));
                let appended = node
                    .append_message(app, text(channel, &format!("t{t} m{i}"), key.as_deref()))
                    .await
                    .expect("append");
                got.push((key, appended.message));
            }
            got
        })
    });
    let mut all: Vec<(Option<String>, Message)> = Vec::new();
    for r in join_all(tasks).await {
        all.extend(r.expect("sender"));
    }

    // One message per distinct key, whichever node stored it.
    let mut by_key: HashMap<String, MessageId> = HashMap::new();
    for (key, m) in &all {
        if let Some(k) = key {
            let first = by_key.entry(k.clone()).or_insert(m.id);
            assert_eq!(*first, m.id, "key {k} stored twice");
        }
    }
    let distinct: HashSet<MessageId> = all.iter().map(|(_, m)| m.id).collect();
    // 32 × 40 sends, 32 × 10 keyed of which half are retries by the other node.
    assert_eq!(distinct.len(), 32 * 40 - 16 * 10);

    // Seqs 1..=n without gap or duplicate, in id order, seen alike by both nodes.
    let n = distinct.len() as i64;
    for node in &nodes {
        let stored = node.get_channel(app, channel).await.unwrap().unwrap();
        assert_eq!(stored.last_seq, n);
        let history = node
            .messages_after_seq(app, channel, 0, 10_000)
            .await
            .unwrap();
        let seqs: Vec<i64> = history.iter().map(|v| v.message.seq).collect();
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
        assert!(
            history
                .windows(2)
                .all(|w| w[0].message.id < w[1].message.id),
            "ids grow with seqs across nodes"
        );
        assert_eq!(stored.last_message_id, history.last().map(|v| v.message.id));
    }
    for node in &nodes {
        node.close().await;
    }
}

/// A TCP proxy in front of the server: stopping it is the server going away (every
/// connection cut, new ones refused); starting it again is the server coming back.
struct Proxy {
    port: u16,
    upstream: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(port: u16, upstream: String) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("proxy listens");
        let port = listener.local_addr().expect("proxy address").port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accepted = Arc::clone(&tasks);
        let target = upstream.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                accepted.lock().unwrap().push(pipe);
            }
        });
        tasks.lock().unwrap().push(accept);
        Self {
            port,
            upstream,
            tasks,
        }
    }

    /// Cuts every connection and stops listening.
    fn stop(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_goes_away_is_unavailable_and_the_store_recovers_by_itself() {
    let database = TestDatabase::create().await;
    let direct = database.options();
    let upstream = format!(
        "{}:{}",
        direct.connect.get_host(),
        direct.connect.get_port()
    );
    let proxy = Proxy::start(0, upstream).await;
    let mut options: PostgresOptions = database.options();
    options.connect = options.connect.host("127.0.0.1").port(proxy.port);
    options.acquire_timeout = Duration::from_secs(1);
    options.ready_timeout = Duration::from_secs(1);
    let store = PostgresStore::open(options)
        .await
        .expect("open through the proxy");
    let (app, channel) = app_and_channel(&store).await;
    store
        .append_message(app, text(channel, "before", None))
        .await
        .expect("append before the outage");

    proxy.stop();
    let append = store
        .append_message(app, text(channel, "during", None))
        .await;
    assert!(matches!(append, Err(Error::Unavailable(_))), "{append:?}");
    let read = store.get_channel(app, channel).await;
    assert!(matches!(read, Err(Error::Unavailable(_))), "{read:?}");
    let ready = store.check_ready().await;
    assert!(matches!(ready, Err(Error::Unavailable(_))), "{ready:?}");

    // The server is back on the same address: nothing is restarted or reopened.
    let proxy = Proxy::start(proxy.port, proxy.upstream.clone()).await;
    let mut recovered = None;
    for _ in 0..50 {
        match store
            .append_message(app, text(channel, "after", None))
            .await
        {
            Ok(appended) => {
                recovered = Some(appended.message);
                break;
            }
            Err(Error::Unavailable(_)) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(other) => panic!("an outage is never {other:?}"),
        }
    }
    let after = recovered.expect("appends work again once the server is back");
    assert_eq!(after.seq, 2, "the failed append took no seq");
    store.check_ready().await.expect("ready again");
    let stored = store.get_channel(app, channel).await.unwrap().unwrap();
    assert_eq!(stored.last_seq, 2);
    assert_eq!(stored.last_message_id, Some(after.id));
    store.close().await;
    proxy.stop();
}
