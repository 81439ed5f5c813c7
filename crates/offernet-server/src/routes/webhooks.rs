//! An account's webhook subscriptions: create (the signing secret shown once), list, read,
//! change, delete, rotate the secret, the recent delivery attempts and dead letters, and a
//! redelivery of a range of events. By the account itself or the operator. Delivery itself is `crate::outbound`.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use offernet_core::model::pattern_matches;
use offernet_core::{Command, WebhookBody, WebhookView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::no_randomness;
use super::params;
use super::query;
use super::respond::{json, ok, write, write_no_content, write_then, NoFields, St};
use crate::auth::new_token_id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ActsFor, OptionalJson, PatchJson, Reads, StrictJson};
use crate::outbound::replay::{Refusal, MAX_REDELIVER_SEQS};
use crate::outbound::{consumer, guard, sign};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, patch_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(deliveries))
        .routes(routes!(redeliver))
}

/// The webhook id in a path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // describes the path for the document; handlers take the path as a tuple
struct WebhookId {
    /// A webhook id of the account (chosen by the server).
    #[param(pattern = "^[A-Za-z0-9_-]{1,32}$")]
    id: String,
}

/// A new subscription, or a rotated secret: `secret` (`whsec_<base64>`) is shown only now.
/// Verify each delivery with it as the Standard Webhooks specification says.
#[derive(Serialize, ToSchema)]
struct WebhookCreated {
    #[serde(flatten)]
    webhook: WebhookView,
    secret: String,
}

/// One page of an account's subscriptions, sorted by id; never a secret.
#[derive(Serialize, ToSchema)]
struct WebhookPage {
    webhooks: Vec<WebhookView>,
    /// Subscriptions in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// One delivery attempt.
#[derive(Serialize, ToSchema)]
struct DeliveryAttempt {
    /// The event's sequence number (its `webhook-id`).
    seq: u64,
    /// 1 for an event's first try.
    attempt: u32,
    /// When it was made, in ms since the Unix epoch.
    at_ms: u64,
    /// The destination's HTTP status; `null` when it gave none (no connection, timeout).
    #[schema(required = true)]
    status: Option<u16>,
    latency_ms: u64,
    /// `delivered`, `retry` (tried again later) or `dead` (given up: a dead letter).
    outcome: String,
    #[schema(required = true)]
    error: Option<String>,
}

/// Events given up on: `seq` to `last_seq` (one event, or a range that fell out of the
/// event retention before its turn).
#[derive(Serialize, ToSchema)]
struct DeadLetterView {
    seq: u64,
    last_seq: u64,
    at_ms: u64,
    reason: String,
}

/// The recent attempts (newest first, one page, at most the last 1,000 kept) and the newest
/// dead letters (at most 100) of a subscription.
#[derive(Serialize, ToSchema)]
struct Deliveries {
    /// Every event up to this sequence number is done (delivered, given up, or not wanted).
    #[schema(required = true)]
    progress: Option<u64>,
    attempts: Vec<DeliveryAttempt>,
    dead_letters: Vec<DeadLetterView>,
    /// The `offset` of the next page of attempts; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
    /// The redelivery in progress (`POST …/redeliver`); `null` when none.
    #[schema(required = true)]
    redelivery: Option<Redelivery>,
}

/// A redelivery in progress: events `from` to `to` (sequence numbers, inclusive), every one up
/// to `done` already sent (`from - 1` before the first).
#[derive(Serialize, ToSchema)]
struct Redelivery {
    from: u64,
    to: u64,
    done: u64,
}

impl From<offernet_store::Replay> for Redelivery {
    fn from(r: offernet_store::Replay) -> Self {
        Redelivery { from: r.done + 1, to: r.last, done: r.done }
    }
}

/// Events to send again: `from` to `to`, sequence numbers, both included.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RedeliverBody {
    /// The first event's sequence number.
    #[schema(minimum = 1)]
    from: u64,
    /// The last event's sequence number (default: `from`): at least `from`, at most 9,999
    /// after it (10,000 sequence numbers), and not beyond the newest event.
    #[schema(minimum = 1)]
    to: Option<u64>,
}

/// What was queued: the range asked for, how many of its events the subscription's patterns
/// match (those are sent), and the redelivery now in progress (the range asked for, merged
/// with one in progress that it overlapped or touched).
#[derive(Serialize, ToSchema)]
struct RedeliverQueued {
    from: u64,
    to: u64,
    events: u64,
    redelivery: Redelivery,
}

/// Dead letters shown by `GET …/deliveries`.
const DEAD_LETTERS_SHOWN: u64 = 100;

/// The server's outbound policy for a destination (`https://`, unless `--outbound-allow-local`;
/// no refused IP address): 400 naming `url`.
fn check_destination(st: &AppState, url: Option<&str>) -> ApiResult<()> {
    let Some(url) = url else { return Ok(()) };
    offernet_core::webhooks::webhook_url("url", url).map_err(ApiError::from)?;
    let parsed = reqwest::Url::parse(url).map_err(|e| ApiError::invalid_field("url", format!("not a URL: {e}")))?;
    guard::check_url(&parsed, st.config.outbound_allow_local).map_err(|why| ApiError::invalid_field("url", why))
}

/// Subscribe to events
///
/// Each event the account gets (as `GET …/events` shows it) whose type matches `events` is
/// POSTed to `url`, in sequence order, signed per the Standard Webhooks specification
/// (`webhook-id` = the event's sequence number, `webhook-timestamp`, `webhook-signature: v1,…`).
/// Events after the subscription's creation are sent. At most 20 per account (409 beyond).
#[utoipa::path(post, path = "/v1/accounts/{a}/webhooks", tag = "webhooks", params(params::A),
    request_body = WebhookBody, responses((status = 201, description = "created; the secret is shown only now", body = WebhookCreated)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn create_webhook(
    st: St,
    Path(a): Path<String>,
    _: ActsFor,
    StrictJson(body): StrictJson<WebhookBody>,
) -> ApiResult<Response> {
    check_destination(&st, body.url.as_deref())?;
    let id = new_token_id().map_err(no_randomness)?;
    let secret = sign::new_secret().map_err(no_randomness)?;
    write(&st, Command::CreateWebhook { account: a.clone(), id: id.clone(), secret: secret.clone(), body }).await?;
    let webhook = st.writer.read(|e| e.webhook(&a, &id))?;
    Ok(json(StatusCode::CREATED, WebhookCreated { webhook, secret }))
}

/// The account's subscriptions, without secrets
#[utoipa::path(get, path = "/v1/accounts/{a}/webhooks", tag = "webhooks", params(params::A, params::Paging),
    responses((status = 200, description = "one page", body = WebhookPage)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn list_webhooks(st: St, Path(a): Path<String>, _: Reads, Query(q): Query<query::Query>) -> ApiResult<Response> {
    let (webhooks, total, next_offset) = query::listed(&st, &q, |e, w| e.list_webhooks(&a, w))?;
    Ok(json(StatusCode::OK, WebhookPage { webhooks, total, next_offset }))
}

/// One subscription, without its secret
#[utoipa::path(get, path = "/v1/accounts/{a}/webhooks/{id}", tag = "webhooks", params(params::A, WebhookId),
    responses((status = 200, description = "the subscription", body = WebhookView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_webhook(st: St, Path((a, id)): Path<(String, String)>, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.webhook(&a, &id))?))
}

/// Change a subscription
///
/// Only the given fields change. `active: true` also re-enables a subscription the server
/// disabled; it resumes with the event it stopped at.
#[utoipa::path(patch, path = "/v1/accounts/{a}/webhooks/{id}", tag = "webhooks", params(params::A, WebhookId),
    request_body = WebhookBody, responses((status = 200, description = "the subscription", body = WebhookView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn patch_webhook(
    st: St,
    Path((a, id)): Path<(String, String)>,
    _: ActsFor,
    PatchJson(body): PatchJson<WebhookBody>,
) -> ApiResult<Response> {
    check_destination(&st, body.url.as_deref())?;
    write_then(&st, Command::PatchWebhook { account: a.clone(), id: id.clone(), body }, |e| e.webhook(&a, &id)).await
}

/// Delete a subscription
///
/// Nothing more is sent to it (an attempt in flight may still arrive).
#[utoipa::path(delete, path = "/v1/accounts/{a}/webhooks/{id}", tag = "webhooks", params(params::A, WebhookId),
    responses((status = 204, description = "deleted")),
    extensions(("x-offernet-who" = json!("a"))))]
async fn delete_webhook(st: St, Path((a, id)): Path<(String, String)>, _: ActsFor) -> ApiResult<Response> {
    write_no_content(&st, Command::DeleteWebhook { account: a, id }).await
}

/// Rotate the signing secret
///
/// A new secret replaces the old one at once and is shown only in this answer; deliveries
/// after it are signed with it.
#[utoipa::path(post, path = "/v1/accounts/{a}/webhooks/{id}/rotate-secret", tag = "webhooks", params(params::A, WebhookId),
    responses((status = 200, description = "the subscription and its new secret", body = WebhookCreated)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn rotate_secret(
    st: St,
    Path((a, id)): Path<(String, String)>,
    _: ActsFor,
    _: OptionalJson<NoFields>,
) -> ApiResult<Response> {
    let secret = sign::new_secret().map_err(no_randomness)?;
    write(&st, Command::RotateWebhookSecret { account: a.clone(), id: id.clone(), secret: secret.clone() }).await?;
    let webhook = st.writer.read(|e| e.webhook(&a, &id))?;
    Ok(json(StatusCode::OK, WebhookCreated { webhook, secret }))
}

/// Delivery attempts and dead letters
///
/// The attempts newest first (`limit`/`offset`; the last 1,000 are kept), with status codes
/// and latencies, and the newest 100 dead letters.
#[utoipa::path(get, path = "/v1/accounts/{a}/webhooks/{id}/deliveries", tag = "webhooks",
    params(params::A, WebhookId, params::Paging),
    responses((status = 200, description = "attempts and dead letters", body = Deliveries)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn deliveries(
    st: St,
    Path((a, id)): Path<(String, String)>,
    _: Reads,
    Query(q): Query<query::Query>,
) -> ApiResult<Response> {
    st.writer.read(|e| e.webhook(&a, &id))?;
    let w = query::page(&st, &q)?;
    let name = consumer(&a, &id);
    let (attempts, dead, progress) = {
        let mut o = st.outbound.outbox.lock().await;
        let attempts = o.attempts(&name, w.offset as u64, w.limit as u64 + 1).await.map_err(store_error)?;
        let dead = o.dead_letters(&name, DEAD_LETTERS_SHOWN).await.map_err(store_error)?;
        (attempts, dead, st.outbound.stats.progress.lock().unwrap().get(&name).copied())
    };
    let redelivery = st.outbound.replays.get(&name).map(|p| p.replay.into());
    let more = attempts.len() > w.limit;
    let attempts: Vec<DeliveryAttempt> = attempts
        .into_iter()
        .take(w.limit)
        .map(|t| DeliveryAttempt {
            seq: t.seq,
            attempt: t.attempt,
            at_ms: t.at_ms,
            status: t.status,
            latency_ms: t.latency_ms,
            outcome: t.outcome,
            error: t.error,
        })
        .collect();
    let next_offset = more.then_some(w.offset + attempts.len());
    let dead_letters = dead
        .into_iter()
        .map(|d| DeadLetterView { seq: d.seq, last_seq: d.last_seq, at_ms: d.at_ms, reason: d.reason })
        .collect();
    Ok(json(StatusCode::OK, Deliveries { progress, attempts, dead_letters, next_offset, redelivery }))
}

fn store_error(e: offernet_store::JournalError) -> ApiError {
    tracing::error!(error = %e, "reading or writing the outbound tables");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the delivery log could not be used; retry shortly")
}

/// Send events again
///
/// Events `from` to `to` of the account that the subscription's `events` patterns match are
/// sent again, in order, as they were the first time (the same body and `webhook-id`, signed
/// with the current secret, with retries and dead letters), one page at a time between pages
/// of live events. The range is stored before the answer, so a restart resumes it. One
/// redelivery per subscription at a time: a range that overlaps or touches the one in progress
/// joins it (together at most 10,000 sequence numbers), another answers 409 until it is done
/// (`…/deliveries` shows it). 409 also when events from `from` on are no longer kept (event
/// retention). An inactive subscription sends it when made active again.
#[utoipa::path(post, path = "/v1/accounts/{a}/webhooks/{id}/redeliver", tag = "webhooks",
    params(params::A, WebhookId), request_body = RedeliverBody,
    responses((status = 202, description = "queued; what is now in progress", body = RedeliverQueued)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn redeliver(
    st: St,
    Path((a, id)): Path<(String, String)>,
    _: ActsFor,
    StrictJson(body): StrictJson<RedeliverBody>,
) -> ApiResult<Response> {
    let view = st.writer.read(|e| e.webhook(&a, &id))?;
    let (from, to) = (body.from, body.to.unwrap_or(body.from));
    if from == 0 {
        return Err(ApiError::invalid_field("from", "an event sequence number, at least 1"));
    }
    if to < from || to - from >= MAX_REDELIVER_SEQS {
        return Err(ApiError::invalid_field(
            "to",
            format!(
                "at least `from` ({from}) and at most {} after it ({MAX_REDELIVER_SEQS} sequence numbers)",
                MAX_REDELIVER_SEQS - 1
            ),
        ));
    }
    let head = st.events.head();
    if to > head {
        return Err(ApiError::invalid_field("to", format!("beyond the newest event ({head})")));
    }
    let events = wanted_events(&st, &a, &view.events, from, to)?;
    let name = consumer(&a, &id);
    let replay = st.outbound.replays.queue(&st.outbound.outbox, &name, from, to).await.map_err(|r| match r {
        Refusal::Busy(p) => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("a redelivery of events {} to {} is in progress (done up to {}); ask for a range that overlaps or touches it, or when it is done", p.done + 1, p.last, p.done),
        ),
        Refusal::TooLong(m) => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("joined with the redelivery in progress it would span events {} to {}, more than {MAX_REDELIVER_SEQS}", m.done + 1, m.last),
        )
        .at("to"),
        Refusal::Store(e) => store_error(e),
    })?;
    Ok(json(StatusCode::ACCEPTED, RedeliverQueued { from, to, events, redelivery: replay.into() }))
}

/// The account's events `from..=to` that `patterns` match, counted; 409 when some are no
/// longer kept.
fn wanted_events(st: &AppState, a: &str, patterns: &[Arc<str>], from: u64, to: u64) -> ApiResult<u64> {
    const STEP: usize = 1_000;
    let (mut after, mut n) = (from - 1, 0u64);
    loop {
        let page = st.events.page(a, after, STEP).map_err(|g| {
            ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!(
                    "events up to {} are no longer kept (event retention): redeliver from {} on",
                    g.resume_after,
                    g.resume_after + 1
                ),
            )
            .at("from")
        })?;
        let full = page.events.len() == STEP;
        for e in page.events.iter().take_while(|e| e.seq <= to) {
            n += u64::from(patterns.iter().any(|p| pattern_matches(p, e.body.kind())));
            after = e.seq;
        }
        if !full || after >= to || page.events.last().is_some_and(|e| e.seq > to) {
            return Ok(n);
        }
    }
}
