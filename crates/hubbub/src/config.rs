//! The configuration: one typed struct, layered defaults → `hubbub.toml` (or
//! `--config FILE`) → `HUBBUB_*` environment → command-line flags.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything an operator can set. Each field documents its key, variable and flag.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. `listen`, `HUBBUB_LISTEN`, `--listen`.
    pub listen: SocketAddr,
    /// Directory for the embedded database and other state. `data_dir`,
    /// `HUBBUB_DATA_DIR`, `--data-dir`.
    pub data_dir: PathBuf,
    /// Database URL; empty means `sqlite://<data_dir>/hubbub.db`, and
    /// `postgres://user:password@host:port/db` selects PostgreSQL (for several nodes
    /// sharing one database). May hold a password, so it is redacted in logs.
    /// `database_url`, `HUBBUB_DATABASE_URL`, `--database-url`.
    pub database_url: String,
    pub log: LogConfig,
    pub limits: LimitsConfig,
    pub auth: AuthConfig,
    pub storage: StorageConfig,
    pub realtime: RealtimeSection,
    pub imports: ImportsConfig,
    pub cluster: ClusterConfig,
}

/// Several nodes serving one cluster: NATS carries events between them and holds
/// the cluster's presence. Without a NATS URL the node runs alone (in-process bus).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// NATS server URL(s), comma-separated; empty = a single node. May hold a
    /// password, so it is redacted in logs. `cluster.nats_url`, `HUBBUB_NATS_URL`,
    /// `--nats-url`.
    pub nats_url: String,
    /// First token of the event subjects (`<prefix>.<app>.<channel>`), so several
    /// clusters can share a NATS. `HUBBUB_NATS_SUBJECT_PREFIX`.
    pub subject_prefix: String,
    /// The NATS KV bucket of the cluster's presence. `HUBBUB_NATS_PRESENCE_BUCKET`.
    pub presence_bucket: String,
    /// Seconds a node's presence outlives its last heartbeat (a node that dies
    /// disappears from presence after this). `HUBBUB_NATS_PRESENCE_TTL_SECS`.
    pub presence_ttl_secs: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            nats_url: String::new(),
            subject_prefix: "hubbub".into(),
            presence_bucket: "hubbub_presence".into(),
            presence_ttl_secs: 15,
        }
    }
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("nats_url", &redact_url(&self.nats_url))
            .field("subject_prefix", &self.subject_prefix)
            .field("presence_bucket", &self.presence_bucket)
            .field("presence_ttl_secs", &self.presence_ttl_secs)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` or `json`. `HUBBUB_LOG_FORMAT`.
    pub format: LogFormat,
    /// Filter directives when `RUST_LOG` is unset, e.g. `info,hubbub=debug`.
    /// `HUBBUB_LOG_LEVEL`.
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest message body in bytes. `HUBBUB_MAX_MESSAGE_BYTES`.
    pub max_message_bytes: usize,
    /// Largest JSON request body in bytes. `HUBBUB_MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// Deepest JSON nesting accepted in a request body.
    pub max_json_depth: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Lifetime of OAuth access tokens, in seconds. `HUBBUB_ACCESS_TOKEN_TTL_SECS`.
    pub access_token_ttl_secs: u64,
    /// Whether Allmine's `send-otp` answers carry the one-time code (hubbub sends no
    /// mail or SMS, so `false` turns OTP logins off). `HUBBUB_ALLMINE_OTP_IN_RESPONSE`.
    pub allmine_otp_in_response: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// SQLite durability: `full` (an acknowledged write survives power loss; the
    /// default) or `normal` (faster; the last writes may be lost on power loss or an
    /// OS crash, never on a process crash). `HUBBUB_SQLITE_SYNCHRONOUS`.
    pub sqlite_synchronous: String,
}

/// The realtime gateway: WebSocket (Centrifugo protocol) and SSE.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealtimeSection {
    /// Seconds between server pings; a client that has not answered the previous
    /// ping by the next is disconnected. `HUBBUB_REALTIME_PING_INTERVAL_SECS`.
    pub ping_interval_secs: u64,
    /// Largest incoming WebSocket message in bytes; larger ones close the
    /// connection with 1009. `HUBBUB_REALTIME_MAX_FRAME_BYTES`.
    pub max_frame_bytes: usize,
    /// Channels one connection may subscribe to (error 106 beyond).
    /// `HUBBUB_REALTIME_MAX_SUBSCRIPTIONS`.
    pub max_subscriptions: usize,
    /// Open realtime connections per client IP, 0 = unlimited (close 3504 beyond).
    /// `HUBBUB_REALTIME_MAX_CONNECTIONS_PER_IP`.
    pub max_connections_per_ip: usize,
    /// Open realtime connections per user, 0 = unlimited (close 3504 beyond).
    /// `HUBBUB_REALTIME_MAX_CONNECTIONS_PER_USER`.
    pub max_connections_per_user: usize,
    /// Sustained commands per second per connection, 0 = unlimited (error 111
    /// beyond). `HUBBUB_REALTIME_COMMANDS_PER_SECOND`.
    pub commands_per_second: u32,
    /// Commands a connection may send at once above the sustained rate.
    /// `HUBBUB_REALTIME_COMMAND_BURST`.
    pub command_burst: u32,
    /// Bytes queued for one connection before it counts as slow and is
    /// disconnected (3008). `HUBBUB_REALTIME_QUEUE_MAX_BYTES`.
    pub queue_max_bytes: usize,
    /// Shortest interval in milliseconds between two socket writes of one
    /// connection; messages queued meanwhile share the next write (the first after a
    /// quiet spell goes out at once). 0 = no pacing. `HUBBUB_REALTIME_WRITE_COALESCE_MS`.
    pub write_coalesce_ms: u64,
    /// Socket writes per second for all realtime connections of the node together;
    /// beyond it writers take turns and carry more messages per write (bounded CPU,
    /// latency growing with load instead of a saturated node). 0 = automatic:
    /// 25,000 per CPU core. `HUBBUB_REALTIME_MAX_WRITES_PER_SECOND`.
    pub max_writes_per_second: u64,
    /// Most messages a resubscribe (or SSE resume) recovers; beyond that the client
    /// is told `recovered: false`. `HUBBUB_REALTIME_RECOVERY_MAX_PUBLICATIONS`.
    pub recovery_max_publications: u32,
    /// Read and write buffer of each WebSocket, in bytes.
    /// `HUBBUB_REALTIME_WS_BUFFER_BYTES`.
    pub ws_buffer_bytes: usize,
    /// Serve the echo endpoint `/connection/autobahn-echo` (only for
    /// `scripts/autobahn.sh`). `HUBBUB_REALTIME_AUTOBAHN_ECHO`.
    pub autobahn_echo: bool,
    /// Browser origins allowed to open realtime connections, e.g.
    /// `["https://example.com"]`; empty allows all. Requests without `Origin`
    /// (non-browser clients) are always allowed. `HUBBUB_REALTIME_ALLOWED_ORIGINS`
    /// (comma-separated).
    pub allowed_origins: Vec<String>,
}

/// Imports, analytics exports and the background jobs that run them. Upload spools
/// and export files live in `<data_dir>/jobs/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportsConfig {
    /// Largest import file in bytes; a larger upload gets 413 and nothing is
    /// imported. `HUBBUB_IMPORT_MAX_FILE_BYTES`.
    pub max_file_bytes: u64,
    /// Most items in one import file; more is a 400 before anything is imported.
    /// `HUBBUB_IMPORT_MAX_ITEMS`.
    pub max_items: u64,
    /// Messages appended per store batch (one or a few transactions each).
    /// `HUBBUB_IMPORT_BATCH_SIZE`.
    pub batch_size: usize,
    /// Failed items listed on a job (their count is always exact).
    /// `HUBBUB_IMPORT_MAX_ERRORS`.
    pub max_errors: usize,
    /// Jobs one process runs at once; the others wait `PENDING`.
    /// `HUBBUB_JOBS_MAX_CONCURRENT`.
    pub max_concurrent_jobs: usize,
    /// Seconds without a heartbeat after which a job's process counts as gone and
    /// the job is marked `FAILED` ("interrupted"). `HUBBUB_JOBS_STALE_AFTER_SECS`.
    pub stale_after_secs: u64,
}

impl Default for ImportsConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: 1 << 30,
            max_items: 10_000_000,
            batch_size: 4096,
            max_errors: 100,
            max_concurrent_jobs: 2,
            stale_after_secs: 30,
        }
    }
}

impl ImportsConfig {
    /// The engine's jobs settings, with files under `<data_dir>/jobs`.
    pub fn jobs_config(&self, data_dir: &Path) -> hubbub_core::engine::JobsConfig {
        hubbub_core::engine::JobsConfig {
            dir: data_dir.join("jobs"),
            max_file_bytes: self.max_file_bytes,
            max_items: self.max_items,
            batch_size: self.batch_size,
            max_errors: self.max_errors,
            max_concurrent: self.max_concurrent_jobs,
            stale_after: std::time::Duration::from_secs(self.stale_after_secs),
        }
    }
}

impl Default for RealtimeSection {
    fn default() -> Self {
        Self {
            ping_interval_secs: 25,
            max_frame_bytes: 65_536,
            max_subscriptions: 128,
            max_connections_per_ip: 1000,
            max_connections_per_user: 20,
            commands_per_second: 50,
            command_burst: 100,
            queue_max_bytes: 1_048_576,
            write_coalesce_ms: 0,
            max_writes_per_second: 0,
            recovery_max_publications: 1000,
            ws_buffer_bytes: 1024,
            autobahn_echo: false,
            allowed_origins: Vec::new(),
        }
    }
}

/// Realtime writes per second per CPU core when `max_writes_per_second` is 0. A
/// write measured about 10 µs of server CPU all told on loopback (syscall, TCP, the
/// receiver's side that loopback charges to the sender, framing, waking the writer),
/// so this keeps fan-out writes to about a quarter of each core and leaves the rest
/// to the API that accepts messages (unpaced, a saturated gateway starved it).
const WRITES_PER_SECOND_PER_CORE: u64 = 25_000;

impl RealtimeSection {
    /// `max_writes_per_second`, with 0 resolved for this machine.
    pub fn effective_max_writes_per_second(&self) -> u64 {
        if self.max_writes_per_second > 0 {
            return self.max_writes_per_second;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        WRITES_PER_SECOND_PER_CORE * cores
    }

    /// The gateway's settings.
    pub fn gateway_config(&self) -> hubbub_api::gateway::RealtimeConfig {
        use std::time::Duration;
        hubbub_api::gateway::RealtimeConfig {
            ping_interval: Duration::from_secs(self.ping_interval_secs),
            max_frame_bytes: self.max_frame_bytes,
            max_subscriptions: self.max_subscriptions,
            max_connections_per_ip: self.max_connections_per_ip,
            max_connections_per_user: self.max_connections_per_user,
            commands_per_second: self.commands_per_second,
            command_burst: self.command_burst,
            queue_max_bytes: self.queue_max_bytes,
            write_coalesce: Duration::from_millis(self.write_coalesce_ms),
            max_writes_per_second: self.effective_max_writes_per_second(),
            recovery_max_publications: self.recovery_max_publications,
            ws_buffer_bytes: self.ws_buffer_bytes,
            autobahn_echo: self.autobahn_echo,
            allowed_origins: self.allowed_origins.clone(),
            ..Default::default()
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./hubbub-data"),
            database_url: String::new(),
            log: LogConfig::default(),
            limits: LimitsConfig::default(),
            auth: AuthConfig::default(),
            storage: StorageConfig::default(),
            realtime: RealtimeSection::default(),
            imports: ImportsConfig::default(),
            cluster: ClusterConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            level: "info".into(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 4096,
            max_body_bytes: 256 * 1024,
            max_json_depth: 32,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 3600,
            allmine_otp_in_response: true,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            sqlite_synchronous: "full".into(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("log", &self.log)
            .field("limits", &self.limits)
            .field("auth", &self.auth)
            .field("storage", &self.storage)
            .field("realtime", &self.realtime)
            .field("imports", &self.imports)
            .field("cluster", &self.cluster)
            .finish()
    }
}

/// Hides the password of a `scheme://user:password@host/...` URL.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:[redacted]@{host}");
    }
    url.to_owned()
}

/// Values given on the command line; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub nats_url: Option<String>,
}

impl Config {
    /// Loads the layered configuration. `file` is `--config`; without it,
    /// `./hubbub.toml` is read if present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        Self::load_from(file, overrides, |key| std::env::var(key).ok())
    }

    /// [`Config::load`] with an injectable environment (for tests).
    pub fn load_from(
        file: Option<&Path>,
        overrides: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None if Path::new("hubbub.toml").exists() => Self::from_file(Path::new("hubbub.toml"))?,
            None => Self::default(),
        };
        config.apply_env(env)?;
        if let Some(listen) = overrides.listen {
            config.listen = listen;
        }
        if let Some(dir) = &overrides.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(url) = &overrides.database_url {
            config.database_url = url.clone();
        }
        if let Some(url) = &overrides.nats_url {
            config.cluster.nats_url = url.clone();
        }
        config.validate()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(key: &str, value: &str) -> anyhow::Result<T>
        where
            T::Err: std::fmt::Display,
        {
            value
                .parse()
                .map_err(|e| anyhow::anyhow!("{key}={value:?} is invalid: {e}"))
        }
        if let Some(v) = env("HUBBUB_LISTEN") {
            self.listen = parse("HUBBUB_LISTEN", &v)?;
        }
        if let Some(v) = env("HUBBUB_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env("HUBBUB_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = env("HUBBUB_LOG_FORMAT") {
            self.log.format = match v.as_str() {
                "pretty" => LogFormat::Pretty,
                "json" => LogFormat::Json,
                _ => bail!("HUBBUB_LOG_FORMAT must be pretty or json, not {v:?}"),
            };
        }
        if let Some(v) = env("HUBBUB_LOG_LEVEL") {
            self.log.level = v;
        }
        if let Some(v) = env("HUBBUB_MAX_MESSAGE_BYTES") {
            self.limits.max_message_bytes = parse("HUBBUB_MAX_MESSAGE_BYTES", &v)?;
        }
        if let Some(v) = env("HUBBUB_MAX_BODY_BYTES") {
            self.limits.max_body_bytes = parse("HUBBUB_MAX_BODY_BYTES", &v)?;
        }
        if let Some(v) = env("HUBBUB_ACCESS_TOKEN_TTL_SECS") {
            self.auth.access_token_ttl_secs = parse("HUBBUB_ACCESS_TOKEN_TTL_SECS", &v)?;
        }
        if let Some(v) = env("HUBBUB_ALLMINE_OTP_IN_RESPONSE") {
            self.auth.allmine_otp_in_response = parse("HUBBUB_ALLMINE_OTP_IN_RESPONSE", &v)?;
        }
        if let Some(v) = env("HUBBUB_SQLITE_SYNCHRONOUS") {
            self.storage.sqlite_synchronous = v;
        }
        let im = &mut self.imports;
        macro_rules! imports_env {
            ($($key:literal => $field:ident),* $(,)?) => {$(
                if let Some(v) = env($key) {
                    im.$field = parse($key, &v)?;
                }
            )*};
        }
        imports_env!(
            "HUBBUB_IMPORT_MAX_FILE_BYTES" => max_file_bytes,
            "HUBBUB_IMPORT_MAX_ITEMS" => max_items,
            "HUBBUB_IMPORT_BATCH_SIZE" => batch_size,
            "HUBBUB_IMPORT_MAX_ERRORS" => max_errors,
            "HUBBUB_JOBS_MAX_CONCURRENT" => max_concurrent_jobs,
            "HUBBUB_JOBS_STALE_AFTER_SECS" => stale_after_secs,
        );
        if let Some(v) = env("HUBBUB_NATS_URL") {
            self.cluster.nats_url = v;
        }
        if let Some(v) = env("HUBBUB_NATS_SUBJECT_PREFIX") {
            self.cluster.subject_prefix = v;
        }
        if let Some(v) = env("HUBBUB_NATS_PRESENCE_BUCKET") {
            self.cluster.presence_bucket = v;
        }
        if let Some(v) = env("HUBBUB_NATS_PRESENCE_TTL_SECS") {
            self.cluster.presence_ttl_secs = parse("HUBBUB_NATS_PRESENCE_TTL_SECS", &v)?;
        }
        let rt = &mut self.realtime;
        macro_rules! realtime_env {
            ($($key:literal => $field:ident),* $(,)?) => {$(
                if let Some(v) = env($key) {
                    rt.$field = parse($key, &v)?;
                }
            )*};
        }
        realtime_env!(
            "HUBBUB_REALTIME_PING_INTERVAL_SECS" => ping_interval_secs,
            "HUBBUB_REALTIME_MAX_FRAME_BYTES" => max_frame_bytes,
            "HUBBUB_REALTIME_MAX_SUBSCRIPTIONS" => max_subscriptions,
            "HUBBUB_REALTIME_MAX_CONNECTIONS_PER_IP" => max_connections_per_ip,
            "HUBBUB_REALTIME_MAX_CONNECTIONS_PER_USER" => max_connections_per_user,
            "HUBBUB_REALTIME_COMMANDS_PER_SECOND" => commands_per_second,
            "HUBBUB_REALTIME_COMMAND_BURST" => command_burst,
            "HUBBUB_REALTIME_QUEUE_MAX_BYTES" => queue_max_bytes,
            "HUBBUB_REALTIME_WRITE_COALESCE_MS" => write_coalesce_ms,
            "HUBBUB_REALTIME_MAX_WRITES_PER_SECOND" => max_writes_per_second,
            "HUBBUB_REALTIME_RECOVERY_MAX_PUBLICATIONS" => recovery_max_publications,
            "HUBBUB_REALTIME_WS_BUFFER_BYTES" => ws_buffer_bytes,
            "HUBBUB_REALTIME_AUTOBAHN_ECHO" => autobahn_echo,
        );
        if let Some(v) = env("HUBBUB_REALTIME_ALLOWED_ORIGINS") {
            rt.allowed_origins = v
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect();
        }
        Ok(())
    }

    /// Checks cross-field rules so a bad configuration fails at start, clearly.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(1..=1024 * 1024).contains(&self.limits.max_message_bytes) {
            bail!("limits.max_message_bytes must be 1 to 1048576");
        }
        if self.limits.max_body_bytes < self.limits.max_message_bytes + 1024 {
            bail!("limits.max_body_bytes must exceed limits.max_message_bytes by at least 1024");
        }
        if !(2..=256).contains(&self.limits.max_json_depth) {
            bail!("limits.max_json_depth must be 2 to 256");
        }
        if !(60..=30 * 86_400).contains(&self.auth.access_token_ttl_secs) {
            bail!("auth.access_token_ttl_secs must be 60 to 2592000");
        }
        if !matches!(self.storage.sqlite_synchronous.as_str(), "full" | "normal") {
            bail!("storage.sqlite_synchronous must be full or normal");
        }
        let rt = &self.realtime;
        if !(1..=3600).contains(&rt.ping_interval_secs) {
            bail!("realtime.ping_interval_secs must be 1 to 3600");
        }
        if !(256..=16 * 1024 * 1024).contains(&rt.max_frame_bytes) {
            bail!("realtime.max_frame_bytes must be 256 to 16777216");
        }
        if rt.max_subscriptions == 0 {
            bail!("realtime.max_subscriptions must be at least 1");
        }
        if rt.queue_max_bytes < rt.max_frame_bytes {
            bail!("realtime.queue_max_bytes must be at least realtime.max_frame_bytes");
        }
        if rt.write_coalesce_ms > 1000 {
            bail!("realtime.write_coalesce_ms must be 0 to 1000");
        }
        if !(1..=100_000).contains(&rt.recovery_max_publications) {
            bail!("realtime.recovery_max_publications must be 1 to 100000");
        }
        if !(512..=1024 * 1024).contains(&rt.ws_buffer_bytes) {
            bail!("realtime.ws_buffer_bytes must be 512 to 1048576");
        }
        let im = &self.imports;
        if im.max_file_bytes < 1024 {
            bail!("imports.max_file_bytes must be at least 1024");
        }
        if im.max_items == 0 {
            bail!("imports.max_items must be at least 1");
        }
        if !(1..=65_536).contains(&im.batch_size) {
            bail!("imports.batch_size must be 1 to 65536");
        }
        if im.max_errors > 10_000 {
            bail!("imports.max_errors must be 0 to 10000");
        }
        if !(1..=64).contains(&im.max_concurrent_jobs) {
            bail!("imports.max_concurrent_jobs must be 1 to 64");
        }
        if !(1..=86_400).contains(&im.stale_after_secs) {
            bail!("imports.stale_after_secs must be 1 to 86400");
        }
        let cl = &self.cluster;
        let token_ok = |t: &str, extra: &[char]| {
            !t.is_empty()
                && t.chars().all(|c| {
                    c.is_ascii_alphanumeric() || c == '_' || c == '-' || extra.contains(&c)
                })
        };
        if !cl.subject_prefix.split('.').all(|t| token_ok(t, &[])) {
            bail!(
                "cluster.subject_prefix must be dot-separated tokens of letters, digits, - and _"
            );
        }
        if !token_ok(&cl.presence_bucket, &[]) {
            bail!("cluster.presence_bucket must be letters, digits, - and _");
        }
        if !(2..=3600).contains(&cl.presence_ttl_secs) {
            bail!("cluster.presence_ttl_secs must be 2 to 3600");
        }
        let url = self.effective_database_url();
        if !url.starts_with("sqlite:") && !hubbub_store_postgres::is_postgres_url(&url) {
            bail!(
                "database_url {:?} is not supported (sqlite://PATH or postgres://USER@HOST/DB)",
                redact_url(&url)
            );
        }
        Ok(())
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("hubbub.db").display())
        } else {
            self.database_url.clone()
        }
    }
}

/// The commented example printed by `hubbub config example`.
pub const EXAMPLE: &str = r#"# hubbub.toml — every key is optional; shown with its default.
# Precedence: defaults < this file < HUBBUB_* environment < command-line flags.

# Address to listen on (HUBBUB_LISTEN, --listen).
listen = "127.0.0.1:8080"

# Where the embedded database lives (HUBBUB_DATA_DIR, --data-dir).
data_dir = "./hubbub-data"

# Database URL (HUBBUB_DATABASE_URL, --database-url). Empty: sqlite://<data_dir>/hubbub.db
# postgres://USER:PASSWORD@HOST:5432/DB selects PostgreSQL, for several nodes sharing one
# database (optional ?max_connections=16&max_batch=4096: pool size, messages per commit).
database_url = ""

[log]
# "pretty" for people, "json" for log collectors (HUBBUB_LOG_FORMAT).
format = "pretty"
# Used when RUST_LOG is unset (HUBBUB_LOG_LEVEL).
level = "info"

[limits]
# Largest message body, in bytes of UTF-8 (HUBBUB_MAX_MESSAGE_BYTES).
max_message_bytes = 4096
# Largest JSON request body, in bytes (HUBBUB_MAX_BODY_BYTES). Larger bodies get 413.
max_body_bytes = 262144
# Deepest JSON nesting accepted in a request body.
max_json_depth = 32

[auth]
# Lifetime of OAuth access tokens from POST /oauth/token (HUBBUB_ACCESS_TOKEN_TTL_SECS).
access_token_ttl_secs = 3600
# Allmine's send-otp answers carry the one-time code. hubbub sends no mail or SMS, so
# false turns Allmine OTP logins off (HUBBUB_ALLMINE_OTP_IN_RESPONSE).
allmine_otp_in_response = true

[storage]
# "full": an acknowledged message survives power loss (group commit keeps it fast).
# "normal": faster; the newest writes may be lost on power loss (HUBBUB_SQLITE_SYNCHRONOUS).
sqlite_synchronous = "full"

[realtime]
# WebSocket (Centrifugo client protocol) and SSE. Seconds between server pings; a
# client that has not answered one ping by the next is disconnected (3012).
ping_interval_secs = 25
# Largest incoming WebSocket message; larger ones close the connection with 1009.
max_frame_bytes = 65536
# Channels one connection may subscribe to (error 106 beyond).
max_subscriptions = 128
# Open connections per client IP and per user; 0 = unlimited (close 3504 beyond).
max_connections_per_ip = 1000
max_connections_per_user = 20
# Commands per second per connection, sustained and burst; 0 = unlimited (error 111).
commands_per_second = 50
command_burst = 100
# Bytes queued for one connection before it counts as slow (disconnect 3008 "slow").
queue_max_bytes = 1048576
# Shortest interval (ms) between two writes of a connection; messages queued meanwhile
# share the next write. 0 = write whenever there is something to send.
write_coalesce_ms = 0
# Socket writes per second for all realtime connections together; beyond it writers
# take turns and each write carries more messages. 0 = automatic (25000 per CPU core).
max_writes_per_second = 0
# Most messages a resubscribe or SSE resume recovers; beyond: recovered = false.
recovery_max_publications = 1000
# Read and write buffer of each WebSocket, in bytes.
ws_buffer_bytes = 1024
# Serve /connection/autobahn-echo; only for scripts/autobahn.sh (HUBBUB_REALTIME_AUTOBAHN_ECHO).
autobahn_echo = false
# Browser origins allowed to connect, e.g. ["https://example.com"]; empty allows all.
# Requests without Origin (non-browser clients) are always allowed
# (HUBBUB_REALTIME_ALLOWED_ORIGINS, comma-separated).
allowed_origins = []

[imports]
# Imports (POST /imports/..., hubbub import), analytics exports and their jobs. Upload
# spools and export files live in <data_dir>/jobs/.
# Largest import file in bytes; larger uploads get 413 (HUBBUB_IMPORT_MAX_FILE_BYTES).
max_file_bytes = 1073741824
# Most items in one file; more is a 400 before anything is imported (HUBBUB_IMPORT_MAX_ITEMS).
max_items = 10000000
# Messages appended per store batch (HUBBUB_IMPORT_BATCH_SIZE).
batch_size = 4096
# Failed items listed on a job; their count is always exact (HUBBUB_IMPORT_MAX_ERRORS).
max_errors = 100
# Jobs one process runs at once; the others wait PENDING (HUBBUB_JOBS_MAX_CONCURRENT).
max_concurrent_jobs = 2
# Seconds without a heartbeat before a job's process counts as gone and the job is
# marked FAILED "interrupted" (HUBBUB_JOBS_STALE_AFTER_SECS).
stale_after_secs = 30

[cluster]
# Several nodes on one database serve one cluster when given a NATS server: events
# cross between nodes on NATS subjects, presence and online users live in a NATS KV
# bucket. Empty: this node runs alone (HUBBUB_NATS_URL, --nats-url).
nats_url = ""
# First token of the event subjects <prefix>.<app>.<channel> (HUBBUB_NATS_SUBJECT_PREFIX).
subject_prefix = "hubbub"
# KV bucket of the cluster's presence (HUBBUB_NATS_PRESENCE_BUCKET).
presence_bucket = "hubbub_presence"
# Seconds a node's presence outlives its last heartbeat; the same on every node
# (HUBBUB_NATS_PRESENCE_TTL_SECS).
presence_ttl_secs = 15
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hubbub.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndata_dir = \"/from-file\"\n[limits]\nmax_message_bytes = 100\n").unwrap();
        let env: HashMap<&str, &str> = [
            ("HUBBUB_DATA_DIR", "/from-env"),
            ("HUBBUB_LISTEN", "127.0.0.1:9001"),
        ]
        .into();
        let overrides = Overrides {
            listen: Some("127.0.0.1:9002".parse().unwrap()),
            ..Default::default()
        };
        let config = Config::load_from(Some(&file), &overrides, |k| {
            env.get(k).map(|v| v.to_string())
        })
        .unwrap();
        assert_eq!(config.listen.port(), 9002, "flag beats env and file");
        assert_eq!(
            config.data_dir,
            PathBuf::from("/from-env"),
            "env beats file"
        );
        assert_eq!(config.limits.max_message_bytes, 100, "file beats default");
        assert_eq!(config.auth.access_token_ttl_secs, 3600, "default stays");
        assert!(
            config.cluster.nats_url.is_empty(),
            "a single node by default"
        );
        let env = |k: &str| (k == "HUBBUB_NATS_URL").then(|| "nats://env:4222".to_string());
        let config = Config::load_from(None, &Overrides::default(), env).unwrap();
        assert_eq!(config.cluster.nats_url, "nats://env:4222");
        let flag = Overrides {
            nats_url: Some("nats://flag:4222".into()),
            ..Default::default()
        };
        let config = Config::load_from(None, &flag, env).unwrap();
        assert_eq!(
            config.cluster.nats_url, "nats://flag:4222",
            "flag beats env"
        );
    }

    #[test]
    fn the_example_is_the_default() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(format!("{parsed:?}"), format!("{:?}", Config::default()));
    }

    #[test]
    fn bad_values_are_refused() {
        let none = |_: &str| None;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "lisen = \"x\"").unwrap();
        assert!(Config::load_from(Some(&file), &Overrides::default(), none).is_err());
        let bad_env = |k: &str| (k == "HUBBUB_LISTEN").then(|| "nope".to_string());
        assert!(Config::load_from(None, &Overrides::default(), bad_env).is_err());
        let pg = Overrides {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        };
        assert!(Config::load_from(None, &pg, none).is_err());
    }

    #[test]
    fn postgres_urls_select_postgres() {
        let none = |_: &str| None;
        let flag = Overrides {
            database_url: Some("postgres://hub@db.internal:5432/chat".into()),
            ..Default::default()
        };
        let config = Config::load_from(None, &flag, none).unwrap();
        assert_eq!(
            config.effective_database_url(),
            "postgres://hub@db.internal:5432/chat"
        );
        let env =
            |k: &str| (k == "HUBBUB_DATABASE_URL").then(|| "postgresql://hub@db/chat".to_string());
        let config = Config::load_from(None, &Overrides::default(), env).unwrap();
        assert_eq!(config.effective_database_url(), "postgresql://hub@db/chat");
    }

    #[test]
    fn passwords_are_redacted() {
        let config = Config {
            database_url: "postgres://u:hunter2@db/x".into(),
            ..Config::default()
        };
        let config = Config {
            cluster: ClusterConfig {
                nats_url: "nats://n:natspass@nats:4222".into(),
                ..ClusterConfig::default()
            },
            ..config
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("natspass"));
        assert!(shown.contains("[redacted]"));
    }
}
