//! Suggestions a marketplace received: the list, approve and deny.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use offernet_core::*;
use serde::Deserialize;

use super::{doc, params, write_then, NoFields, RouteDoc, St};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ActsFor, Reads, StrictJson};
use crate::AppState;

pub(super) fn routes() -> Vec<(RouteDoc, MethodRouter<Arc<AppState>>)> {
    vec![
        (
            doc(
                "GET",
                "/v1/accounts/{m}/suggestions",
                "m",
                "Suggestions received (?status=&limit=&offset=)",
                None,
                "SuggestionPage",
                200,
            ),
            get(list_suggestions),
        ),
        (
            doc(
                "POST",
                "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/approve",
                "m",
                "Approve: bind to `sku` (created if missing) or let the matcher decide",
                Some("ApproveBody"),
                "Suggestion",
                200,
            ),
            post(approve),
        ),
        (
            doc(
                "POST",
                "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/deny",
                "m",
                "Deny (after approval: unbind)",
                None,
                "Suggestion",
                200,
            ),
            post(deny),
        ),
    ]
}

async fn list_suggestions(
    st: St,
    Path(m): Path<String>,
    Query(q): Query<params::Query>,
    _: Reads,
) -> ApiResult<Response> {
    let status = params::status(&q)?;
    let (limit, offset) = params::page(&st, &q)?;
    let items = st.writer.read(|e| e.suggestions(&m, status))?;
    Ok(params::paged("suggestions", items, limit, offset))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    sku: Option<String>,
}

fn suggestion_view(e: &Engine, m: &str, s: &str, ss: &str) -> ApiResult<SuggestionView> {
    e.suggestions(m, None)?
        .into_iter()
        .find(|x| *x.seller == *s && *x.seller_sku == *ss)
        .ok_or_else(|| ApiError::not_found("suggestion not found"))
}

type Three = Path<(String, String, String)>;

async fn approve(
    st: St,
    Path((m, s, ss)): Three,
    _: ActsFor,
    StrictJson(b): StrictJson<ApproveBody>,
) -> ApiResult<Response> {
    let cmd =
        Command::ApproveSuggestion { marketplace: m.clone(), seller: s.clone(), seller_sku: ss.clone(), sku: b.sku };
    write_then(&st, cmd, |e| suggestion_view(e, &m, &s, &ss)).await
}

async fn deny(st: St, Path((m, s, ss)): Three, _: ActsFor, _: StrictJson<NoFields>) -> ApiResult<Response> {
    let cmd = Command::DenySuggestion { marketplace: m.clone(), seller: s.clone(), seller_sku: ss.clone() };
    write_then(&st, cmd, |e| suggestion_view(e, &m, &s, &ss)).await
}
