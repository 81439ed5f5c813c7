//! The OpenAPI 3.1 document. Paths, parameters, request bodies, answers and their schemas come
//! from the routes (`routes::router()`: each handler's `#[utoipa::path]`) and from the
//! serialised types (`ToSchema`, derived in offernet-core behind its `openapi` feature). This
//! file adds only what is the same for many routes, each in one place: the info, the bearer
//! scheme and who needs it (from each route's `x-offernet-who`), the error answers each kind of
//! route can give, readable operationIds (the handler's name in camelCase), the tags, and the
//! one constraint a derive cannot express (a stock body's `quantity`/`unlimited` exclusion).
//! What a request may be (text and id patterns, PATCH bodies, query bounds) is made to say
//! exactly what the server accepts in `openapi_requests.rs`.
//! A snapshot test (`tests/openapi.rs`) keeps the published contract from drifting silently;
//! `tests/schemas.rs` checks real answers of every route against it.

use serde_json::{json, Map, Value};
use utoipa::PartialSchema;

use crate::error::ErrorBody;
pub use crate::openapi_requests::{CATEGORY_PATTERN, ITEM_ID_PATTERN, TEXT_PATTERN};

/// One tag per resource, in the order of the routes.
const TAGS: [(&str, &str); 13] = [
    ("accounts", "Accounts and their tokens"),
    ("webhooks", "Signed webhook subscriptions: events pushed to your endpoint"),
    ("integrations", "Mirror accounts of external VTEX sellers and marketplaces"),
    ("catalog", "SKUs, trade policies and warehouses"),
    ("stock and prices", "Stock per warehouse, prices and trade policies' fixed prices"),
    ("connections", "Both halves of a connection: the seller's affiliation, the marketplace's registration"),
    ("suggestions", "Seller SKUs suggested to a marketplace, approved or denied"),
    ("offers", "Derived offers, their explanation, what a seller sends, and cart simulation"),
    ("orders", "Orders reserved along the whole chain, and their lifecycle"),
    ("feeds", "Product feeds of a trade policy for sales channels (Google Merchant Center)"),
    ("events", "What changed for an account, as pages or a live stream"),
    ("operations", "Health, metrics, this document and its interactive reference"),
    ("vtex", "The VTEX Marketplace Protocol (served only with --vtex): a seller's fulfillment endpoints for a VTEX marketplace, and a marketplace's endpoints for external sellers (change notifications, suggestions), at VTEX's own paths and field names. Every /vtex route is also served at /vtex/{account}/k/{key}/… (the same path with /k/{key} after the account), where {key} is a connection key made with POST /v1/accounts/{s}/affiliations/{m}/connection-key: for a VTEX admin that registers a URL and sends no headers, the key stands for marketplace m's AppKey and AppToken on seller s's routes only (a wrong or revoked key: 401)"),
];

/// The whole document, with the default `max_page_size` (the committed snapshot).
pub fn spec() -> Value {
    spec_for(crate::config::MAX_PAGE_SIZE)
}

/// The whole document as a server configured with `max_page_size` serves it (the one
/// configured bound a request may meet: `limit`).
pub fn spec_for(max_page_size: usize) -> Value {
    let mut api = crate::routes::router().into_openapi();
    api.merge(offernet_vtex::router().into_openapi());
    let mut doc = serde_json::to_value(&api).expect("the document serialises");
    doc["openapi"] = json!("3.1.0");
    doc["info"] = json!({"title": "offernet", "version": env!("CARGO_PKG_VERSION"),
        "description": "A network of stores that sell each other's products: catalogs, stock, prices, connections, derived offers and their explanations."});
    doc["tags"] = TAGS.iter().map(|(name, description)| json!({"name": name, "description": description})).collect();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            for (method, op) in item.as_object_mut().into_iter().flatten() {
                common(path, method, op);
            }
        }
    }
    let components = &mut doc["components"];
    components["schemas"]["Error"] = serde_json::to_value(ErrorBody::schema()).expect("a schema serialises");
    components["securitySchemes"] = json!({"bearer": {"type": "http", "scheme": "bearer",
        "description": "The operator token (OFFERNET_ADMIN_TOKEN or data_dir/admin-token) or an account token `<account>.<id>.<secret>` (`<account>.<secret>` for accounts created before named tokens)"},
        "basic": {"type": "http", "scheme": "basic",
        "description": "Product feeds only: any user name, and the token as the password (for fetchers such as Google Merchant Center)"},
        "vtexAppKey": {"type": "apiKey", "in": "header", "name": "X-VTEX-API-AppKey",
        "description": "/vtex routes: the calling account's id (the operator: the marketplace it speaks for)"},
        "vtexAppToken": {"type": "apiKey", "in": "header", "name": "X-VTEX-API-AppToken",
        "description": "/vtex routes: the calling account's token (the same as its bearer token)"}});
    stock_exclusion(&mut components["schemas"]["StockBody"]);
    crate::openapi_requests::requests(&mut doc, max_page_size);
    doc
}

fn error_response(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

/// What every operation of a kind shares: who needs a token, the errors it can answer, a
/// camelCase operationId.
fn common(path: &str, method: &str, op: &mut Value) {
    if let Some(id) = op["operationId"].as_str() {
        op["operationId"] = json!(camel_case(id));
    }
    if path.starts_with("/vtex/") {
        return vtex_common(op);
    }
    let who = op["x-offernet-who"].as_str().unwrap_or("anyone").to_string();
    let Some(responses) = op["responses"].as_object_mut() else { return };
    // A route that documents an error answer itself (the import's 400 and 413) keeps its own.
    let mut add = |status: &str, desc: &str| {
        responses.entry(status).or_insert_with(|| error_response(desc));
    };
    if who != "anyone" {
        add("400", "invalid input (invalid_json, invalid_field, invalid_body, invalid_header, invalid_request)");
        add("401", "no Authorization header, a malformed one (not `Bearer <token>`), or a wrong token (unauthorized), each with its own message; with WWW-Authenticate");
        add("403", "another account's data (forbidden)");
        add("404", "not found (not_found); `field` names the path parameter (or body field) that named it");
        add("503", "write queue full (busy), the writer retrying its journal (writer_unavailable) or another process holding the writer lease (not_writer), the request took too long (timeout); with Retry-After");
    }
    if method != "get" {
        add("408", "the body did not arrive in time (body_timeout)");
        add(
            "409",
            "conflicts with the current state (conflict, insufficient_stock, idempotency_mismatch, managed_externally)",
        );
        add("413", "body too large (body_too_large)");
    }
    if path.contains("/feeds/") {
        add("409", "the trade policy has no product_url, which every item's link needs (conflict)");
        if path.ends_with(".jsonl") {
            add("410", "events after `since` are no longer kept (events_expired): read the whole feed");
        }
    }
    if path.ends_with("/events") {
        // Its 410 (`EventsExpired`) the route documents itself.
        add("429", "too many open event streams for this account (too_many_streams), with Retry-After");
    }
    let seconds =
        json!({"description": "seconds to wait before retrying", "schema": {"type": "integer", "minimum": 0}});
    let challenge = json!({"description": "`Bearer realm=\"offernet\"`, with `error=\"invalid_request\"` for a malformed header or `error=\"invalid_token\"` for a wrong token", "schema": {"type": "string"}});
    for (status, headers) in [
        ("401", json!({"WWW-Authenticate": challenge})),
        ("429", json!({"Retry-After": seconds})),
        ("503", json!({"Retry-After": seconds})),
    ] {
        if let Some(r) = responses.get_mut(status) {
            r["headers"] = headers;
        }
    }
    sort_keys(responses);
    if who != "anyone" {
        op["security"] = match path.contains("/feeds/") {
            // Feed fetchers may send the token as a Basic password (`routes/feeds.rs`).
            true => json!([{"bearer": []}, {"basic": []}]),
            false => json!([{"bearer": []}]),
        };
    }
}

/// What every `/vtex` operation shares: VTEX's credentials (or a bearer token) and its error
/// answers, in VTEX's error shape (`VtexError`: `exception: null`).
fn vtex_common(op: &mut Value) {
    op["operationId"] = json!(format!("vtex{}", {
        let id = op["operationId"].as_str().unwrap_or_default();
        let mut c = id.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
    }));
    let Some(responses) = op["responses"].as_object_mut() else { return };
    responses.remove("4XX");
    let error = |desc: &str| json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VtexError"}}}});
    for (status, desc) in [
        ("400", "invalid input (invalid_json, invalid_field naming the VTEX field path, unsupported, invalid_header)"),
        ("401", "missing or wrong credentials (unauthorized)"),
        ("403", "valid credentials of an account that is not a marketplace of this seller (forbidden)"),
        ("404", "unknown seller, order or SKU (not_found)"),
        ("409", "conflicts with the current state (conflict, insufficient_stock, idempotency_mismatch, price_changed)"),
        ("413", "body too large (body_too_large)"),
        ("429", "more requests than --vtex-inbound-rps from this caller (rate_limited); with Retry-After"),
        ("503", "write queue full (busy) or the writer unavailable; with Retry-After"),
    ] {
        responses.entry(status).or_insert_with(|| error(desc));
    }
    for status in ["429", "503"] {
        if let Some(r) = responses.get_mut(status) {
            r["headers"] = json!({"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer", "minimum": 0}}});
        }
    }
    sort_keys(responses);
    op["security"] = json!([{"vtexAppKey": [], "vtexAppToken": []}, {"bearer": []}]);
}

fn sort_keys(m: &mut Map<String, Value>) {
    let mut all: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    m.extend(all);
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// A stock body gives a quantity, or `unlimited: true`, never both (`null` is "not given").
fn stock_exclusion(schema: &mut Value) {
    schema["description"] = json!("A quantity, or `unlimited: true`; not both.");
    schema["oneOf"] = json!([
        {"required": ["quantity"], "properties": {"quantity": {"type": "integer"}, "unlimited": {"enum": [false, null]}}},
        {"required": ["unlimited"], "properties": {"quantity": {"type": "null"}, "unlimited": {"const": true}}},
    ]);
}

#[cfg(test)]
mod tests {
    #[test]
    fn operation_ids_are_camel_case() {
        assert_eq!(super::camel_case("put_stock"), "putStock");
        assert_eq!(super::camel_case("get_sku_offers"), "getSkuOffers");
    }
}
