//! The fake VTEX marketplace's HTTP surface (what offernet calls as S's connector, design §1.1):
//! B5 `/api/catalog_system/pvt/skuseller/changenotification/{sellerId}/{skuId}` (and the
//! `sku-binding` path), B6 `/{account}/suggestions/{sellerId}/{sellerSkuId}`, B7
//! `/api/notificator/{sellerId}/changenotification/{skuId}/price|inventory`, and at the services
//! endpoint `/api/oms`: B8 `/pvt/orders/{id}/invoice`, B10 `/pvt/orders/{id}/invoice/{number}`,
//! B9 `/pvt/orders/{id}/cancel`. Requests are recorded and validated (SUG, MA, ESM + overlay).

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::Value;

use super::state::{push_bounded, MarketplaceState, OrderMessage};
use crate::record::Recorded;
use crate::schema::{File, Part, Schemas};
use crate::serve::{
    apply_fault, empty_reply, header_str, header_violations, json_reply, parse_body, segments, vtex_error,
};

/// The routes of the fake marketplace, for faults and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarketplaceRoute {
    /// B5 catalog change notification (both paths).
    ChangeNotification,
    /// B6 `PUT …/suggestions/{sellerId}/{sellerSkuId}`.
    Suggestion,
    /// B7 `…/price`.
    PriceNotification,
    /// B7 `…/inventory`.
    InventoryNotification,
    /// B8 `{mse}/pvt/orders/{id}/invoice`.
    Invoice,
    /// B10 `{mse}/pvt/orders/{id}/invoice/{invoiceNumber}`.
    Tracking,
    /// B9 `{mse}/pvt/orders/{id}/cancel`.
    SellerCancel,
    /// Anything else (a violation, answered 404).
    Unknown,
}

impl MarketplaceRoute {
    /// The file and path template whose request schema applies (`None`: no body expected).
    fn schema(self) -> Option<(File, &'static str, &'static str)> {
        match self {
            MarketplaceRoute::Suggestion => Some((File::Sug, "put", "/suggestions/{sellerId}/{sellerSkuId}")),
            MarketplaceRoute::Invoice => Some((File::Esm, "post", "/pvt/orders/{marketplaceOrderId}/invoice")),
            MarketplaceRoute::Tracking => {
                Some((File::Esm, "post", "/pvt/orders/{marketplaceOrderId}/invoice/{invoiceNumber}"))
            }
            MarketplaceRoute::SellerCancel => Some((File::Esm, "post", "/pvt/orders/{marketplaceOrderId}/cancel")),
            _ => None,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) account: String,
    pub(crate) schemas: &'static Schemas,
    pub(crate) state: Mutex<MarketplaceState<MarketplaceRoute>>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, MarketplaceState<MarketplaceRoute>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// The route and its path parameters.
fn route_of(method: &Method, path: &str, account: &str) -> (MarketplaceRoute, Vec<String>) {
    use MarketplaceRoute as R;
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let segs = segments(path, "").unwrap_or_default();
    let route = match (method.as_str(), segs.as_slice()) {
        ("POST", ["api", "catalog_system" | "sku-binding", "pvt", "skuseller", "changenotification", s, k]) => {
            (R::ChangeNotification, own(&[s, k]))
        }
        ("PUT", [a, "suggestions", s, k]) if *a == account => (R::Suggestion, own(&[s, k])),
        ("POST", ["api", "notificator", s, "changenotification", k, "price"]) => (R::PriceNotification, own(&[s, k])),
        ("POST", ["api", "notificator", s, "changenotification", k, "inventory"]) => {
            (R::InventoryNotification, own(&[s, k]))
        }
        ("POST", ["api", "oms", "pvt", "orders", id, "invoice"]) => (R::Invoice, own(&[id])),
        ("POST", ["api", "oms", "pvt", "orders", id, "invoice", n]) => (R::Tracking, own(&[id, n])),
        ("POST", ["api", "oms", "pvt", "orders", id, "cancel"]) => (R::SellerCancel, own(&[id])),
        _ => (R::Unknown, Vec::new()),
    };
    route
}

struct Checked {
    route: MarketplaceRoute,
    params: Vec<String>,
    body: Option<Value>,
    authorised: bool,
    json_ok: bool,
    violations: Vec<String>,
}

fn check(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, raw: &Bytes) -> Checked {
    let (route, params) = route_of(method, uri.path(), &shared.account);
    let mut violations = Vec::new();
    let body = parse_body(raw).unwrap_or_else(|e| {
        violations.push(e);
        None
    });
    let json_ok = violations.is_empty();
    match (route, route.schema(), &body) {
        (MarketplaceRoute::Unknown, _, _) => violations.push(format!("no such route: {method} {}", uri.path())),
        (_, Some((file, m, t)), Some(v)) => {
            violations.extend(shared.schemas.validate_operation(file, m, t, Part::Request, v).err().unwrap_or_default())
        }
        (_, Some(_), None) if json_ok => violations.push("the request has no body".into()),
        (_, None, Some(_)) => violations.push("this call has no body in VTEX's API".into()),
        _ => {}
    }
    if route == MarketplaceRoute::Suggestion {
        if let Some(id) = body.as_ref().and_then(|b| b["SellerId"].as_str()).filter(|id| *id != params[0]) {
            violations.push(format!("SellerId {id:?} is not the path's seller id {:?}", params[0]));
        }
    }
    let expected = shared.lock().credentials.clone();
    let (authorised, more) = header_violations(headers, &expected, raw);
    violations.extend(more);
    Checked { route, params, body, authorised, json_ok, violations }
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
    if let Some(reply) = apply_fault(fault).await {
        return reply;
    }
    if c.route == MarketplaceRoute::Unknown {
        return vtex_error(404, "not_found", "no such route at the fake marketplace");
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
    answer(&mut shared.lock(), c.route, &c.params, c.body.unwrap_or(Value::Null))
}

fn answer(st: &mut MarketplaceState<MarketplaceRoute>, route: MarketplaceRoute, p: &[String], body: Value) -> Response {
    use MarketplaceRoute as R;
    match route {
        R::ChangeNotification if st.bindings.contains(&(p[0].clone(), p[1].clone())) => empty_reply(StatusCode::OK),
        R::ChangeNotification => vtex_error(
            404,
            "not_found",
            &format!("Seller StockKeepingUnit {} not found for this seller id {}", p[1], p[0]),
        ),
        R::Suggestion => {
            let key = (p[0].clone(), p[1].clone());
            if st.auto_bind {
                st.bindings.insert(key.clone());
            }
            st.suggestions.insert(key, body);
            empty_reply(StatusCode::OK)
        }
        R::PriceNotification | R::InventoryNotification => {
            st.notify(&p[0], &p[1], if route == R::PriceNotification { "price" } else { "inventory" });
            empty_reply(StatusCode::ACCEPTED)
        }
        R::Invoice | R::Tracking => {
            let key = match route {
                R::Invoice => format!("invoice/{}/{}", p[0], body["invoiceNumber"].as_str().unwrap_or_default()),
                _ => format!("tracking/{}/{}/{}", p[0], p[1], body["trackingNumber"].as_str().unwrap_or_default()),
            };
            let reply = st.receipt(key, &p[0]);
            let list = if route == R::Invoice { &mut st.invoices } else { &mut st.tracking };
            push_bounded(list, OrderMessage { order_id: p[0].clone(), body });
            json_reply(StatusCode::OK, &reply)
        }
        R::SellerCancel => {
            let reply = st.receipt(format!("cancel/{}", p[0]), &p[0]);
            push_bounded(&mut st.cancels, OrderMessage { order_id: p[0].clone(), body });
            json_reply(StatusCode::OK, &reply)
        }
        R::Unknown => vtex_error(404, "not_found", "no such route"),
    }
}
