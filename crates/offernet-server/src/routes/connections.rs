//! Both halves of a connection: the seller's (`affiliations`) and the marketplace's
//! (`sellers`), each with PUT (replace), PATCH (given fields), DELETE (end) and GET.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use offernet_core::*;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::query;
use super::respond::{json, ok, write_no_content, write_then, St};
use crate::error::ApiResult;
use crate::extract::{ActsFor, PatchJson, Reads, StrictJson};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(put_affiliation, patch_affiliation, delete_affiliation, get_affiliation))
        .routes(routes!(put_seller, patch_seller, delete_seller, get_seller))
        .routes(routes!(list_affiliations))
        .routes(routes!(list_sellers))
}

type Two = Path<(String, String)>;

/// The seller's half of a connection
#[utoipa::path(put, path = "/v1/accounts/{s}/affiliations/{m}", tag = "connections", params(params::S, params::M),
    request_body = AffiliationBody, responses((status = 200, description = "the seller's half", body = AffiliationView)),
    extensions(("x-offernet-who" = json!("s"))))]
async fn put_affiliation(
    st: St,
    Path((s, m)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<AffiliationBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutAffiliation { seller: s.clone(), marketplace: m.clone(), body: Box::new(body) };
    write_then(&st, cmd, |e| e.affiliation(&s, &m)).await
}

/// Change given fields of the seller's half
#[utoipa::path(patch, path = "/v1/accounts/{s}/affiliations/{m}", tag = "connections", params(params::S, params::M),
    request_body = AffiliationBody, responses((status = 200, description = "the seller's half", body = AffiliationView)),
    extensions(("x-offernet-who" = json!("s"))))]
async fn patch_affiliation(
    st: St,
    Path((s, m)): Two,
    _: ActsFor,
    PatchJson(body): PatchJson<AffiliationBody>,
) -> ApiResult<Response> {
    let cmd = Command::PatchAffiliation { seller: s.clone(), marketplace: m.clone(), body: Box::new(body) };
    write_then(&st, cmd, |e| e.affiliation(&s, &m)).await
}

/// End the seller's half
#[utoipa::path(delete, path = "/v1/accounts/{s}/affiliations/{m}", tag = "connections", params(params::S, params::M),
    responses((status = 204, description = "ended")), extensions(("x-offernet-who" = json!("s"))))]
async fn delete_affiliation(st: St, Path((s, m)): Two, _: ActsFor) -> ApiResult<Response> {
    // A connection key never outlives its affiliation (a new affiliation starts without one).
    super::connection_keys::revoke(&st, &s, &m).await?;
    write_no_content(&st, Command::DeleteAffiliation { seller: s, marketplace: m }).await
}

/// The seller's half
#[utoipa::path(get, path = "/v1/accounts/{s}/affiliations/{m}", tag = "connections", params(params::S, params::M),
    responses((status = 200, description = "the seller's half", body = AffiliationView)),
    extensions(("x-offernet-who" = json!("s"))))]
async fn get_affiliation(st: St, Path((s, m)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.affiliation(&s, &m))?))
}

/// The marketplace's half of a connection
#[utoipa::path(put, path = "/v1/accounts/{m}/sellers/{s}", tag = "connections", params(params::M, params::S),
    request_body = SellerBody, responses((status = 200, description = "the marketplace's half", body = RegistrationView)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn put_seller(
    st: St,
    Path((m, s)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<SellerBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutSeller { marketplace: m.clone(), seller: s.clone(), body };
    write_then(&st, cmd, |e| e.registration(&m, &s)).await
}

/// Change given fields of the marketplace's half
#[utoipa::path(patch, path = "/v1/accounts/{m}/sellers/{s}", tag = "connections", params(params::M, params::S),
    request_body = SellerBody, responses((status = 200, description = "the marketplace's half", body = RegistrationView)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn patch_seller(
    st: St,
    Path((m, s)): Two,
    _: ActsFor,
    PatchJson(body): PatchJson<SellerBody>,
) -> ApiResult<Response> {
    let cmd = Command::PatchSeller { marketplace: m.clone(), seller: s.clone(), body };
    write_then(&st, cmd, |e| e.registration(&m, &s)).await
}

/// End the marketplace's half
#[utoipa::path(delete, path = "/v1/accounts/{m}/sellers/{s}", tag = "connections", params(params::M, params::S),
    responses((status = 204, description = "ended")), extensions(("x-offernet-who" = json!("m"))))]
async fn delete_seller(st: St, Path((m, s)): Two, _: ActsFor) -> ApiResult<Response> {
    write_no_content(&st, Command::DeleteSeller { marketplace: m, seller: s }).await
}

/// The marketplace's half
#[utoipa::path(get, path = "/v1/accounts/{m}/sellers/{s}", tag = "connections", params(params::M, params::S),
    responses((status = 200, description = "the marketplace's half", body = RegistrationView)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn get_seller(st: St, Path((m, s)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.registration(&m, &s))?))
}

/// One page of the marketplaces the seller sells to, sorted by marketplace id.
#[derive(Serialize, ToSchema)]
struct AffiliationPage {
    affiliations: Vec<MarketplaceConnection>,
    /// Connections in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// One page of the sellers the marketplace hosts, sorted by seller id.
#[derive(Serialize, ToSchema)]
struct SellerPage {
    sellers: Vec<SellerConnection>,
    /// Connections in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// The marketplaces the seller sells to: each with the seller's half and, once it exists, the marketplace's
#[utoipa::path(get, path = "/v1/accounts/{s}/affiliations", tag = "connections", params(params::S, params::Paging),
    responses((status = 200, description = "one page", body = AffiliationPage)),
    extensions(("x-offernet-who" = json!("s"))))]
async fn list_affiliations(
    st: St,
    Path(s): Path<String>,
    Query(q): Query<query::Query>,
    _: Reads,
) -> ApiResult<Response> {
    let (affiliations, total, next_offset) = query::listed(&st, &q, |e, w| e.list_affiliations(&s, w))?;
    Ok(json(StatusCode::OK, AffiliationPage { affiliations, total, next_offset }))
}

/// The sellers the marketplace hosts: each with the marketplace's half and, once it exists, the seller's
#[utoipa::path(get, path = "/v1/accounts/{m}/sellers", tag = "connections", params(params::M, params::Paging),
    responses((status = 200, description = "one page", body = SellerPage)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn list_sellers(st: St, Path(m): Path<String>, Query(q): Query<query::Query>, _: Reads) -> ApiResult<Response> {
    let (sellers, total, next_offset) = query::listed(&st, &q, |e, w| e.list_sellers(&m, w))?;
    Ok(json(StatusCode::OK, SellerPage { sellers, total, next_offset }))
}
