//! Role (c) order routes (vtex-compat.md §1.2, §2.3): an external seller E tells marketplace M
//! (or the seller above a chain order) that it invoiced (C5) or cancelled (C6) its sub order, at
//! `/vtex/{m}/api/oms/pvt/orders/{marketplaceOrderId}/invoice|cancel`, the paths of VTEX OMS
//! and of ESM's `marketplaceServicesEndpoint` (which offernet gives E as
//! `{public url}/vtex/{m}/api/oms`). `marketplaceOrderId` is E's sub order id; the caller must
//! be its seller. Both map onto E's own commands (`InvoiceOrder` with the invoice,
//! `CancelOrder`) and answer ESM `responseFulfill` from stored state, so a retry gets the same
//! bytes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use offernet_core::orders::ConflictKind;
use offernet_core::{Command, Engine, InvoiceBody, OrderAnswer, OrderStatus, SubOrderView};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{self, Sent};
use crate::body::{json_body, lenient};
use crate::error::{VtexError, VtexErrorBody, VtexResult};
use crate::lifecycle::{iso_date, parse_iso_date};
use crate::VtexState;

type St = State<Arc<VtexState>>;

/// C5 and C6, documented under tag `vtex`.
pub fn router() -> OpenApiRouter<Arc<VtexState>> {
    OpenApiRouter::new().routes(routes!(invoice)).routes(routes!(cancel))
}

/// ESM `requestSendInvoice`, read leniently.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendInvoice {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub invoice_number: Option<String>,
    pub invoice_value: Option<i64>,
    pub issuance_date: Option<String>,
    pub courier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub items: Option<Vec<InvoiceItem>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct InvoiceItem {
    pub id: Option<String>,
    pub quantity: Option<i64>,
    pub price: Option<i64>,
}

/// ESM `responseFulfill`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = VtexFulfillResponse)]
#[serde(rename_all = "camelCase")]
pub struct FulfillResponse {
    /// When the sub order was invoiced or cancelled, `YYYY-MM-DDThh:mm:ss.sssZ`.
    pub date: String,
    /// The sub order id (the path's `marketplaceOrderId`).
    pub order_id: String,
    /// The same on every retry.
    pub receipt: String,
}

/// The sub order `id` of caller E at buyer `m` (404 unless E is its seller and `m` its buyer).
fn sub_order(st: &VtexState, sent: &Sent, m: &str, id: &str) -> VtexResult<(String, SubOrderView)> {
    let a = auth::authenticate(st, sent)?;
    let Some(seller) = a.acting else {
        return Err(VtexError::new(
            StatusCode::BAD_REQUEST,
            "invalid_header",
            "the operator names the seller it speaks for in X-VTEX-API-AppKey",
        ));
    };
    match st.writer.read(|e| e.order_view(&seller, id)) {
        Ok(OrderAnswer::Seller(s)) if &*s.buyer == m => Ok((seller, s)),
        _ => Err(VtexError::not_found(format!("order `{id}` of seller `{seller}` at `{m}`"))),
    }
}

/// The invoice of a C5 body, checked against sub order `sub`: an `Output` invoice of exactly
/// its lines (ids and quantities; prices are the seller's to state).
pub fn invoice_body(req: &SendInvoice, sub: &SubOrderView) -> VtexResult<InvoiceBody> {
    match req.kind.as_deref() {
        Some("Output") => {}
        Some("Input") => {
            return Err(VtexError::unsupported("type", "returns (`Input` invoices) are not supported yet"))
        }
        _ => return Err(VtexError::invalid_field("type", "required, `Output`")),
    }
    let number = req.invoice_number.clone().filter(|n| !n.trim().is_empty());
    let number = number.ok_or_else(|| VtexError::invalid_field("invoiceNumber", "required"))?;
    let items = req.items.as_deref().ok_or_else(|| VtexError::invalid_field("items", "required"))?;
    let mut sent: Vec<(&str, i64)> = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let id = it.id.as_deref().ok_or_else(|| VtexError::invalid_field(&format!("items[{i}].id"), "required"))?;
        let q = it.quantity.ok_or_else(|| VtexError::invalid_field(&format!("items[{i}].quantity"), "required"))?;
        match sent.iter_mut().find(|(x, _)| *x == id) {
            Some((_, n)) => *n = n.saturating_add(q),
            None => sent.push((id, q)),
        }
    }
    let mut lines: Vec<(&str, i64)> = Vec::with_capacity(sub.items.len());
    for it in &sub.items {
        match lines.iter_mut().find(|(x, _)| *x == &*it.sku) {
            Some((_, n)) => *n += it.quantity as i64,
            None => lines.push((&it.sku, it.quantity as i64)),
        }
    }
    sent.sort_unstable();
    lines.sort_unstable();
    if sent != lines {
        return Err(VtexError::new(
            StatusCode::CONFLICT,
            "partial_invoice_unsupported",
            "the invoice's items must be the order's lines, each with its whole quantity",
        ));
    }
    let issued_ms = match req.issuance_date.as_deref() {
        None => None,
        Some(d) => Some(parse_iso_date(d).ok_or_else(|| {
            VtexError::invalid_field("issuanceDate", "a date `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss[.sss][Z|±hh:mm]`")
        })?),
    };
    Ok(InvoiceBody {
        number: Some(number),
        value: req.invoice_value,
        issued_ms,
        courier: req.courier.clone().filter(|s| !s.is_empty()),
        tracking_number: req.tracking_number.clone().filter(|s| !s.is_empty()),
        tracking_url: req.tracking_url.clone().filter(|s| !s.is_empty()),
    })
}

/// The receipt of `what` (`invoice:{id}:{number}` or `cancel:{id}`): 32 hex digits of its
/// SHA-256, the same on every retry.
fn receipt(what: &str) -> String {
    crate::digest32(what)
}

/// C5's answer once `InvoiceOrder` is applied: the invoice as kept.
fn invoiced(e: &Engine, seller: &str, id: &str) -> VtexResult<FulfillResponse> {
    let inv = e.invoice_of(seller, id).ok_or_else(|| VtexError::conflict("the order has no invoice kept"))?;
    let number = inv.number.as_deref().unwrap_or_default();
    Ok(FulfillResponse {
        date: iso_date(inv.at_ms),
        order_id: id.to_string(),
        receipt: receipt(&format!("invoice:{id}:{number}")),
    })
}

/// C6's answer once `CancelOrder` is applied.
fn cancelled(e: &Engine, seller: &str, id: &str) -> VtexResult<FulfillResponse> {
    let status = match e.order_view(seller, id) {
        Ok(OrderAnswer::Seller(s)) => s.status,
        _ => return Err(VtexError::internal("the order just cancelled is not readable")),
    };
    if status != OrderStatus::Cancelled {
        return Err(VtexError::conflict(format!("the order is {}", status.as_str())));
    }
    let ms = e.cancelled_ms(seller, id).ok_or_else(|| VtexError::internal("the order's cancel time is not kept"))?;
    Ok(FulfillResponse { date: iso_date(ms), order_id: id.to_string(), receipt: receipt(&format!("cancel:{id}")) })
}

fn ok(body: FulfillResponse) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Invoice (C5) by an external seller: its sub order is invoiced with the invoice (whole orders only); the same invoice again gives the same answer
#[utoipa::path(post, path = "/vtex/{m}/api/oms/pvt/orders/{marketplaceOrderId}/invoice", tag = "vtex",
    params(("m" = String, Path, description = "the buyer: the marketplace, or the seller above a chain order"),
        ("marketplaceOrderId" = String, Path, description = "the seller's sub order id, `{m}.{order}` (or a chain order's id)")),
    request_body(content = Object, description = "VTEX `requestSendInvoice` (ESM); `type` `Output`, the order's whole lines"),
    responses((status = 200, description = "VTEX `responseFulfill`; the same on a retry", body = FulfillResponse),
        (status = "4XX", description = "refused (`Input`: 400 unsupported; other lines: 409 partial_invoice_unsupported; another invoice number: 409 conflict)", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn invoice(st: St, Path((m, id)): Path<(String, String)>, sent: Sent, body: Body) -> Response {
    let run = async {
        let (seller, sub) = sub_order(&st, &sent, &m, &id)?;
        let req: SendInvoice = lenient(json_body(&st, body).await?)?;
        let invoice = invoice_body(&req, &sub)?;
        let number = invoice.number.clone();
        let cmd = Command::InvoiceOrder { account: seller.clone(), id: id.clone(), invoice: Some(Box::new(invoice)) };
        if let Err(refused) = st.writer.submit(cmd).await? {
            if sub.status == OrderStatus::Cancelled {
                record_conflict(&st, &seller, &id, number).await;
            }
            return Err(refused.into());
        }
        st.writer.read(|e| invoiced(e, &seller, &id)).map(ok)
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// An invoice for a sub order cancelled here (offernet cancelled at once and told the seller,
/// which may have shipped already, vtex-compat.md §6 Q2): the invoice is refused (409) and the
/// conflict journaled, so the marketplace sees `order.external_conflict`. Recorded once however
/// often the seller retries (the engine ignores a repeat); if the record fails, the seller's
/// next retry records it.
async fn record_conflict(st: &VtexState, seller: &str, id: &str, invoice_number: Option<String>) {
    let cmd = Command::RecordExternalConflict {
        seller: seller.to_string(),
        id: id.to_string(),
        what: ConflictKind::InvoiceAfterCancel,
        invoice_number,
    };
    match st.writer.submit(cmd).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, order = id, "the conflict of a late invoice was not recorded"),
        Err(e) => tracing::warn!(error = %e, order = id, "the conflict of a late invoice was not recorded"),
    }
}

/// Cancel (C6) by an external seller: its sub order and the whole order tree above and below it are cancelled and released
#[utoipa::path(post, path = "/vtex/{m}/api/oms/pvt/orders/{marketplaceOrderId}/cancel", tag = "vtex",
    params(("m" = String, Path, description = "the buyer: the marketplace, or the seller above a chain order"),
        ("marketplaceOrderId" = String, Path, description = "the seller's sub order id")),
    request_body(content = Object, description = "VTEX `requestCancelOrderMarketplace` (ESM) `{reason}`, recorded nowhere"),
    responses((status = 200, description = "VTEX `responseFulfill`; the same on a retry", body = FulfillResponse),
        (status = "4XX", description = "refused (an invoiced order tree: 409 conflict)", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn cancel(st: St, Path((m, id)): Path<(String, String)>, sent: Sent, body: Body) -> Response {
    let run = async {
        let (seller, _) = sub_order(&st, &sent, &m, &id)?;
        let _: serde_json::Value = json_body(&st, body).await?;
        st.writer.submit(Command::CancelOrder { account: seller.clone(), id: id.clone() }).await??;
        st.writer.read(|e| cancelled(e, &seller, &id)).map(ok)
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}
