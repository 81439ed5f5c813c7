//! One attempt at an effect: A2 (the checkout simulation, the SLA, the placement), A3 or A4,
//! through the shared outbound client; what it ends with is an [`Attempt`].

use offernet_core::{ExternalEffect, ExternalEffectKind, ExternalOutcome};
use reqwest::Method;
use serde_json::Value;

use super::bodies::{self, Delivery};
use super::{Attempt, PLACEMENT_MARGIN_MS};
use crate::outbound::{now_ms, Answer, Call, Failure, Request};
use crate::VtexState;

fn refused(code: impl Into<String>) -> Attempt {
    Attempt::Record(ExternalOutcome::Refused { code: code.into() })
}

pub(super) async fn attempt(st: &VtexState, x: &ExternalEffect) -> Attempt {
    match x.kind {
        ExternalEffectKind::Place => place(st, x).await,
        ExternalEffectKind::Fulfill => {
            let Some(id) = &x.external_order_id else { return Attempt::Again(None) };
            let body = bodies::fulfill(x);
            match call(st, x, Call::Fulfill, &format!("/pvt/orders/{id}/fulfill"), &body).await {
                Ok(_) => Attempt::Record(ExternalOutcome::Dispatched {}),
                Err(f) => Attempt::Again(f.retry_after()),
            }
        }
        ExternalEffectKind::Cancel => {
            let Some(id) = &x.external_order_id else { return Attempt::Again(None) };
            let body = bodies::cancel(x);
            match call(st, x, Call::Cancel, &format!("/pvt/orders/{id}/cancel"), &body).await {
                Ok(a) if bodies::cancel_accepted(a.body.as_ref()) => {
                    Attempt::Record(ExternalOutcome::CancelConfirmed {})
                }
                Ok(_) => Attempt::Again(None), // "still evaluating": ask again later
                Err(f) => Attempt::Again(f.retry_after()),
            }
        }
    }
}

async fn call(st: &VtexState, x: &ExternalEffect, c: Call, path: &str, body: &Value) -> Result<Answer, Failure> {
    let url = bodies::url(x, path).ok_or_else(|| Failure::Refused("no fulfillment endpoint".into()))?;
    let r = Request { account: &x.seller, seller: None, call: c, method: Method::POST, url, body: Some(body) };
    st.outbound.call(r).await
}

/// What a failed call of a placement means: a refusal for good (a 4xx other than 408/429, a
/// refused endpoint), else another try.
fn failed(f: &Failure, what: &str) -> Attempt {
    match f {
        Failure::Status { status, .. } if !f.retryable() => refused(format!("{what}_refused_{status}")),
        Failure::Refused(_) => refused("endpoint_refused"),
        _ => Attempt::Again(f.retry_after()),
    }
}

/// A2: past its deadline, refused `timeout`; else the document's delivery, a checkout
/// simulation (stock and SLAs at that address), and the placement. A sub order already closed
/// (cancelled or expired while its placement was pending) is placed again without the stock
/// check, so that the seller's deduplication names its order, which the cancel then withdraws.
async fn place(st: &VtexState, x: &ExternalEffect) -> Attempt {
    let now = now_ms();
    if x.open && now.saturating_add(PLACEMENT_MARGIN_MS) >= x.expires_ms {
        return refused("timeout");
    }
    let delivery = match document(st, x).await {
        Ok(Some(d)) => d,
        Ok(None) => return refused("no_delivery"),
        Err(()) => return Attempt::Again(None),
    };
    let request = bodies::check_simulation(x, &delivery);
    let slas = match call(st, x, Call::CheckSimulation, "/pvt/orderForms/simulation", &request).await {
        Ok(a) => match bodies::read_simulation(x, &delivery, a.body.as_ref().unwrap_or(&Value::Null), x.open) {
            Ok(slas) => slas,
            Err(code) => return refused(code),
        },
        Err(f) => return failed(&f, "simulation"),
    };
    let body = bodies::placement(x, &delivery, &slas, &st.public_url, now);
    match call(st, x, Call::Placement, "/pvt/orders", &body).await {
        Ok(a) => match a.body.as_ref().and_then(|b| bodies::read_placement(x, b)) {
            Some(outcome) => Attempt::Record(outcome),
            None => Attempt::Again(None),
        },
        Err(f) => failed(&f, "placement"),
    }
}

/// The order's delivery from its stored document (`Err` when the table cannot be read now).
async fn document(st: &VtexState, x: &ExternalEffect) -> Result<Option<Delivery>, ()> {
    let Some(sha) = &x.document_sha256 else { return Ok(None) };
    let stored = st.documents.lock().await.get(&x.marketplace, &x.order, sha).await;
    match stored {
        Ok(Some(text)) => Ok(serde_json::from_str::<Value>(&text).ok().as_ref().and_then(bodies::delivery_of)),
        Ok(None) => Ok(None),
        Err(e) => {
            tracing::warn!(error = %e, "reading an order document");
            Err(())
        }
    }
}
