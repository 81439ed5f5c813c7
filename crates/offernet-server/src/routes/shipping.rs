//! A seller's shipping profile (`offernet_core::shipping`): the countries it ships to and its
//! delivery options, what a VTEX marketplace's checkout simulation shows.

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use offernet_core::{Command, ShippingBody, ShippingProfile};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::respond::{ok, write_then, St};
use crate::error::ApiResult;
use crate::extract::{ActsFor, Reads, StrictJson};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(put_shipping, get_shipping))
}

/// Replace the shipping profile: countries (ISO 3166 alpha-3) and up to 10 delivery options, each with its freight per item line and VTEX-style estimate
#[utoipa::path(put, path = "/v1/accounts/{a}/shipping", tag = "orders", params(params::A), request_body = ShippingBody,
    responses((status = 200, description = "the profile", body = ShippingProfile)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn put_shipping(
    st: St,
    Path(a): Path<String>,
    _: ActsFor,
    StrictJson(body): StrictJson<ShippingBody>,
) -> ApiResult<Response> {
    let account = a.clone();
    write_then(&st, Command::PutShippingProfile { account, body }, |e| e.shipping_profile(&a)).await
}

/// The shipping profile (empty lists when none was set)
#[utoipa::path(get, path = "/v1/accounts/{a}/shipping", tag = "orders", params(params::A),
    responses((status = 200, description = "the profile", body = ShippingProfile)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_shipping(st: St, Path(a): Path<String>, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.shipping_profile(&a))?))
}
