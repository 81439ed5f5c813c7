//! The `/vtex/{m}` routes an external seller E calls at offernet marketplace M (role (c),
//! vtex-compat.md §1.2, §2.3): C1 change notification (two paths), C2 suggestion, C3/C4 price
//! and inventory notifications. The caller must be E itself (`sellerId`; the operator may
//! speak for anyone), and M must hold a registration half for E. Every error answer has VTEX's
//! shape (`error.rs`); bodies are read leniently.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use offernet_core::Command;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::suggestion::{self, SuggestionRequest};
use crate::auth::{self, Sent};
use crate::body::{json_body, lenient};
use crate::error::{VtexError, VtexErrorBody, VtexResult};
use crate::{Caller, VtexState};

type St = State<Arc<VtexState>>;

/// The routes with their documentation (tag `vtex`).
pub fn router() -> OpenApiRouter<Arc<VtexState>> {
    OpenApiRouter::new()
        .routes(routes!(change_notification))
        .routes(routes!(change_notification_sku_binding))
        .routes(routes!(save_suggestion))
        .routes(routes!(price_notification))
        .routes(routes!(inventory_notification))
}

/// Authenticates and admits seller `e` at marketplace `m`: the caller must be `e` (403
/// otherwise) or the operator; `m` must hold a registration half for `e` (404 otherwise, as
/// for an unknown account).
fn admit(st: &VtexState, sent: &Sent, m: &str, e: &str) -> VtexResult<()> {
    let a = auth::authenticate(st, sent)?;
    if let Caller::Account(caller) = &a.caller {
        if caller != e {
            return Err(VtexError::forbidden(format!(
                "`{caller}` may not speak for seller `{e}`: a seller calls these routes with its own sellerId"
            )));
        }
    }
    let (market, registered) = st.writer.read(|x| (x.has_account(m), x.registration(m, e).is_ok()));
    if !market {
        return Err(VtexError::not_found(format!("marketplace account `{m}`")));
    }
    if !registered {
        return Err(VtexError::not_found(format!(
            "seller `{e}` at marketplace `{m}`: the marketplace has not registered it (PUT /v1/accounts/{m}/sellers/{e})"
        )));
    }
    Ok(())
}

/// Queues a refresh of E's SKU when E is an external seller (its quotes come from A1); an
/// ordinary account's prices and stock are its own, so there is nothing to ask.
fn queue_refresh(st: &VtexState, e: &str, sku: &str) {
    if st.writer.read(|x| x.integration_role(e) == Some("seller")) {
        st.refresh.push(e, sku);
    }
}

/// C1: the seller SKU bound at M → 200 and a refresh; else 404 in the SKU Bindings API's words.
fn notified_change(st: &VtexState, sent: &Sent, (m, e, sku): (&str, &str, &str)) -> Response {
    let run = || {
        admit(st, sent, m, e)?;
        if !st.writer.read(|x| x.seller_sku_bound(m, e, sku)) {
            return Err(VtexError::not_found(format!(
                "Seller StockKeepingUnit {sku} not found for this seller id {e}"
            )));
        }
        queue_refresh(st, e, sku);
        Ok(StatusCode::OK.into_response())
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

/// C3/C4: E has SKU `sku` → 202 and a refresh (coalesced); else 404 (send a suggestion first).
fn notified_quote(st: &VtexState, sent: &Sent, (m, e, sku): (&str, &str, &str)) -> Response {
    let run = || {
        admit(st, sent, m, e)?;
        if st.writer.read(|x| x.sku(e, sku).is_err()) {
            return Err(VtexError::not_found(format!(
                "SKU `{sku}` of seller `{e}`: send it as a suggestion first (PUT /vtex/{m}/suggestions/{e}/{sku})"
            )));
        }
        queue_refresh(st, e, sku);
        Ok(StatusCode::ACCEPTED.into_response())
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

/// SKU change notification (C1): 200 when the seller's SKU is bound at this marketplace (its price and stock are asked again), else 404 (send a suggestion)
#[utoipa::path(post, path = "/vtex/{m}/api/catalog_system/pvt/skuseller/changenotification/{sellerId}/{sellerSkuId}", tag = "vtex",
    params(("m" = String, Path, description = "the marketplace account"),
        ("sellerId" = String, Path, description = "the calling seller's account id"),
        ("sellerSkuId" = String, Path, description = "the seller's own SKU id")),
    responses((status = 200, description = "the SKU is bound here; a quote refresh is queued"),
        (status = 403, description = "the caller is not the seller of the path (forbidden)", body = VtexErrorBody),
        (status = 404, description = "`Seller StockKeepingUnit {s} not found for this seller id {E}`, or the marketplace has not registered the seller (not_found)", body = VtexErrorBody),
        (status = "4XX", description = "refused", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn change_notification(st: St, Path((m, e, sku)): Path<(String, String, String)>, sent: Sent) -> Response {
    notified_change(&st, &sent, (&m, &e, &sku))
}

/// SKU change notification (C1) at the SKU Bindings API's newer path; the same as the catalog path
#[utoipa::path(post, path = "/vtex/{m}/api/sku-binding/pvt/skuseller/changenotification/{sellerId}/{sellerSkuId}", tag = "vtex",
    params(("m" = String, Path, description = "the marketplace account"),
        ("sellerId" = String, Path, description = "the calling seller's account id"),
        ("sellerSkuId" = String, Path, description = "the seller's own SKU id")),
    responses((status = 200, description = "the SKU is bound here; a quote refresh is queued"),
        (status = 403, description = "the caller is not the seller of the path (forbidden)", body = VtexErrorBody),
        (status = 404, description = "`Seller StockKeepingUnit {s} not found for this seller id {E}`, or the marketplace has not registered the seller (not_found)", body = VtexErrorBody),
        (status = "4XX", description = "refused", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn change_notification_sku_binding(
    st: St,
    Path((m, e, sku)): Path<(String, String, String)>,
    sent: Sent,
) -> Response {
    notified_change(&st, &sent, (&m, &e, &sku))
}

/// Save a SKU suggestion (C2): the seller's SKU is created or replaced from VTEX's fields; the marketplace's match mode decides the binding; its price and stock are asked of the seller
#[utoipa::path(put, path = "/vtex/{m}/suggestions/{sellerId}/{sellerSkuId}", tag = "vtex",
    params(("m" = String, Path, description = "the marketplace account"),
        ("sellerId" = String, Path, description = "the calling seller's account id"),
        ("sellerSkuId" = String, Path, description = "the seller's own SKU id")),
    request_body(content = Object, description = "SUG `SaveSuggestionRequest`; read: `SkuName` (or `ProductName`), `ProductId`, `ProductDescription`, `BrandName`, `CategoryFullPath`, `EAN` (a GTIN), `RefId`, `Height`, `Width`, `Length`, `Weight`, `Images[].imageUrl`, `SellerId` (must be the path's); `Pricing` and `AvailableQuantity` are ignored (price and stock come from the seller's simulation)"),
    responses((status = 200, description = "the SKU is stored; a quote refresh is queued"),
        (status = 400, description = "a field refused, named by its VTEX name (`EAN`, `SellerId`, …) (invalid_field, invalid_json)", body = VtexErrorBody),
        (status = 403, description = "the caller is not the seller of the path (forbidden)", body = VtexErrorBody),
        (status = 404, description = "the marketplace has not registered the seller (not_found)", body = VtexErrorBody),
        (status = "4XX", description = "refused", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn save_suggestion(
    st: St,
    Path((m, e, sku)): Path<(String, String, String)>,
    sent: Sent,
    body: Body,
) -> Response {
    let run = async {
        admit(&st, &sent, &m, &e)?;
        let req: SuggestionRequest = lenient(json_body(&st, body).await?)?;
        let body = suggestion::sku_body(&e, &req)?;
        let cmd = Command::PutSku { account: e.clone(), sku: sku.clone(), body: Box::new(body) };
        st.writer.submit(cmd).await?.map_err(suggestion::refusal)?;
        queue_refresh(&st, &e, &sku);
        Ok::<_, VtexError>(StatusCode::OK.into_response())
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// Price change notification (C3): 202, and the seller's price is asked again (coalesced)
#[utoipa::path(post, path = "/vtex/{m}/api/notificator/{sellerId}/changenotification/{skuId}/price", tag = "vtex",
    params(("m" = String, Path, description = "the marketplace account"),
        ("sellerId" = String, Path, description = "the calling seller's account id"),
        ("skuId" = String, Path, description = "the seller's own SKU id")),
    responses((status = 202, description = "a quote refresh is queued (several notifications of one SKU make one)"),
        (status = 403, description = "the caller is not the seller of the path (forbidden)", body = VtexErrorBody),
        (status = 404, description = "the seller has no such SKU (send a suggestion first), or the marketplace has not registered the seller (not_found)", body = VtexErrorBody),
        (status = "4XX", description = "refused", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn price_notification(st: St, Path((m, e, sku)): Path<(String, String, String)>, sent: Sent) -> Response {
    notified_quote(&st, &sent, (&m, &e, &sku))
}

/// Inventory change notification (C4): 202, and the seller's stock is asked again (coalesced)
#[utoipa::path(post, path = "/vtex/{m}/api/notificator/{sellerId}/changenotification/{skuId}/inventory", tag = "vtex",
    params(("m" = String, Path, description = "the marketplace account"),
        ("sellerId" = String, Path, description = "the calling seller's account id"),
        ("skuId" = String, Path, description = "the seller's own SKU id")),
    responses((status = 202, description = "a quote refresh is queued (several notifications of one SKU make one)"),
        (status = 403, description = "the caller is not the seller of the path (forbidden)", body = VtexErrorBody),
        (status = 404, description = "the seller has no such SKU (send a suggestion first), or the marketplace has not registered the seller (not_found)", body = VtexErrorBody),
        (status = "4XX", description = "refused", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn inventory_notification(st: St, Path((m, e, sku)): Path<(String, String, String)>, sent: Sent) -> Response {
    notified_quote(&st, &sent, (&m, &e, &sku))
}
