//! Events (JSON pages and live streams) and operations: health, metrics, the OpenAPI document.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{ApiError, ApiResult};

use super::*;

/// A comment line on an idle event stream this often: proxies keep the connection, and a
/// client that stopped reading is found once these fill its socket buffers (the send
/// timeout then closes it). On a quiet account that takes long: the stream then holds only
/// its cursor and one of the account's stream places.
pub(super) const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------- events

pub(super) async fn events(
    State(st): St,
    Path(a): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &h, &a)?;
    let last_event_id = h.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let after = match q.get("after") {
        None => last_event_id.unwrap_or(0),
        Some(v) => v.parse::<u64>().map_err(|_| ApiError::invalid_field("after", "`after` is a sequence number"))?,
    };
    let (limit, _) = page(&st, &q)?;
    let engine_seq = st.writer.read(|e| e.last_seq());
    let wants_stream =
        h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"));
    let gone = |g: crate::events::Gone| {
        ApiError::new(
            StatusCode::GONE,
            "events_expired",
            format!("events before {} are no longer kept; resume from after={}", g.oldest, g.oldest.saturating_sub(1)),
        )
    };
    if !wants_stream {
        let p = st.events.page(&a, after, limit, engine_seq).map_err(gone)?;
        return Ok(ok(json!({"events": p.events, "last_seq": p.last_seq})));
    }
    // Live: check the start, take a stream place, then the stream pages lazily (events.rs).
    let start = st.events.page(&a, after, 0, engine_seq).map_err(gone)?;
    let slot = st.events.open_stream(&a).ok_or_else(|| {
        st.metrics.streams_refused.fetch_add(1, Ordering::Relaxed);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_streams",
            format!(
                "account `{a}` already has {} open event streams; close one or retry later",
                st.config.max_streams_per_account
            ),
        );
        e.retry_after = Some(5);
        e
    })?;
    // Asked beyond the newest event: start from the newest, so the next events are not skipped.
    let stream = crate::events::stream(slot, after.min(start.last_seq), st.stopping.clone());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(SSE_KEEP_ALIVE)).into_response())
}

// ---------------------------------------------------------------- operations

pub(super) async fn healthz(State(st): St) -> Response {
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

pub(super) async fn metrics(State(st): St) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(&st.writer, st.events.open_streams.load(Ordering::Relaxed)),
    )
        .into_response()
}

pub(super) async fn openapi_json() -> Response {
    ok(crate::openapi::spec())
}
