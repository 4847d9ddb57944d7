use crate::gateway::{Gateway, RealtimeConfig};
use crate::metrics::HttpMetrics;
use hubbub_core::Engine;
use hubbub_core::ids::AppId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Settings of the HTTP edge.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest accepted JSON request body, in bytes.
    pub max_body_bytes: usize,
    /// Deepest accepted JSON nesting.
    pub max_json_depth: usize,
    /// Lifetime of OAuth access tokens.
    pub access_token_ttl: Duration,
    /// Whether Allmine's `send-otp` answers carry the code. hubbub sends no mail or
    /// SMS, so with `false` nobody learns a code and OTP logins are off (Allmine
    /// tokens then come from `hubbub token --for allmine`).
    pub allmine_otp_in_response: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            max_json_depth: 32,
            access_token_ttl: Duration::from_secs(3600),
            allmine_otp_in_response: true,
        }
    }
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub config: Arc<ApiConfig>,
    pub metrics: Arc<HttpMetrics>,
    /// The realtime gateway (WebSocket, SSE, fan-out hub, presence).
    pub gateway: Arc<Gateway>,
    token_cache: Arc<TokenCache>,
}

impl AppState {
    /// State with the default realtime settings. Needs a Tokio runtime (the
    /// gateway's fan-out hub starts here).
    pub fn new(engine: Arc<Engine>, config: ApiConfig) -> Self {
        Self::with_realtime(engine, config, RealtimeConfig::default())
    }

    pub fn with_realtime(engine: Arc<Engine>, config: ApiConfig, realtime: RealtimeConfig) -> Self {
        Self::with_presence(
            engine,
            config,
            realtime,
            Arc::new(hubbub_core::presence::MemoryPresence::new()),
        )
    }

    /// State whose gateway keeps presence in `presence` (the cluster's, when scaled
    /// out).
    pub fn with_presence(
        engine: Arc<Engine>,
        config: ApiConfig,
        realtime: RealtimeConfig,
        presence: Arc<dyn hubbub_core::presence::Presence>,
    ) -> Self {
        Self {
            gateway: Gateway::with_presence(engine.clone(), realtime, presence),
            engine,
            config: Arc::new(config),
            metrics: Arc::new(HttpMetrics::default()),
            token_cache: Arc::new(TokenCache::default()),
        }
    }

    /// The application a bearer token belongs to. Hits the store once per token per
    /// minute at most; expiry is always checked.
    pub(crate) async fn authenticate(&self, token: &str) -> hubbub_core::Result<Option<AppId>> {
        if let Some(app) = self.token_cache.get(token) {
            return Ok(Some(app));
        }
        let found = self.engine.authenticate_access_token(token).await?;
        if let Some((app, expires_at)) = found {
            let left = (expires_at - chrono::Utc::now())
                .to_std()
                .unwrap_or_default();
            self.token_cache.put(token, app, left.min(TOKEN_CACHE_TTL));
        }
        Ok(found.map(|(app, _)| app))
    }
}

/// A small cache of recently verified tokens, so a busy client does not cost a store
/// read per request. An entry lives for a minute at most and never past the token's
/// own expiry.
#[derive(Default)]
struct TokenCache {
    /// token → (application, valid until)
    entries: Mutex<HashMap<String, (AppId, Instant)>>,
}

const TOKEN_CACHE_TTL: Duration = Duration::from_secs(60);
const TOKEN_CACHE_MAX: usize = 10_000;

impl TokenCache {
    fn get(&self, token: &str) -> Option<AppId> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(token)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(app, _)| *app)
    }

    fn put(&self, token: &str, app: AppId, valid_for: Duration) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= TOKEN_CACHE_MAX {
                let now = Instant::now();
                entries.retain(|_, (_, until)| now < *until);
                if entries.len() >= TOKEN_CACHE_MAX {
                    entries.clear();
                }
            }
            entries.insert(token.to_owned(), (app, Instant::now() + valid_for));
        }
    }
}
