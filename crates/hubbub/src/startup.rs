//! Start-up wiring: one path, used by `main` and by the integration tests (which
//! start the same [`Application`] on port 0).

use crate::cluster::ClusterNode;
use crate::config::Config;
use anyhow::Context;
use axum::serve::ListenerExt;
use hubbub_api::{ApiConfig, AppState};
use hubbub_core::Engine;
use hubbub_core::bus::{Bus, InProcessBus};
use hubbub_core::limits::Limits;
use hubbub_core::presence::{MemoryPresence, Presence};
use hubbub_core::store::Store;
use hubbub_store_postgres::{PostgresOptions, PostgresStore, is_postgres_url};
use hubbub_store_sqlite::{Durability, SqliteOptions, SqliteStore};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Opens the store named by the configuration (running its migrations): PostgreSQL
/// for a `postgres://` URL, SQLite otherwise.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.effective_database_url();
    let cannot_open = |e: hubbub_core::Error| {
        anyhow::anyhow!(
            "cannot open database {}: {e}",
            crate::config::redact_url(&url)
        )
    };
    if is_postgres_url(&url) {
        let options = PostgresOptions::from_url(&url).map_err(cannot_open)?;
        let store = PostgresStore::open(options).await.map_err(cannot_open)?;
        return Ok(Arc::new(store));
    }
    let mut options = SqliteOptions::from_url(&url).map_err(|e| anyhow::anyhow!("{e}"))?;
    options.synchronous = match config.storage.sqlite_synchronous.as_str() {
        "normal" => Durability::Normal,
        _ => Durability::Full,
    };
    let store = SqliteStore::open(options).await.map_err(cannot_open)?;
    Ok(Arc::new(store))
}

/// Builds the engine over a store with the configured limits.
pub fn engine(config: &Config, store: Arc<dyn Store>) -> Arc<Engine> {
    Arc::new(engine_on(config, store, Arc::new(InProcessBus::default())))
}

/// The engine on a given bus.
fn engine_on(config: &Config, store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Engine {
    let limits = Limits {
        max_message_bytes: config.limits.max_message_bytes,
        ..Limits::default()
    };
    Engine::new(store, bus, limits).with_jobs(config.imports.jobs_config(&config.data_dir))
}

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    engine: Arc<Engine>,
    gateway: Arc<hubbub_api::gateway::Gateway>,
    cluster: Option<ClusterNode>,
}

impl Application {
    /// Opens storage, wires the engine and binds the listener (port 0 picks a free
    /// port; see [`Application::local_addr`]).
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let store = open_store(config).await?;
        Self::build_with_store(config, store).await
    }

    /// [`Application::build`] over an open store (nodes of a cluster in one test
    /// process share one).
    pub async fn build_with_store(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let cluster = ClusterNode::join(config).await?;
        let (engine, presence): (_, Arc<dyn Presence>) = match &cluster {
            Some(node) => (
                Arc::new(
                    engine_on(config, store, node.bus()).with_online_users(node.online_users()),
                ),
                node.presence(),
            ),
            None => (engine(config, store), Arc::new(MemoryPresence::new())),
        };
        if cluster.is_none() {
            // No realtime connection survives a restart: sessions left ACTIVE have
            // ended. (In a cluster the other nodes' sessions are live: they stay.)
            let ended = engine
                .end_stale_sessions()
                .await
                .context("cannot end the sessions of the previous run")?;
            if ended > 0 {
                tracing::info!(ended, "ended user sessions left active by the previous run");
            }
        }
        let api = ApiConfig {
            max_body_bytes: config.limits.max_body_bytes,
            max_json_depth: config.limits.max_json_depth,
            access_token_ttl: Duration::from_secs(config.auth.access_token_ttl_secs),
            allmine_otp_in_response: config.auth.allmine_otp_in_response,
        };
        let state = AppState::with_presence(
            engine.clone(),
            api,
            config.realtime.gateway_config(),
            presence,
        );
        let gateway = state.gateway.clone();
        let router = hubbub_api::router(state);
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        Ok(Self {
            listener,
            router,
            engine,
            gateway,
            cluster,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight
    /// requests finish and returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let engine = self.engine.clone();
        let purge = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                match engine
                    .store()
                    .purge_expired_tokens(hubbub_core::model::now())
                    .await
                {
                    Ok(n) if n > 0 => tracing::debug!(purged = n, "expired access tokens removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not purge expired tokens"),
                }
            }
        });
        // Imports and exports: heartbeats of this process's jobs, and the verdict on
        // jobs of processes that went away.
        let keeper = self.engine.start_job_keeper();
        // Realtime connections outlive their HTTP upgrade, so the gateway drains them
        // itself: on the signal every session is told to reconnect (3001) and SSE
        // streams end, then the HTTP server finishes its in-flight requests.
        let gateway = self.gateway.clone();
        let shutdown = async move {
            shutdown.await;
            gateway.begin_shutdown();
        };
        // TCP_NODELAY on every connection: a realtime push must leave when it is
        // written. With Nagle's algorithm a small write waits for the ACK of the one
        // before, and a viewer that only reads delays its ACKs by up to 40 ms, so each
        // push could sit in the kernel that long. Batching is the gateway's business
        // (one write per connection per wake-up, the node's write budget).
        let listener = self.listener.tap_io(|stream| {
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        let result = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        purge.abort();
        keeper.abort();
        self.engine.stop_jobs().await;
        self.gateway.drained().await;
        if let Some(cluster) = &self.cluster {
            cluster.leave().await;
        }
        result.context("server failed")
    }
}

/// Completes on SIGTERM or SIGINT.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    // The handlers are installed now, not when the future is first polled: a SIGTERM
    // that arrives right after the server says it listens must drain it, not kill it
    // with the default action.
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let terminate = async {
                match terminate.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = terminate => {},
                _ = interrupt => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown signal received; draining");
    }
}
