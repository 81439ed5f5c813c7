//! Operations: liveness (`/healthz`), readiness (`/readyz`), Prometheus metrics, and this
//! API's OpenAPI document.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::respond::{json, ok, St};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(get_health))
        .routes(routes!(get_ready))
        .routes(routes!(get_metrics))
        .routes(routes!(get_openapi))
}

/// The writer's state. 200 while the writer can write; 503 (same body) while it retries the
/// journal, another process holds the writer lease, or it stopped.
#[derive(Serialize, ToSchema)]
struct Health {
    /// `ok` or `unavailable`.
    status: &'static str,
    #[schema(value_type = String, pattern = "^(ok|retrying|not_writer|stopped)$")]
    writer: &'static str,
    #[schema(required = true)]
    last_journal_error: Option<String>,
    journal_errors: u64,
    /// The last committed journal sequence number.
    journal_seq: u64,
    /// The last event sequence number applied.
    event_seq: u64,
    /// Commands waiting for the writer.
    queue_depth: usize,
}

/// Liveness
///
/// The process answers, with the writer's state: 200 while the writer can write, 503 (same
/// body) while it cannot. Kept as it was for compatibility; a load balancer that should stop
/// sending traffic during shutdown asks `/readyz`.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "the writer can write", body = Health),
        (status = 503, description = "the writer cannot write now", body = Health)),
    extensions(("x-offernet-who" = json!("anyone"))))]
async fn get_health(st: St) -> Response {
    let journal_seq = st.writer.shared().stats.last_seq.load(Ordering::Relaxed);
    let event_seq = st.writer.read(|e| e.last_seq());
    let h = st.writer.health();
    // 503 while the writer cannot write (journal error, lease lost): a load balancer or an
    // orchestrator then routes writes elsewhere or restarts us.
    let up = h.state == offernet_store::WriterState::Ok;
    let body = Health {
        status: if up { "ok" } else { "unavailable" },
        writer: h.state.as_str(),
        last_journal_error: h.last_error,
        journal_errors: h.journal_errors,
        journal_seq,
        event_seq,
        queue_depth: st.writer.queue_depth(),
    };
    probe_answer(up, body)
}

/// Whether this server takes requests now.
#[derive(Serialize, ToSchema)]
struct Ready {
    /// `ready` or `not_ready`.
    #[schema(value_type = String, pattern = "^(ready|not_ready)$")]
    status: &'static str,
    #[schema(value_type = String, pattern = "^(ok|retrying|not_writer|stopped)$")]
    writer: &'static str,
    /// Recovery (snapshot and journal replay) is done. Always true in an answer: connections
    /// are accepted only once it is (they wait in the listen backlog meanwhile); kept so that a
    /// probe need not know that.
    recovered: bool,
    /// Graceful shutdown has started.
    shutting_down: bool,
}

/// Readiness
///
/// 200 when the writer can write (state `ok`), recovery is done and shutdown has not started;
/// 503 (same body) otherwise: an orchestrator sends traffic elsewhere meanwhile.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready: the writer can write and recovery is done", body = Ready),
        (status = 503, description = "not ready now (writer unavailable, shutting down)", body = Ready)),
    extensions(("x-offernet-who" = json!("anyone"))))]
async fn get_ready(st: St) -> Response {
    let writer = st.writer.health().state;
    let shutting_down = *st.stopping.borrow();
    let ready = writer == offernet_store::WriterState::Ok && !shutting_down;
    let body = Ready {
        status: if ready { "ready" } else { "not_ready" },
        writer: writer.as_str(),
        recovered: true,
        shutting_down,
    };
    probe_answer(ready, body)
}

/// Prometheus metrics
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain")),
    extensions(("x-offernet-who" = json!("anyone"))))]
async fn get_metrics(st: St) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(&st.writer, st.events.open_streams.load(Ordering::Relaxed), st.events.retained())
            + &st.outbound.render(st.events.head())
            + &vtex_metrics(&st),
    )
        .into_response()
}

/// The VTEX outbound calls' metrics, with `--vtex`.
fn vtex_metrics(st: &AppState) -> String {
    let mut out = String::new();
    if let Some(v) = &st.vtex {
        v.outbound.render_metrics(&mut out);
    }
    out
}

/// This document
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "the OpenAPI 3.1 document", body = Object, content_type = "application/json")),
    extensions(("x-offernet-who" = json!("anyone"))))]
async fn get_openapi(st: St) -> Response {
    ok(&*st.openapi)
}

/// A probe's answer: 200, or 503 with `Retry-After` (like every 503 of this server).
fn probe_answer<T: Serialize>(up: bool, body: T) -> Response {
    if up {
        return json(StatusCode::OK, body);
    }
    let mut r = json(StatusCode::SERVICE_UNAVAILABLE, body);
    r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
    r
}
