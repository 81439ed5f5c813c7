//! Product feeds over HTTP: the documents (`xml.rs`, `tsv.rs`, JSON Lines here), streamed in
//! chunks of the engine's state (`Engine::feed_chunk`), and their validators (`ETag`,
//! `Last-Modified`). The routes are `routes/feeds.rs`.
//!
//! Consistency: the feed's version is read with its header, before the first item; each chunk
//! is then read under its own read of the state, so a change committed mid-stream shows in the
//! chunks read after it and not in those read before (an item is never half old, half new:
//! one SKU is one chunk). The `ETag` names the version at the start, so the next poll sees
//! that something changed and gets the whole feed again.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use offernet_core::{FeedChannel, FeedEntry, FeedIssue, FeedItem};
use serde::Serialize;

use crate::state::AppState;

pub mod tsv;
pub mod version;
pub mod xml;

pub use version::{Clock, Version};

/// SKUs examined per read of the state while streaming: about 5 ms of work under the read
/// lock (measured: `offernet bench feed`), so writers wait at most that long for a feed.
pub const CHUNK_SKUS: usize = 4_096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Xml,
    Tsv,
    JsonLines,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "application/xml; charset=utf-8",
            Format::Tsv => "text/tab-separated-values; charset=utf-8",
            Format::JsonLines => "application/jsonl",
        }
    }
}

/// One line of the JSON Lines form: a SKU's item (`null` when it is not in the feed now) and
/// its issues.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedLine {
    pub sku: Arc<str>,
    #[schema(required = true)]
    pub item: Option<FeedItem>,
    pub issues: Vec<FeedIssue>,
}

/// Does `If-None-Match` name `tag` (or `*`), compared weakly (RFC 9110 13.1.2)?
fn none_match(h: &HeaderMap, tag: &str) -> Option<bool> {
    let mut values = h.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).peekable();
    values.peek()?;
    Some(values.any(|v| v.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)))
}

/// 304 when the fetcher's copy is this version: `If-None-Match` decides when sent (RFC 9110
/// 13.2.2), else `If-Modified-Since` at or after the version's time (unless ambiguous).
pub fn not_modified(h: &HeaderMap, v: Version, (modified, ambiguous): (u64, bool)) -> Option<Response> {
    let fresh = match none_match(h, &v.etag()) {
        Some(m) => m,
        None => h
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|x| x.to_str().ok())
            .and_then(|x| httpdate::parse_http_date(x).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .is_some_and(|since| !ambiguous && since.as_secs() >= modified),
    };
    fresh.then(|| (StatusCode::NOT_MODIFIED, validators(v, modified)).into_response())
}

fn validators(v: Version, modified: u64) -> [(header::HeaderName, HeaderValue); 2] {
    let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(modified));
    [
        (header::ETAG, HeaderValue::from_str(&v.etag()).expect("digits in quotes")),
        (header::LAST_MODIFIED, HeaderValue::from_str(&date).expect("an HTTP date")),
    ]
}

/// The whole feed in memory, read in the same chunks as `stream` (tests and benchmarks).
pub fn document(
    e: &offernet_core::Engine,
    m: &str,
    tp: &str,
    format: Format,
) -> Result<String, offernet_core::DomainError> {
    let channel = e.feed_channel(m, tp)?;
    let mut out = match format {
        Format::Xml => xml::head(&channel),
        Format::Tsv => tsv::head(),
        Format::JsonLines => String::new(),
    };
    let mut from = Some(0);
    while let Some(at) = from {
        let chunk = e.feed_chunk(m, tp, at, CHUNK_SKUS)?;
        out.push_str(&render(format, &chunk.entries));
        from = chunk.next;
    }
    if format == Format::Xml {
        out.push_str(xml::TAIL);
    }
    Ok(out)
}

/// One chunk's entries in `format`.
fn render(format: Format, entries: &[FeedEntry]) -> String {
    let mut out = String::with_capacity(entries.len() * 700);
    for e in entries {
        match (format, &e.item) {
            (Format::Xml, Some(it)) => xml::item(&mut out, it),
            (Format::Tsv, Some(it)) => tsv::item(&mut out, it),
            (Format::JsonLines, item) => json_line(&mut out, &e.sku, item.clone(), e.issues.clone()),
            (_, None) => {}
        }
    }
    out
}

pub fn json_line(out: &mut String, sku: &Arc<str>, item: Option<FeedItem>, issues: Vec<FeedIssue>) {
    let line = FeedLine { sku: sku.clone(), item, issues };
    out.push_str(&serde_json::to_string(&line).expect("a feed line serialises"));
    out.push('\n');
}

/// Where a streamed feed is: the next SKU to read, or done (the tail still to send).
enum Cursor {
    At(usize),
    Tail,
    Done,
}

/// The whole feed of `m`'s trade policy `tp` as a streamed 200, its head from `channel` and
/// its items read `CHUNK_SKUS` at a time. A chunk that cannot be read (the trade policy lost
/// its `product_url` mid-stream) ends the body with an error, so the fetcher sees a broken
/// transfer and never takes a partial feed for a whole one.
pub fn stream(
    st: Arc<AppState>,
    (m, tp): (String, String),
    format: Format,
    channel: &FeedChannel,
    headers: Vec<(header::HeaderName, HeaderValue)>,
) -> Response {
    let head = match format {
        Format::Xml => xml::head(channel),
        Format::Tsv => tsv::head(),
        Format::JsonLines => String::new(),
    };
    let first = futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) });
    let items = futures_util::stream::unfold(Cursor::At(0), move |cursor| {
        let (st, m, tp) = (st.clone(), m.clone(), tp.clone());
        async move {
            match cursor {
                Cursor::Done => None,
                Cursor::Tail => {
                    let tail = if format == Format::Xml { xml::TAIL } else { "" };
                    Some((Ok(Bytes::from_static(tail.as_bytes())), Cursor::Done))
                }
                Cursor::At(from) => {
                    let read = tokio::task::spawn_blocking(move || {
                        let chunk = st.writer.read(|e| e.feed_chunk(&m, &tp, from, CHUNK_SKUS))?;
                        Ok::<_, offernet_core::DomainError>((render(format, &chunk.entries), chunk.next))
                    })
                    .await;
                    match read {
                        Ok(Ok((text, next))) => Some((Ok(Bytes::from(text)), next.map_or(Cursor::Tail, Cursor::At))),
                        Ok(Err(e)) => Some((Err(std::io::Error::other(e.to_string())), Cursor::Done)),
                        Err(e) => Some((Err(std::io::Error::other(e.to_string())), Cursor::Done)),
                    }
                }
            }
        }
    });
    let mut res = Body::from_stream(futures_util::StreamExt::chain(first, items)).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    for (k, v) in headers {
        h.insert(k, v);
    }
    res
}

/// The headers of a full feed: its validators, and for JSON Lines where to resume.
pub fn full_headers(v: Version, modified: u64, next_since: Option<u64>) -> Vec<(header::HeaderName, HeaderValue)> {
    let mut h: Vec<_> = validators(v, modified).into_iter().collect();
    h.push((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    if let Some(s) = next_since {
        h.push((NEXT_SINCE.clone(), HeaderValue::from(s)));
    }
    h
}

/// The header that tells a JSON Lines reader which `since` to ask next.
pub static NEXT_SINCE: header::HeaderName = header::HeaderName::from_static("offernet-next-since");
