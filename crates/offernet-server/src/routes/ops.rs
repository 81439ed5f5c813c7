//! Operations: health, Prometheus metrics, and this API's OpenAPI document.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use serde_json::json;

use super::{doc, ok, RouteDoc, St};
use crate::AppState;

pub(super) fn routes() -> Vec<(RouteDoc, MethodRouter<Arc<AppState>>)> {
    vec![
        (doc("GET", "/healthz", "anyone", "Health", None, "Health", 200), get(healthz)),
        (doc("GET", "/metrics", "anyone", "Prometheus metrics", None, "", 200), get(metrics)),
        (doc("GET", "/openapi.json", "anyone", "This document", None, "", 200), get(openapi_json)),
    ]
}

async fn healthz(st: St) -> Response {
    let seq = st.writer.shared().stats.last_seq.load(Ordering::Relaxed);
    let event_seq = st.writer.read(|e| e.last_seq());
    let h = st.writer.health();
    // 503 while the writer cannot write (journal error, lease lost): a load balancer or an
    // orchestrator then routes writes elsewhere or restarts us.
    let up = h.state == offernet_store::WriterState::Ok;
    let body = json!({"status": if up { "ok" } else { "unavailable" }, "writer": h.state.as_str(),
        "last_journal_error": h.last_error, "journal_errors": h.journal_errors,
        "journal_seq": seq, "event_seq": event_seq, "queue_depth": st.writer.queue_depth()});
    if up {
        ok(body)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
    }
}

async fn metrics(st: St) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(&st.writer, st.events.open_streams.load(Ordering::Relaxed)),
    )
        .into_response()
}

/// The document is built once at startup (`openapi::spec`), from the same table as the router.
async fn openapi_json(st: St) -> Response {
    ok(&*st.openapi)
}
