//! The fake external seller's HTTP surface: A1-A4 of the design under its fulfillment endpoint
//! (`{base}/pvt/orderForms/simulation`, `/pvt/orders`, `/pvt/orders/{orderId}/fulfill`,
//! `/pvt/orders/{orderId}/cancel`). Every request is recorded and validated against ESF plus the
//! overlay before the route's fault (if any) and its answer.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::Value;

use super::state::{Refusal, SellerState};
use crate::record::Recorded;
use crate::schema::{File, Part, Schemas};
use crate::serve::{apply_fault, header_str, header_violations, json_reply, parse_body, segments, vtex_error};

/// The routes of the fake seller, for faults and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SellerRoute {
    /// A1 `POST {fe}/pvt/orderForms/simulation`.
    Simulation,
    /// A2 `POST {fe}/pvt/orders`.
    Placement,
    /// A3 `POST {fe}/pvt/orders/{orderId}/fulfill`.
    Fulfill,
    /// A4 `POST {fe}/pvt/orders/{orderId}/cancel`.
    Cancel,
    /// Anything else (always a violation, answered 404).
    Unknown,
}

impl SellerRoute {
    /// The ESF path template whose request schema applies.
    pub fn template(self) -> Option<&'static str> {
        match self {
            SellerRoute::Simulation => Some("/pvt/orderForms/simulation"),
            SellerRoute::Placement => Some("/pvt/orders"),
            SellerRoute::Fulfill => Some("/pvt/orders/{sellerOrderId}/fulfill"),
            SellerRoute::Cancel => Some("/pvt/orders/{orderId}/cancel"),
            SellerRoute::Unknown => None,
        }
    }
}

pub(crate) struct Shared {
    /// The path of the fulfillment endpoint, e.g. `/api/fulfillment`.
    pub(crate) base: String,
    pub(crate) schemas: &'static Schemas,
    pub(crate) state: Mutex<SellerState<SellerRoute>>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, SellerState<SellerRoute>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

fn route_of(method: &Method, segs: Option<&[&str]>) -> (SellerRoute, String) {
    if method != Method::POST {
        return (SellerRoute::Unknown, String::new());
    }
    match segs {
        Some(["pvt", "orderForms", "simulation"]) => (SellerRoute::Simulation, String::new()),
        Some(["pvt", "orders"]) => (SellerRoute::Placement, String::new()),
        Some(["pvt", "orders", id, "fulfill"]) => (SellerRoute::Fulfill, id.to_string()),
        Some(["pvt", "orders", id, "cancel"]) => (SellerRoute::Cancel, id.to_string()),
        _ => (SellerRoute::Unknown, String::new()),
    }
}

/// What the request looked like, checked: (route, path id, parsed body, authorised, JSON ok,
/// violations).
struct Checked {
    route: SellerRoute,
    id: String,
    body: Option<Value>,
    authorised: bool,
    json_ok: bool,
    violations: Vec<String>,
}

fn check(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, raw: &Bytes) -> Checked {
    let segs = segments(uri.path(), &shared.base);
    let (route, id) = route_of(method, segs.as_deref());
    let mut violations = Vec::new();
    let body = parse_body(raw).unwrap_or_else(|e| {
        violations.push(e);
        None
    });
    let json_ok = violations.is_empty();
    match (route.template(), &body) {
        (None, _) => violations.push(format!("no such route: {method} {}", uri.path())),
        (Some(t), Some(v)) => violations.extend(
            shared.schemas.validate_operation(File::Esf, "post", t, Part::Request, v).err().unwrap_or_default(),
        ),
        (Some(_), None) if json_ok => violations.push("the request has no body".into()),
        _ => {}
    }
    let expected = shared.lock().credentials.clone();
    let (authorised, more) = header_violations(headers, &expected, raw);
    violations.extend(more);
    Checked { route, id, body, authorised, json_ok, violations }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let c = check(&shared, &method, &uri, &headers, &raw);
    let fault = {
        let mut st = shared.lock();
        let fault = st.log.next_fault(c.route);
        st.log.record(Recorded {
            route: c.route,
            method: method.to_string(),
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            app_key: header_str(&headers, "x-vtex-api-appkey").map(str::to_string),
            body: c.body.clone(),
            violations: c.violations.clone(),
            fault: fault.clone(),
        });
        fault
    };
    let late = match &fault {
        Some(crate::record::Fault::Late(d)) => Some(*d),
        _ => None,
    };
    if let Some(reply) = apply_fault(fault).await {
        return reply;
    }
    let reply = answer_of(&shared, c);
    if let Some(d) = late {
        tokio::time::sleep(d).await;
    }
    reply
}

/// The answer of a checked request that no fault replaced.
fn answer_of(shared: &Shared, c: Checked) -> Response {
    if c.route == SellerRoute::Unknown {
        return vtex_error(404, "not_found", "no such route at the fake seller");
    }
    if !c.authorised {
        return vtex_error(401, "unauthorized", "missing or wrong X-VTEX-API-AppKey / X-VTEX-API-AppToken");
    }
    if !c.json_ok {
        return vtex_error(400, "invalid_json", &c.violations[0]);
    }
    if let Some(first) = c.violations.first() {
        return vtex_error(400, "invalid_field", first);
    }
    let body = c.body.unwrap_or(Value::Null);
    let mut st = shared.lock();
    match c.route {
        SellerRoute::Simulation => json_reply(StatusCode::OK, &st.simulate(&body)),
        SellerRoute::Placement => place_all(&mut st, &body),
        SellerRoute::Fulfill => answer(st.fulfill(&c.id, &body)),
        SellerRoute::Cancel => answer(st.cancel(&c.id, &body)),
        SellerRoute::Unknown => vtex_error(404, "not_found", "no such route"),
    }
}

/// A placement: one order object, or an array placed in order (the first refusal answers; the
/// orders before it stay placed, as offernet's B2 does). The answer has the request's container.
fn place_all(st: &mut SellerState<SellerRoute>, body: &Value) -> Response {
    match body {
        Value::Array(orders) => {
            let mut answers = Vec::new();
            for order in orders {
                match st.place(order) {
                    Ok(a) => answers.push(a),
                    Err(refusal) => return refused(refusal),
                }
            }
            json_reply(StatusCode::OK, &Value::Array(answers))
        }
        order => answer(st.place(order)),
    }
}

fn answer(result: Result<Value, Refusal>) -> Response {
    match result {
        Ok(v) => json_reply(StatusCode::OK, &v),
        Err(refusal) => refused(refusal),
    }
}

fn refused((status, message): Refusal) -> Response {
    vtex_error(status, "1", &message)
}
