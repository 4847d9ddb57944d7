//! Prometheus metrics of the HTTP edge, kept in atomics (no locks on the hot path).

use crate::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// Upper bounds (seconds) of the request latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
pub struct HttpMetrics {
    in_flight: AtomicU64,
    by_class: [AtomicU64; 5],
    bucket_counts: [AtomicU64; BUCKETS.len()],
    latency_sum_micros: AtomicU64,
    count: AtomicU64,
}

impl HttpMetrics {
    fn record(&self, status: u16, seconds: f64) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.by_class[class].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add((seconds * 1e6) as u64, Relaxed);
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.bucket_counts[i].fetch_add(1, Relaxed);
        }
    }

    /// Renders the edge's metrics in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP hubbub_http_requests_in_flight Requests being served."
        );
        let _ = writeln!(out, "# TYPE hubbub_http_requests_in_flight gauge");
        let _ = writeln!(
            out,
            "hubbub_http_requests_in_flight {}",
            self.in_flight.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP hubbub_http_responses_total Responses by status class."
        );
        let _ = writeln!(out, "# TYPE hubbub_http_responses_total counter");
        for (i, c) in self.by_class.iter().enumerate() {
            let _ = writeln!(
                out,
                "hubbub_http_responses_total{{class=\"{}xx\"}} {}",
                i + 1,
                c.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP hubbub_http_request_duration_seconds Request latency."
        );
        let _ = writeln!(out, "# TYPE hubbub_http_request_duration_seconds histogram");
        let mut cumulative = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cumulative += self.bucket_counts[i].load(Relaxed);
            let _ = writeln!(
                out,
                "hubbub_http_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(
            out,
            "hubbub_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "hubbub_http_request_duration_seconds_sum {}",
            self.latency_sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "hubbub_http_request_duration_seconds_count {count}");
    }
}

/// Middleware counting every response by status class and latency.
pub async fn track_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let metrics = &state.metrics;
    metrics.in_flight.fetch_add(1, Relaxed);
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.in_flight.fetch_sub(1, Relaxed);
    metrics.record(response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}
