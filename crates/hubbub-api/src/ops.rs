//! Operations endpoints: liveness, readiness and Prometheus metrics.

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::fmt::Write;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// `GET /healthz`: the process is up and serving.
async fn healthz() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

/// `GET /readyz`: the database answers with migrations applied and the bus is up.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.engine.check_ready().await {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ready"}"#.to_owned(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::json!({"status": "not ready", "reason": e.to_string()}).to_string(),
            )
        }
    }
}

/// `GET /metrics`: Prometheus text format.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::with_capacity(4096);
    state.metrics.render(&mut out);
    let stats = state.engine.store().stats();
    let _ = writeln!(
        out,
        "# HELP hubbub_store_commits_total Transactions committed by the store writer."
    );
    let _ = writeln!(out, "# TYPE hubbub_store_commits_total counter");
    let _ = writeln!(out, "hubbub_store_commits_total {}", stats.commits);
    let _ = writeln!(
        out,
        "# HELP hubbub_store_messages_appended_total Messages durably appended."
    );
    let _ = writeln!(out, "# TYPE hubbub_store_messages_appended_total counter");
    let _ = writeln!(
        out,
        "hubbub_store_messages_appended_total {}",
        stats.messages_appended
    );
    let _ = writeln!(
        out,
        "# HELP hubbub_store_writes_total Write operations applied by the store."
    );
    let _ = writeln!(out, "# TYPE hubbub_store_writes_total counter");
    let _ = writeln!(out, "hubbub_store_writes_total {}", stats.writes);
    state.gateway.render_metrics(&mut out);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}
