//! An account's events: one page after `?after=SEQ` as JSON, or a live `text/event-stream`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use offernet_core::Event;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::query;
use super::respond::{json, St};
use crate::error::{ApiError, ApiResult};
use crate::events::Gone;
use crate::extract::Reads;
use crate::state::AppState;

/// A comment line on an idle event stream this often: proxies keep the connection, and a
/// client that stopped reading is found once these fill its socket buffers (the send
/// timeout then closes it). On a quiet account that takes long: the stream then holds only
/// its cursor and one of the account's stream places.
const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(list_events))
}

/// The account's events after `after`, oldest first.
#[derive(Serialize, ToSchema)]
struct EventPage {
    #[schema(value_type = Vec<Event>)]
    events: Vec<Arc<Event>>,
    /// The sequence number this answer is complete up to: the last event's when the page is
    /// full, else the newest known. Ask again with `after` set to it.
    last_seq: u64,
}

fn gone(g: Gone) -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "events_expired",
        format!("events before {} are no longer kept; resume from after={}", g.oldest, g.oldest.saturating_sub(1)),
    )
}

/// Where to start: `?after=`, else the `Last-Event-ID` header of a reconnecting stream, else 0.
fn after(q: &query::Query, h: &HeaderMap) -> ApiResult<u64> {
    let last_event_id = h.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match q.get("after") {
        None => Ok(last_event_id.unwrap_or(0)),
        Some(v) => v.parse::<u64>().map_err(|_| ApiError::invalid_field("after", "`after` is a sequence number")),
    }
}

/// The account's events after ?after=SEQ; `Accept: text/event-stream` streams them live
///
/// As a stream, each event is one message: `id` its sequence number, `event` its type, `data`
/// the event (the same fields as in the JSON page). A reconnecting client sends
/// `Last-Event-ID`; a stream that falls behind the retained events gets a `resume` message
/// (`{"after": SEQ}`) and ends.
#[utoipa::path(get, path = "/v1/accounts/{a}/events", tag = "events", params(params::A, params::EventsQuery),
    responses((status = 200, description = "one page (JSON), or a live stream (text/event-stream)",
        content((EventPage = "application/json"), (String = "text/event-stream")))),
    extensions(("x-offernet-who" = json!("a"))))]
async fn list_events(
    st: St,
    Path(a): Path<String>,
    Query(q): Query<query::Query>,
    _: Reads,
    h: HeaderMap,
) -> ApiResult<Response> {
    let after = after(&q, &h)?;
    let limit = query::page(&st, &q)?.limit;
    let engine_seq = st.writer.read(|e| e.last_seq());
    let wants_stream =
        h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"));
    if !wants_stream {
        let p = st.events.page(&a, after, limit, engine_seq).map_err(gone)?;
        return Ok(json(StatusCode::OK, EventPage { events: p.events, last_seq: p.last_seq }));
    }
    // Live: check the start, take a stream place, then the stream pages lazily (events.rs).
    let start = st.events.page(&a, after, 0, engine_seq).map_err(gone)?;
    let slot = st.events.open_stream(&a).ok_or_else(|| too_many_streams(&st, &a))?;
    // Asked beyond the newest event: start from the newest, so the next events are not skipped.
    let stream = crate::events::stream(slot, after.min(start.last_seq), st.stopping.clone());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(SSE_KEEP_ALIVE)).into_response())
}

fn too_many_streams(st: &AppState, a: &str) -> ApiError {
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
}
