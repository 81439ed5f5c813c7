//! Orders: the marketplace's reservation time, placing an order, reading one, and its
//! lifecycle (authorise, cancel, invoice).

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
use super::respond::{at_item, json, required, write, write_then, NoFields, St};
use crate::error::ApiResult;
use crate::extract::{ActsFor, OptionalJson, Reads, StrictJson};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(put_order_settings))
        .routes(routes!(place_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(authorize_order))
        .routes(routes!(cancel_order))
        .routes(routes!(invoice_order))
}

#[derive(Serialize, ToSchema)]
struct OrderSettings {
    /// Minutes an order stays reserved before it expires unless authorised.
    #[schema(required = true)]
    reservation_minutes: Option<i64>,
}

/// Reservation time of the marketplace's orders
#[utoipa::path(put, path = "/v1/accounts/{m}/order-settings", tag = "orders", params(params::M),
    request_body = OrderSettingsBody, responses((status = 200, description = "the settings", body = OrderSettings)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn put_order_settings(
    st: St,
    Path(m): Path<String>,
    _: ActsFor,
    StrictJson(body): StrictJson<OrderSettingsBody>,
) -> ApiResult<Response> {
    let reservation_minutes = body.reservation_minutes;
    write(&st, Command::PutOrderSettings { account: m, body }).await?;
    Ok(json(StatusCode::OK, OrderSettings { reservation_minutes }))
}

/// Place an order: reserves along the whole chain or fails whole (409 insufficient_stock); the same id and body again returns the same order. An order that includes an external seller needs `delivery` (kept outside the journal) and waits up to `place_wait_ms` for its placements there
#[utoipa::path(post, path = "/v1/accounts/{m}/orders", tag = "orders", params(params::M), request_body = OrderRequest,
    responses((status = 201, description = "placed", body = OrderAnswer),
        (status = 200, description = "placed before with the same id and body", body = OrderAnswer)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn place_order(
    st: St,
    Path(m): Path<String>,
    _: ActsFor,
    StrictJson(request): StrictJson<OrderRequest>,
) -> ApiResult<Response> {
    let (mut body, delivery) = request.split();
    let id = required("id", body.id.clone())?;
    if let Some(d) = &delivery {
        store_delivery(&st, (&m, &id), d, &mut body).await?;
    }
    let items = body.items.clone().unwrap_or_default();
    let cmd = Command::PlaceOrder { marketplace: m.clone(), body };
    let events = write(&st, cmd).await.map_err(|e| at_item(e, &m, &items))?;
    let created = events.iter().any(|e| matches!(e.body, EventBody::OrderCreated(_)));
    wait_for_placements(&st, &m, &id).await;
    let view = st.writer.read(|e| e.order_view(&m, &id))?;
    Ok(json(if created { StatusCode::CREATED } else { StatusCode::OK }, view))
}

/// Checks `delivery` and stores it durably as the order's document before the order is placed
/// (unless the order exists: a retry); the order then carries only its SHA-256.
async fn store_delivery(
    st: &AppState,
    (m, id): (&str, &str),
    delivery: &DeliveryBody,
    body: &mut OrderBody,
) -> ApiResult<()> {
    check_delivery(delivery)?;
    if body.document_sha256.is_some() {
        return Err(DomainError::invalid("document_sha256", "not with `delivery`: the server sets it").into());
    }
    let (text, sha) = offernet_vtex::document::delivery_document(delivery);
    offernet_vtex::document::store_before_order(&st.writer, &st.documents, (m, id), &sha, &text).await.map_err(
        |_| {
            crate::error::ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "writer_unavailable",
                "the order document was not stored",
            )
        },
    )?;
    body.document_sha256 = Some(sha);
    Ok(())
}

/// Waits up to `place_wait_ms` (at most half the request timeout) while a placement of the
/// order at an external seller is pending (the effects worker places it and records the
/// outcome); then the order is answered as it is.
async fn wait_for_placements(st: &AppState, m: &str, id: &str) {
    let wait = st.config.place_wait_ms.min(st.config.request_timeout_ms / 2);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(wait);
    while st.writer.read(|e| e.placements_pending(m, id)) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// An order: the marketplace's whole order, or a seller's seller or chain order
#[utoipa::path(get, path = "/v1/accounts/{a}/orders/{id}", tag = "orders", params(params::A, params::OrderId),
    responses((status = 200, description = "the order", body = OrderAnswer)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_order(st: St, Path((a, id)): Path<(String, String)>, _: Reads) -> ApiResult<Response> {
    let (mut view, doc) =
        st.writer.read(|e| Ok::<_, DomainError>((e.order_view(&a, &id)?, e.order_document_ref(&a, &id))))?;
    if let Some(d) = doc {
        let stored = st.documents.lock().await.get(&d.marketplace, &d.order, &d.sha256).await;
        // A document past its retention (or one not readable now) leaves the order without it.
        let document = match stored {
            Ok(Some(text)) => serde_json::from_str::<serde_json::Value>(&text).ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "reading an order document");
                None
            }
        };
        let shown = document.map(|v| offernet_vtex::document::visible(&v, d.access));
        match &mut view {
            OrderAnswer::Marketplace(o) => o.document = shown,
            OrderAnswer::Seller(s) => s.document = shown,
        }
    }
    Ok(json(StatusCode::OK, view))
}

/// What an order's account can do to it once placed.
#[derive(Clone)]
enum Action {
    Authorize,
    Cancel,
    Invoice(Option<Box<InvoiceBody>>),
}

/// The invoice action's body: none, `{}`, or the fiscal invoice (sent on to an external VTEX
/// marketplace when the order stands for one of its orders).
#[derive(Default, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct InvoiceRequest {
    invoice: Option<InvoiceBody>,
}

/// Submits the action on order `id` of account `a`, then answers the order as `a` sees it.
async fn act(st: &AppState, (a, id): (String, String), action: Action) -> ApiResult<Response> {
    let (account, order) = (a.clone(), id.clone());
    let cmd = match action {
        Action::Authorize => Command::AuthorizeOrder { marketplace: account, id: order },
        Action::Cancel => Command::CancelOrder { account, id: order },
        Action::Invoice(invoice) => Command::InvoiceOrder { account, id: order, invoice },
    };
    write_then(st, cmd, |e| e.order_view(&a, &id)).await
}

/// Payment confirmed: dispatch allowed down the chain, no more expiry
#[utoipa::path(post, path = "/v1/accounts/{m}/orders/{id}/authorize", tag = "orders", params(params::M, params::OrderId),
    responses((status = 200, description = "the order", body = OrderAnswer)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn authorize_order(
    st: St,
    Path(p): Path<(String, String)>,
    _: ActsFor,
    _: OptionalJson<NoFields>,
) -> ApiResult<Response> {
    act(&st, p, Action::Authorize).await
}

/// Cancel: by the marketplace before any invoice, or by a seller for its order and its chain orders
#[utoipa::path(post, path = "/v1/accounts/{a}/orders/{id}/cancel", tag = "orders", params(params::A, params::OrderId),
    responses((status = 200, description = "the order", body = OrderAnswer)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn cancel_order(
    st: St,
    Path(p): Path<(String, String)>,
    _: ActsFor,
    _: OptionalJson<NoFields>,
) -> ApiResult<Response> {
    act(&st, p, Action::Cancel).await
}

/// Invoice a seller or chain order (by its seller): the units leave the warehouse
#[utoipa::path(post, path = "/v1/accounts/{a}/orders/{id}/invoice", tag = "orders", params(params::A, params::OrderId),
    request_body(content = InvoiceRequest, description = "the fiscal invoice, if any: `{}` for none (an empty body reads as `{}`)"),
    responses((status = 200, description = "the order", body = OrderAnswer)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn invoice_order(
    st: St,
    Path(p): Path<(String, String)>,
    _: ActsFor,
    OptionalJson(b): OptionalJson<InvoiceRequest>,
) -> ApiResult<Response> {
    act(&st, p, Action::Invoice(b.invoice.map(Box::new))).await
}

/// One page of the account's orders, sorted by the account's order id.
#[derive(Serialize, ToSchema)]
struct OrderPage {
    /// Each as `GET …/orders/{id}` shows it: a marketplace order, or a seller or chain order.
    orders: Vec<OrderAnswer>,
    /// Orders in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// The account's orders: as marketplace its orders, as seller its seller and chain orders
#[utoipa::path(get, path = "/v1/accounts/{m}/orders", tag = "orders",
    params(params::OrdersOf, params::OrderFilters, params::Paging),
    responses((status = 200, description = "one page", body = OrderPage)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn list_orders(st: St, Path(a): Path<String>, Query(q): Query<query::Query>, _: Reads) -> ApiResult<Response> {
    let filter = OrderFilter {
        role: query::role(&q)?,
        status: query::order_status(&q)?,
        created_after: query::ms(&q, "created_after")?,
        created_before: query::ms(&q, "created_before")?,
    };
    let (orders, total, next_offset) = query::listed(&st, &q, |e, w| e.list_orders(&a, &filter, w))?;
    Ok(json(StatusCode::OK, OrderPage { orders, total, next_offset }))
}
