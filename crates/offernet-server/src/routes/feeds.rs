//! Product feeds of a marketplace's trade policy (`feeds.rs` of the crate writes them): Google's
//! RSS 2.0 XML and its tab-separated form, a JSON Lines form that can be incremental
//! (`?since=SEQ`: only the SKUs whose offers changed), and the issues that keep items out.
//!
//! A feed is a read of the marketplace's data, so it needs the marketplace's token (or the
//! operator's) like every read. Fetchers that cannot send a bearer token (Merchant Center's
//! scheduled fetch asks for a user name and password) may send it as the password of HTTP
//! Basic authentication; the user name is ignored. A 401 here offers both schemes.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use offernet_core::{EventBody, FeedIssue};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::query;
use super::respond::{json, St};
use crate::error::{ApiError, ApiResult};
use crate::extract::Reads;
use crate::feeds::{self, Format, Version};
use crate::state::AppState;

/// Events read from the account's log per step while collecting what changed since `since`.
const SINCE_PAGE: usize = 10_000;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(google_xml))
        .routes(routes!(google_tsv))
        .routes(routes!(google_jsonl))
        .routes(routes!(feed_issues))
}

/// [`Reads`], with the token also accepted as the password of `Authorization: Basic`.
pub(super) struct FeedReads;

impl FromRequestParts<Arc<AppState>> for FeedReads {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> Result<Self, Response> {
        if let Some(token) = basic_password(&parts.headers) {
            let bearer = HeaderValue::from_str(&format!("Bearer {token}"));
            let bearer = bearer.map_err(|_| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_header", "the password is not a token").into_response()
            })?;
            parts.headers.insert(header::AUTHORIZATION, bearer);
        }
        match Reads::from_request_parts(parts, st).await {
            Ok(_) => Ok(FeedReads),
            Err(e) => {
                let mut r = e.into_response();
                if r.status() == StatusCode::UNAUTHORIZED {
                    r.headers_mut()
                        .append(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="offernet feeds""#));
                }
                Err(r)
            }
        }
    }
}

/// The password of the one `Authorization: Basic` header, when there is exactly one.
fn basic_password(h: &HeaderMap) -> Option<String> {
    let mut all = h.get_all(header::AUTHORIZATION).iter();
    let (Some(v), None) = (all.next(), all.next()) else { return None };
    let (scheme, rest) = v.to_str().ok()?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split_once(':')?.1.to_string())
}

type Two = Path<(String, String)>;

/// The whole feed in `format`, or 304 when the fetcher's copy is current.
fn full(st: Arc<AppState>, (m, tp): (String, String), format: Format, h: &HeaderMap) -> ApiResult<Response> {
    let (channel, v) = st.writer.read(|e| {
        let v = Version { applied: e.applied(), last_event: e.last_seq() };
        e.feed_channel(&m, &tp).map(|c| (c, v))
    })?;
    let modified = st.feeds.modified(v);
    if let Some(r) = feeds::not_modified(h, v, modified) {
        return Ok(r);
    }
    // Read before any item, so every event after it is reflected or still to come.
    let next_since = (format == Format::JsonLines).then(|| st.events.head());
    let headers = feeds::full_headers(v, modified.0, next_since);
    Ok(feeds::stream(st, (m, tp), format, &channel, headers))
}

/// Google Merchant Center feed (RSS 2.0 with the g: namespace)
///
/// One item per SKU of the marketplace in the trade policy's assortment that a seller
/// registered with the trade policy offers: sellable (`in_stock`, at the offer simulation
/// chooses for one unit) or held back only by stock (`out_of_stock`). Items missing what
/// Google requires are left out (see `…/issues`). Streamed; `ETag` and `Last-Modified` name
/// the state at the start, and a conditional request answers 304 while nothing changed.
#[utoipa::path(get, path = "/v1/accounts/{m}/feeds/{tp}/google.xml", tag = "feeds",
    params(params::M, params::Tp, params::IfNoneMatch, params::IfModifiedSince),
    responses((status = 200, description = "the feed", content_type = "application/xml", body = String, headers(("ETag" = String, description = "the state the feed shows"), ("Last-Modified" = String, description = "when this server first saw that state"))),
        (status = 304, description = "unchanged since If-None-Match or If-Modified-Since: no body", headers(("ETag" = String, description = "the state the feed shows"), ("Last-Modified" = String, description = "when this server first saw that state")))),
    extensions(("x-offernet-who" = json!("m"))))]
async fn google_xml(st: St, Path(p): Two, _: FeedReads, h: HeaderMap) -> ApiResult<Response> {
    full(st.0, p, Format::Xml, &h)
}

/// Google Merchant Center feed, tab-separated
///
/// The same items as `google.xml`, one per line after a header line of attribute names.
#[utoipa::path(get, path = "/v1/accounts/{m}/feeds/{tp}/google.tsv", tag = "feeds",
    params(params::M, params::Tp, params::IfNoneMatch, params::IfModifiedSince),
    responses((status = 200, description = "the feed", content_type = "text/tab-separated-values", body = String, headers(("ETag" = String, description = "the state the feed shows"), ("Last-Modified" = String, description = "when this server first saw that state"))),
        (status = 304, description = "unchanged since If-None-Match or If-Modified-Since: no body", headers(("ETag" = String, description = "the state the feed shows"), ("Last-Modified" = String, description = "when this server first saw that state")))),
    extensions(("x-offernet-who" = json!("m"))))]
async fn google_tsv(st: St, Path(p): Two, _: FeedReads, h: HeaderMap) -> ApiResult<Response> {
    full(st.0, p, Format::Tsv, &h)
}

/// The feed as JSON Lines, whole or only what changed since an event
///
/// One `FeedLine` per line: a SKU, its item (`null` when it is not in the feed) and its
/// issues. Without `since`, every SKU the feed speaks of. With `since=SEQ`, the SKUs whose
/// offers changed after event SEQ (from `offer.changed` events), as they are now; content
/// edits emit no event, so they reach only the whole feed. The `Offernet-Next-Since` header is
/// the `since` to ask next time.
#[utoipa::path(get, path = "/v1/accounts/{m}/feeds/{tp}/google.jsonl", tag = "feeds",
    params(params::M, params::Tp, params::FeedSince, params::IfNoneMatch, params::IfModifiedSince),
    responses((status = 200, description = "one FeedLine per line", content_type = "application/jsonl", body = feeds::FeedLine, headers(("Offernet-Next-Since" = u64, description = "the `since` of the next incremental read"))),
        (status = 304, description = "whole feed only: unchanged since If-None-Match or If-Modified-Since")),
    extensions(("x-offernet-who" = json!("m"))))]
async fn google_jsonl(
    st: St,
    Path((m, tp)): Two,
    Query(q): Query<query::Query>,
    _: FeedReads,
    h: HeaderMap,
) -> ApiResult<Response> {
    let Some(since) = q.get("since") else { return full(st.0, (m, tp), Format::JsonLines, &h) };
    let since: u64 =
        since.parse().map_err(|_| ApiError::invalid_field("since", "`since` is an event sequence number"))?;
    st.writer.read(|e| e.feed_channel(&m, &tp))?;
    let (skus, next) = changed_since(&st, &m, since)?;
    let lines = tokio::task::spawn_blocking(move || {
        let mut out = String::new();
        for part in skus.chunks(feeds::CHUNK_SKUS) {
            for (sku, entry) in st.writer.read(|e| e.feed_entries(&m, &tp, part))? {
                let (item, issues) = entry.map(|x| (x.item, x.issues)).unwrap_or_default();
                feeds::json_line(&mut out, &sku, item, issues);
            }
        }
        Ok::<_, offernet_core::DomainError>(out)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))??;
    let mut r = (StatusCode::OK, lines).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/jsonl"));
    r.headers_mut().insert(feeds::NEXT_SINCE.clone(), HeaderValue::from(next));
    Ok(r)
}

/// The marketplace's SKUs named by `offer.changed` events after `since`, and the sequence
/// number the answer is complete up to.
fn changed_since(st: &AppState, m: &str, since: u64) -> ApiResult<(Vec<Arc<str>>, u64)> {
    let mut skus = BTreeSet::new();
    let mut after = since;
    loop {
        let page = st.events.page(m, after, SINCE_PAGE).map_err(|g| {
            let message = format!(
                "events up to {} are no longer kept: read the whole feed (without `since`) and continue from its Offernet-Next-Since",
                g.resume_after
            );
            ApiError::new(StatusCode::GONE, "events_expired", message).at("since")
        })?;
        for e in &page.events {
            if let EventBody::OfferChanged { marketplace, sku, .. } = &e.body {
                if &**marketplace == m {
                    skus.insert(sku.clone());
                }
            }
        }
        after = page.last_seq.max(after);
        if page.events.len() < SINCE_PAGE {
            return Ok((skus.into_iter().collect(), after));
        }
    }
}

/// What keeps one SKU out of the feed or changes its item.
#[derive(Serialize, ToSchema)]
struct SkuIssues {
    sku: Arc<str>,
    /// Whether the SKU is left out of the feed.
    excluded: bool,
    issues: Vec<FeedIssue>,
}

/// One page of the feed's issues, SKUs in creation order.
#[derive(Serialize, ToSchema)]
struct FeedIssues {
    /// Items in the feed now.
    items: usize,
    /// SKUs left out for an issue.
    excluded: usize,
    skus: Vec<SkuIssues>,
    /// SKUs with issues in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// Why items are left out of the feed or changed
///
/// Every SKU the feed speaks of that has an issue: a required attribute missing or over
/// Google's limits (the SKU is left out), or an optional one shortened or left out.
#[utoipa::path(get, path = "/v1/accounts/{m}/feeds/{tp}/issues", tag = "feeds",
    params(params::M, params::Tp, params::Paging),
    responses((status = 200, description = "one page", body = FeedIssues)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn feed_issues(st: St, Path((m, tp)): Two, Query(q): Query<query::Query>, _: FeedReads) -> ApiResult<Response> {
    let w = query::page(&st, &q)?;
    let st = st.0;
    let page = tokio::task::spawn_blocking(move || {
        let mut page = FeedIssues { items: 0, excluded: 0, skus: Vec::new(), total: 0, next_offset: None };
        let mut from = Some(0);
        while let Some(at) = from {
            let chunk = st.writer.read(|e| e.feed_chunk(&m, &tp, at, feeds::CHUNK_SKUS))?;
            for e in chunk.entries {
                page.items += e.item.is_some() as usize;
                if e.issues.is_empty() {
                    continue;
                }
                page.excluded += e.item.is_none() as usize;
                if page.total >= w.offset && page.skus.len() < w.limit {
                    page.skus.push(SkuIssues { sku: e.sku, excluded: e.item.is_none(), issues: e.issues });
                }
                page.total += 1;
            }
            from = chunk.next;
        }
        page.next_offset = query::next_offset(page.total, w, page.skus.len());
        Ok::<_, offernet_core::DomainError>(page)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))??;
    Ok(json(StatusCode::OK, page))
}
