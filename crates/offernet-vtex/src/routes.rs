//! The `/vtex` routes of role (b) (vtex-compat.md §1.1): seller S serves VTEX marketplace V at
//! `/vtex/{s}/api/fulfillment` + VTEX's paths. Each handler authenticates (`auth.rs`), admits
//! only a marketplace S is affiliated to (or the operator speaking for one), reads the body
//! leniently within the body limit, and maps it (`simulation.rs`, `placement.rs`,
//! `lifecycle.rs`). Every error answer has VTEX's shape (`error.rs`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use offernet_core::{Command, OrderAnswer, OrderStatus, OutboundCall, OutboundOutcome};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{self, Sent};
use crate::body::{json_body, lenient};
use crate::error::{VtexError, VtexErrorBody, VtexResult};
use crate::lifecycle::{self, Action, OrderIdRequest};
use crate::placement::{self, Placement};
use crate::simulation::{self, SimulationRequest};
use crate::{Caller, VtexState};

type St = State<Arc<VtexState>>;

/// The routes with their documentation (tag `vtex`).
pub fn router() -> OpenApiRouter<Arc<VtexState>> {
    OpenApiRouter::new()
        .routes(routes!(simulation))
        .routes(routes!(place_orders))
        .routes(routes!(fulfill))
        .routes(routes!(cancel))
        .merge(crate::market::router())
        .merge(crate::oms::router())
}

/// The admitted parties of a request: seller `seller` (its id at V `remote_id`) and the
/// marketplace `marketplace` that calls; the affiliation's `follow_up_email` (B2).
struct Admitted {
    seller: String,
    remote_id: String,
    marketplace: String,
    follow_up_email: Option<String>,
}

/// Authenticates and admits: the caller must be a marketplace seller `s` is affiliated to
/// (403 otherwise), or the operator naming one in `X-VTEX-API-AppKey`. An unknown seller is
/// 404.
fn admit(st: &VtexState, sent: &Sent, s: &str) -> VtexResult<Admitted> {
    let a = auth::authenticate(st, sent)?;
    let Some(marketplace) = a.acting else {
        return Err(VtexError::new(
            StatusCode::BAD_REQUEST,
            "invalid_header",
            "the operator names the marketplace it speaks for in X-VTEX-API-AppKey",
        ));
    };
    let (seller_exists, affiliation) = st.writer.read(|e| (e.has_account(s), e.affiliation(s, &marketplace).ok()));
    if !seller_exists {
        return Err(VtexError::not_found(format!("seller account `{s}`")));
    }
    let Some(aff) = affiliation else {
        return Err(match a.caller {
            Caller::Operator => VtexError::not_found(format!("an affiliation of `{s}` with `{marketplace}`")),
            Caller::Account(_) => VtexError::forbidden(format!("`{marketplace}` is not a marketplace of seller `{s}`")),
        });
    };
    let remote_id = aff.remote_seller_id.as_deref().unwrap_or(s).to_string();
    let follow_up_email = aff.follow_up_email.as_deref().map(str::to_string);
    Ok(Admitted { seller: s.to_string(), remote_id, marketplace, follow_up_email })
}

fn ok(body: impl serde::Serialize) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Fulfillment simulation (B1): prices, stock and delivery options of the seller's SKUs at the calling marketplace; never changes anything
#[utoipa::path(post, path = "/vtex/{s}/api/fulfillment/pvt/orderForms/simulation", tag = "vtex",
    params(("s" = String, Path, description = "the seller account")),
    request_body(content = Object, description = "VTEX `requestFulfillmentSimulation` (ESF); unknown fields ignored"),
    responses((status = 200, description = "VTEX `responseFulfillmentSimulation`", body = crate::simulation::SimulationResponse),
        (status = "4XX", description = "refused", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn simulation(st: St, Path(s): Path<String>, sent: Sent, body: Body) -> Response {
    let run = async {
        let p = admit(&st, &sent, &s)?;
        let req: SimulationRequest = lenient(json_body(&st, body).await?)?;
        let parties = simulation::Parties { seller: &p.seller, remote_id: &p.remote_id, marketplace: &p.marketplace };
        st.writer.read(|e| simulation::simulate(e, &parties, &req)).map(ok)
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// Order placement (B2): each order becomes an order at the calling marketplace, reserved along the whole chain; the same order again gives the same answer
#[utoipa::path(post, path = "/vtex/{s}/api/fulfillment/pvt/orders", tag = "vtex",
    params(("s" = String, Path, description = "the seller account")),
    request_body(content = Object, description = "VTEX `orderPlacement` (ESF), an array of them as VTEX sends (or one object)"),
    responses((status = 200, description = "VTEX `responseOrderPlacement`, in the request's container", body = placement::PlacementAnswers),
        (status = "4XX", description = "refused; earlier orders of an array stay placed", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn place_orders(st: St, Path(s): Path<String>, sent: Sent, body: Body) -> Response {
    let run = async {
        let p = admit(&st, &sent, &s)?;
        let value = json_body(&st, body).await?;
        let (elements, array) = placement::elements(&value)?;
        // The affiliation's `follow_up_email`, when it has one (design §2.2 B2).
        let email = p.follow_up_email.clone();
        let mut answers = Vec::with_capacity(elements.len());
        for order in elements {
            let parties =
                placement::Parties { seller: &p.seller, remote_id: &p.remote_id, marketplace: &p.marketplace };
            let placed = st.writer.read(|e| placement::placement(e, &parties, order, email.as_deref()))?;
            place(&st, &p.marketplace, &placed).await?;
            answers.push(placed.answer);
        }
        Ok::<_, VtexError>(ok(if array { Value::Array(answers) } else { answers.remove(0) }))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// Stores the document durably (unless the order exists: a retry), then places the order.
async fn place(st: &VtexState, marketplace: &str, placed: &Placement) -> VtexResult<()> {
    let key = (marketplace, placed.order_id.as_str());
    crate::document::store_before_order(&st.writer, &st.documents, key, &placed.sha256, &placed.document)
        .await
        .map_err(|_| {
            VtexError::new(StatusCode::SERVICE_UNAVAILABLE, "writer_unavailable", "the order document was not stored")
        })?;
    let cmd = Command::PlaceOrder { marketplace: marketplace.to_string(), body: placed.body.clone() };
    st.writer.submit(cmd).await??;
    Ok(())
}

/// Fulfil and cancel: the same body, the same answer shape.
async fn act(st: &VtexState, sent: &Sent, (s, order): (&str, &str), body: Body, action: Action) -> Response {
    let run = async {
        let p = admit(st, sent, s)?;
        let req: OrderIdRequest = lenient(json_body(st, body).await?)?;
        let parties = (p.seller.as_str(), p.marketplace.as_str());
        let id = st.writer.read(|e| lifecycle::order_of(e, parties, order, &req))?;
        let cmd = match action {
            Action::Fulfill => Command::AuthorizeOrder { marketplace: p.marketplace.clone(), id: id.clone() },
            Action::Cancel => Command::CancelOrder { account: p.marketplace.clone(), id: id.clone() },
        };
        let refused = st.writer.submit(cmd).await?.err();
        if let (Some(refusal), Action::Cancel) = (refused.clone(), action) {
            invoice_again(st, &p, &id).await;
            return Err(refusal.into());
        }
        st.writer.read(|e| lifecycle::answer(e, &p.marketplace, &id, action)).map(ok)
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// After a refused cancel (B4): when the seller's order is invoiced, its invoice is owed to V
/// again (B8), VTEX's way for a seller to refuse a cancellation (design §2.2). Orders that owe V
/// nothing (no services endpoint, V no mirror) are refused with no more to do.
async fn invoice_again(st: &VtexState, p: &Admitted, id: &str) {
    let seller_order = format!("{}.{id}", p.marketplace);
    let invoiced = st.writer.read(|e| {
        matches!(e.order_view(&p.seller, &seller_order), Ok(OrderAnswer::Seller(s)) if s.status == OrderStatus::Invoiced)
    });
    if !invoiced {
        return;
    }
    let again = Command::RecordOutbound {
        seller: p.seller.clone(),
        id: seller_order,
        call: OutboundCall::Invoice,
        outcome: OutboundOutcome::Again,
    };
    match st.writer.submit(again).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::debug!(error = %e, "the invoice is not owed to the marketplace again"),
        Err(e) => tracing::warn!(error = %e, "owing the invoice again after a refused cancel"),
    }
}

/// Authorise fulfillment (B3): payment approved, dispatch allowed down the chain, no more expiry
#[utoipa::path(post, path = "/vtex/{s}/api/fulfillment/pvt/orders/{sellerOrderId}/fulfill", tag = "vtex",
    params(("s" = String, Path, description = "the seller account"),
        ("sellerOrderId" = String, Path, description = "the seller's order id, `{marketplace}.{order}`")),
    request_body(content = Object, description = "`{marketplaceOrderId}` (ESF `requestOrderId`; other fields ignored)"),
    responses((status = 200, description = "VTEX `repsonseOrderId`; the same bytes on a retry", body = lifecycle::OrderIdResponse),
        (status = "4XX", description = "refused (an expired reservation: 409 conflict)", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn fulfill(st: St, Path((s, order)): Path<(String, String)>, sent: Sent, body: Body) -> Response {
    act(&st, &sent, (&s, &order), body, Action::Fulfill).await
}

/// Cancel (B4) by the marketplace: released everywhere; refused once invoiced
#[utoipa::path(post, path = "/vtex/{s}/api/fulfillment/pvt/orders/{orderId}/cancel", tag = "vtex",
    params(("s" = String, Path, description = "the seller account"),
        ("orderId" = String, Path, description = "the seller's order id, `{marketplace}.{order}`")),
    request_body(content = Object, description = "ESF `requestOrderId` (read: `marketplaceOrderId`)"),
    responses((status = 200, description = "VTEX `repsonseOrderId` with a receipt: accepted; the same on a retry", body = lifecycle::OrderIdResponse),
        (status = "4XX", description = "refused (invoiced: 409 conflict)", body = VtexErrorBody)),
    extensions(("x-offernet-who" = json!("vtex"))))]
async fn cancel(st: St, Path((s, order)): Path<(String, String)>, sent: Sent, body: Body) -> Response {
    act(&st, &sent, (&s, &order), body, Action::Cancel).await
}
