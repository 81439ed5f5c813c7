//! Both halves of a connection: the seller's (`affiliations`) and the marketplace's
//! (`sellers`), each with PUT (replace), PATCH (given fields), DELETE (end) and GET.

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use offernet_core::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::respond::{ok, write_no_content, write_then, St};
use crate::error::ApiResult;
use crate::extract::{ActsFor, PatchJson, Reads, StrictJson};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(put_affiliation, patch_affiliation, delete_affiliation, get_affiliation))
        .routes(routes!(put_seller, patch_seller, delete_seller, get_seller))
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
    let cmd = Command::PutAffiliation { seller: s.clone(), marketplace: m.clone(), body };
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
    let cmd = Command::PatchAffiliation { seller: s.clone(), marketplace: m.clone(), body };
    write_then(&st, cmd, |e| e.affiliation(&s, &m)).await
}

/// End the seller's half
#[utoipa::path(delete, path = "/v1/accounts/{s}/affiliations/{m}", tag = "connections", params(params::S, params::M),
    responses((status = 204, description = "ended")), extensions(("x-offernet-who" = json!("s"))))]
async fn delete_affiliation(st: St, Path((s, m)): Two, _: ActsFor) -> ApiResult<Response> {
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
