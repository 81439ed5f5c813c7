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
use crate::error::{ApiError, ApiResult, ErrorDetail};
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

/// 410 `events_expired`: some events after `after` are no longer kept. `resume_after` is where
/// to read from now (`?after=` it, or `Last-Event-ID` for a stream); the events between are
/// lost to this client.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventsExpired {
    #[schema(inline)]
    error: ErrorDetail,
    /// The oldest point from which the history is complete: ask again with `after` set to it.
    resume_after: u64,
}

fn gone(g: Gone) -> Response {
    let body = EventsExpired {
        error: ErrorDetail {
            code: "events_expired",
            field: Some("after".into()),
            message: format!(
                "events up to {} are no longer kept (event retention); resume from after={}",
                g.resume_after, g.resume_after
            ),
        },
        resume_after: g.resume_after,
    };
    json(StatusCode::GONE, body)
}

/// Where to start: `?after=` (a sequence number, or `now`: the head), else the `Last-Event-ID`
/// header of a reconnecting stream, else 0 for a JSON page and the head for a stream.
fn after(q: &query::Query, h: &HeaderMap, head: u64, stream: bool) -> ApiResult<u64> {
    let last_event_id = h.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    match q.get("after").map(String::as_str) {
        None => Ok(last_event_id.unwrap_or(if stream { head } else { 0 })),
        Some("now") => Ok(head),
        Some(v) => v.parse::<u64>().map_err(|_| {
            ApiError::invalid_field("after", "`after` is an event sequence number (a whole number) or `now`")
        }),
    }
}

/// The account's events after ?after=SEQ; `Accept: text/event-stream` streams them live
///
/// Events are kept across restarts and crashes (in the journal's database) for as long as the
/// event retention says (`--event-retention`: events per account, or days). A read from before
/// what is kept answers 410 `events_expired` with `resume_after`, the point to read from now.
/// `after=now` starts at the head: a JSON page is then empty with `last_seq` the head, and a
/// stream gives only new events. `last_seq` is never beyond the newest event that exists.
///
/// As a stream, each event is one message: `id` its sequence number, `event` its type, `data`
/// the event (the same fields as in the JSON page). Without `after`, a stream starts at its
/// `Last-Event-ID` header (a reconnecting client), else at the head. A stream that falls
/// behind the retained events gets a `resume` message (`{"after": SEQ}`, where to resume from)
/// and ends.
#[utoipa::path(get, path = "/v1/accounts/{a}/events", tag = "events", params(params::A, params::EventsQuery),
    responses((status = 200, description = "one page (JSON), or a live stream (text/event-stream)",
        content((EventPage = "application/json"), (String = "text/event-stream"))),
        (status = 410, description = "some events after `after` are no longer kept: read again from `resume_after`",
            body = EventsExpired)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn list_events(
    st: St,
    Path(a): Path<String>,
    Query(q): Query<query::Query>,
    _: Reads,
    h: HeaderMap,
) -> ApiResult<Response> {
    let wants_stream =
        h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"));
    let after = after(&q, &h, st.events.head(), wants_stream)?;
    let limit = query::page(&st, &q)?.limit;
    if !wants_stream {
        return Ok(match st.events.page(&a, after, limit) {
            Ok(p) => json(StatusCode::OK, EventPage { events: p.events, last_seq: p.last_seq }),
            Err(g) => gone(g),
        });
    }
    // Live: check the start, take a stream place, then the stream pages lazily (events.rs).
    let start = match st.events.page(&a, after, 0) {
        Ok(p) => p,
        Err(g) => return Ok(gone(g)),
    };
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
