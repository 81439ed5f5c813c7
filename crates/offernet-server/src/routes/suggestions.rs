//! Suggestions a marketplace received: the list, approve and deny.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use offernet_core::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::query;
use super::respond::{json, write_then, NoFields, St};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ActsFor, OptionalJson, Reads, StrictJson};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_suggestions))
        .routes(routes!(approve_suggestion))
        .routes(routes!(deny_suggestion))
}

/// One page of suggestions, sorted by (seller, seller SKU).
#[derive(Serialize, ToSchema)]
struct SuggestionPage {
    suggestions: Vec<SuggestionView>,
    /// Suggestions in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// Suggestions received
#[utoipa::path(get, path = "/v1/accounts/{m}/suggestions", tag = "suggestions",
    params(params::M, params::StatusFilter, params::Paging),
    responses((status = 200, description = "one page", body = SuggestionPage)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn list_suggestions(
    st: St,
    Path(m): Path<String>,
    Query(q): Query<query::Query>,
    _: Reads,
) -> ApiResult<Response> {
    let status = query::status(&q)?;
    let page = query::page(&st, &q)?;
    let (suggestions, total, next_offset) = query::slice(st.writer.read(|e| e.suggestions(&m, status))?, page);
    Ok(json(StatusCode::OK, SuggestionPage { suggestions, total, next_offset }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    /// The marketplace SKU to bind to (created if missing); without it the matcher decides.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    sku: Option<String>,
}

fn suggestion_view(e: &Engine, m: &str, s: &str, ss: &str) -> ApiResult<SuggestionView> {
    e.suggestions(m, None)?
        .into_iter()
        .find(|x| *x.seller == *s && *x.seller_sku == *ss)
        .ok_or_else(|| ApiError::missing(Missing::Suggestion, ss, format!("the suggestion of `{s}`/`{ss}` not found")))
}

type Three = Path<(String, String, String)>;

/// Approve: bind to `sku` (created if missing) or let the matcher decide
#[utoipa::path(post, path = "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/approve", tag = "suggestions",
    params(params::M, params::S, params::SellerSku), request_body = ApproveBody,
    responses((status = 200, description = "the suggestion", body = SuggestionView)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn approve_suggestion(
    st: St,
    Path((m, s, ss)): Three,
    _: ActsFor,
    StrictJson(b): StrictJson<ApproveBody>,
) -> ApiResult<Response> {
    let cmd =
        Command::ApproveSuggestion { marketplace: m.clone(), seller: s.clone(), seller_sku: ss.clone(), sku: b.sku };
    write_then(&st, cmd, |e| suggestion_view(e, &m, &s, &ss)).await
}

/// Deny (after approval: unbind)
#[utoipa::path(post, path = "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/deny", tag = "suggestions",
    params(params::M, params::S, params::SellerSku),
    responses((status = 200, description = "the suggestion", body = SuggestionView)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn deny_suggestion(
    st: St,
    Path((m, s, ss)): Three,
    _: ActsFor,
    _: OptionalJson<NoFields>,
) -> ApiResult<Response> {
    let cmd = Command::DenySuggestion { marketplace: m.clone(), seller: s.clone(), seller_sku: ss.clone() };
    write_then(&st, cmd, |e| suggestion_view(e, &m, &s, &ss)).await
}
