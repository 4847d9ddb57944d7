//! Durable message throughput of the PostgreSQL store through the Engine.
//!
//! Opens a fresh database on the test server (`HUBBUB_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`; or `--database-url URL` to use a given
//! database), builds an [`Engine`] over it with the in-process bus, creates an
//! application, a user and channels, then runs C concurrent senders that send M
//! messages in total through `Engine::send_message` (as the app backend, on behalf
//! of the user). Every acknowledged message is committed with `synchronous_commit`
//! as the server has it (`on` by default: the WAL is flushed before COMMIT returns).
//! Prints messages/s, commits and messages per commit, CPU time per message of this
//! process (from /proc/self/stat) and of the machine's PostgreSQL processes (when the
//! server is local), and ack latency percentiles.
//!
//! ```text
//! cargo bench -p hubbub-store-postgres --bench append_throughput
//! cargo bench -p hubbub-store-postgres --bench append_throughput -- --senders 64 --messages 100000
//! ```
//!
//! Options (flags, or `BENCH_*` environment variables): `--senders` (256),
//! `--messages` (200000), `--channels` (8), `--max-batch` (4096), `--pool` (16
//! connections), `--body-bytes` (64), `--keyed` to give every message an idempotency
//! key, `--store-only` to call `Store::append_message` directly (the store's share of
//! the cost), and `--database-url`.

use hubbub_core::Engine;
use hubbub_core::bus::InProcessBus;
use hubbub_core::engine::{Actor, CreateChannel, CreateUser, SendContent, SendMessage, UserRef};
use hubbub_core::limits::Limits;
use hubbub_core::model::{ChannelKind, MessageContent, NewMessage, UserKind};
use hubbub_core::names::{IdempotencyKey, MessageBody, Properties};
use hubbub_core::store::Store;
use hubbub_store_postgres::test_database::TestDatabase;
use hubbub_store_postgres::{PostgresOptions, PostgresStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Config {
    senders: usize,
    messages: usize,
    channels: usize,
    max_batch: usize,
    pool: u32,
    database_url: Option<String>,
    body_bytes: usize,
    /// Call `Store::append_message` directly, without the Engine (isolates the
    /// store's share of the cost).
    store_only: bool,
    /// Give every message a fresh idempotency key (as retrying clients do).
    keyed: bool,
}

fn option(args: &[String], flag: &str, env: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var(env).ok())
}

fn number<T: std::str::FromStr>(args: &[String], flag: &str, env: &str, default: T) -> T {
    match option(args, flag, env) {
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            eprintln!("{flag}: '{raw}' is not a number");
            std::process::exit(2)
        }),
        None => default,
    }
}

impl Config {
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().collect();
        Self {
            senders: number(&args, "--senders", "BENCH_SENDERS", 256_usize).max(1),
            messages: number(&args, "--messages", "BENCH_MESSAGES", 200_000_usize).max(1),
            channels: number(&args, "--channels", "BENCH_CHANNELS", 8_usize).max(1),
            max_batch: number(&args, "--max-batch", "BENCH_MAX_BATCH", 4096_usize).max(1),
            pool: number(&args, "--pool", "BENCH_POOL", 16_u32).max(1),
            database_url: option(&args, "--database-url", "BENCH_DATABASE_URL"),
            body_bytes: number(&args, "--body-bytes", "BENCH_BODY_BYTES", 64_usize).max(1),
            store_only: args.iter().any(|a| a == "--store-only")
                || std::env::var("BENCH_STORE_ONLY").is_ok_and(|v| v == "1"),
            keyed: args.iter().any(|a| a == "--keyed")
                || std::env::var("BENCH_KEYED").is_ok_and(|v| v == "1"),
        }
    }
}

/// User + system CPU time of this process so far (`/proc/self/stat`, in ticks of
/// 1/100 s, the Linux `USER_HZ`).
fn process_cpu() -> Option<Duration> {
    const TICKS_PER_SECOND: u64 = 100;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is parenthesised and may contain spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12th and 13th after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime) * 1000 / TICKS_PER_SECOND,
    ))
}

/// User + system CPU time of every process named `postgres` on this machine (the
/// server's backends, WAL writer, checkpointer, ...), when the server is local. Other
/// clients of the same server count too: run the bench on a quiet server.
fn postgres_cpu() -> Option<Duration> {
    const TICKS_PER_SECOND: u64 = 100;
    let mut ticks = 0_u64;
    let mut found = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if &stat[open + 1..close] != "postgres" {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
        let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
        ticks += utime + stime;
        found = true;
    }
    found.then(|| Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What one sender task sends.
struct Sender {
    engine: Arc<Engine>,
    actor: Actor,
    user: UserRef,
    channel: hubbub_core::ids::ChannelId,
    count: usize,
    body: Arc<str>,
    store_only: bool,
    /// `Some(prefix)`: message i carries the idempotency key `prefix-i`.
    key_prefix: Option<String>,
}

/// Sends `count` messages one after another; returns each ack latency.
async fn sender(task: Sender) -> Vec<Duration> {
    let Sender {
        engine,
        actor,
        user,
        channel,
        count,
        body,
        store_only,
        key_prefix,
    } = task;
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        let key = key_prefix.as_ref().map(|p| format!("{p}-{i}"));
        let started = Instant::now();
        if store_only {
            let UserRef::Id(user) = &user else {
                unreachable!("the bench sends by user id")
            };
            engine
                .store()
                .append_message(
                    actor.app(),
                    NewMessage {
                        channel_id: channel,
                        user_id: Some(*user),
                        content: MessageContent::Text {
                            body: MessageBody::parse(&body, usize::MAX).expect("valid body"),
                        },
                        group_tag: None,
                        properties: Properties::default(),
                        parent_id: None,
                        nested_level: 0,
                        idempotency_key: key
                            .as_deref()
                            .map(|k| IdempotencyKey::parse(k).expect("valid key")),
                        created_at: None,
                    },
                )
                .await
                .expect("append message");
        } else {
            engine
                .send_message(
                    &actor,
                    channel,
                    SendMessage {
                        on_behalf_of: Some(user.clone()),
                        content: SendContent::Text(body.to_string()),
                        group_tag: None,
                        properties: serde_json::Value::Null,
                        idempotency_key: key,
                    },
                )
                .await
                .expect("send message");
        }
        latencies.push(started.elapsed());
    }
    latencies
}

/// What every sender task shares.
struct Load {
    engine: Arc<Engine>,
    actor: Actor,
    user: UserRef,
    channels: Vec<hubbub_core::ids::ChannelId>,
    senders: usize,
    body: Arc<str>,
    store_only: bool,
    keyed: bool,
}

impl Load {
    /// Runs `total` sends over the sender tasks; returns the latencies and wall time.
    /// `round` keeps idempotency keys of different runs apart.
    async fn run(&self, total: usize, round: &str) -> (Vec<Duration>, Duration) {
        let started = Instant::now();
        let tasks: Vec<_> = (0..self.senders)
            .map(|i| {
                let count = total / self.senders + usize::from(i < total % self.senders);
                tokio::spawn(sender(Sender {
                    engine: Arc::clone(&self.engine),
                    actor: self.actor,
                    user: self.user.clone(),
                    channel: self.channels[i % self.channels.len()],
                    count,
                    body: Arc::clone(&self.body),
                    store_only: self.store_only,
                    key_prefix: self.keyed.then(|| format!("{round}-{i}")),
                }))
            })
            .collect();
        let mut latencies = Vec::with_capacity(total);
        for task in tasks {
            latencies.extend(task.await.expect("sender task"));
        }
        (latencies, started.elapsed())
    }
}

async fn bench(config: Config) {
    // A fresh database on the test server, unless one is given.
    let (database, mut options) = match &config.database_url {
        Some(url) => (
            None,
            PostgresOptions::from_url(url).expect("--database-url"),
        ),
        None => {
            let database = TestDatabase::create().await;
            let options = database.options();
            (Some(database), options)
        }
    };
    options.max_connections = config.pool;
    options.max_batch = config.max_batch;
    let store = Arc::new(PostgresStore::open(options).await.expect("open store"));
    let engine = Arc::new(Engine::new(
        Arc::clone(&store) as Arc<dyn Store>,
        Arc::new(InProcessBus::default()),
        Limits::default(),
    ));
    let app = engine
        .create_application("bench")
        .await
        .expect("create application")
        .application
        .id;
    let actor = Actor::App(app);
    let user = engine
        .create_user(
            &actor,
            CreateUser {
                name: "sender".into(),
                display_name: None,
                is_guest: false,
                kind: UserKind::Person,
                properties: serde_json::Value::Null,
            },
        )
        .await
        .expect("create user");
    let mut channels = Vec::with_capacity(config.channels);
    for i in 0..config.channels {
        let (view, _) = engine
            .create_channel(
                &actor,
                CreateChannel {
                    kind: ChannelKind::Public,
                    name: Some(format!("room-{i}")),
                    display_name: None,
                    creator: None,
                    members: vec![],
                    properties: serde_json::Value::Null,
                    live: None,
                },
            )
            .await
            .expect("create channel");
        channels.push(view.channel.id);
    }
    let load = Load {
        engine: Arc::clone(&engine),
        actor,
        user: UserRef::Id(user.id),
        channels,
        senders: config.senders,
        body: Arc::from("x".repeat(config.body_bytes)),
        store_only: config.store_only,
        keyed: config.keyed,
    };

    // Warm up: prepared statements, the pool, the server's caches.
    load.run((config.messages / 20).clamp(1, 10_000), "warmup")
        .await;

    let stats_before = store.stats();
    let cpu_before = process_cpu();
    let server_before = postgres_cpu();
    let (mut latencies, wall) = load.run(config.messages, "run").await;
    let cpu_after = process_cpu();
    let server_after = postgres_cpu();
    let stats_after = store.stats();

    latencies.sort_unstable();
    let sent = latencies.len();
    let commits = stats_after.commits - stats_before.commits;
    let appended = stats_after.messages_appended - stats_before.messages_appended;
    let per_second = sent as f64 / wall.as_secs_f64();
    if config.store_only {
        println!("append_throughput: PostgreSQL store, Store::append_message directly (no Engine)");
    } else {
        println!("append_throughput: PostgreSQL store through Engine::send_message");
    }
    println!(
        "  config        senders={} messages={} channels={} max_batch={} pool={} body={}B keyed={}",
        config.senders,
        config.messages,
        config.channels,
        config.max_batch,
        config.pool,
        config.body_bytes,
        config.keyed
    );
    println!("  wall time     {:.3} s", wall.as_secs_f64());
    println!("  throughput    {per_second:.0} messages/s");
    println!(
        "  commits       {commits} ({:.1} messages per commit)",
        appended as f64 / commits.max(1) as f64
    );
    match (cpu_before, cpu_after) {
        (Some(before), Some(after)) => {
            let cpu = after.saturating_sub(before);
            println!(
                "  cpu           {:.3} s = {:.2} µs per message, {:.2} cores busy, {:.0} messages/s per core",
                cpu.as_secs_f64(),
                cpu.as_secs_f64() * 1e6 / sent as f64,
                cpu.as_secs_f64() / wall.as_secs_f64(),
                sent as f64 / cpu.as_secs_f64().max(1e-9)
            );
        }
        _ => println!("  cpu           unavailable (no /proc/self/stat)"),
    }
    if let (Some(before), Some(after)) = (server_before, server_after) {
        let cpu = after.saturating_sub(before);
        println!(
            "  server cpu    {:.3} s = {:.2} µs per message (every local postgres process)",
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / sent as f64,
        );
    }
    println!(
        "  ack latency   p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 0.999)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    assert_eq!(
        appended as usize, sent,
        "every acknowledged send was appended"
    );
    store.close().await;
    drop(database);
}

fn main() {
    let config = Config::from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(bench(config));
}
