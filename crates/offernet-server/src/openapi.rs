//! The OpenAPI 3 document, built from the route table that also builds the router
//! (`routes::table`), with the component schemas written next to it. A snapshot test
//! (`tests/openapi.rs`) keeps the published contract from drifting silently.

use serde_json::{json, Map, Value};

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}
fn s() -> Value {
    json!({"type": "string"})
}
fn ns() -> Value {
    json!({"type": ["string", "null"]})
}
fn int() -> Value {
    json!({"type": "integer", "format": "int64"})
}
fn nint() -> Value {
    json!({"type": ["integer", "null"], "format": "int64"})
}
/// A quantity summed over warehouses and chains (offers, explain).
fn shown_qty() -> Value {
    json!({"type": ["integer", "null"], "format": "int64", "minimum": 0,
           "maximum": offernet_core::MAX_SHOWN_QUANTITY,
           "description": "Units, or null beside `unlimited: true`. A sum over warehouses and chains is capped at 2^53 − 1 (9007199254740991), the largest integer every JSON reader holds exactly; displayed quantities are upper bounds."})
}
fn b() -> Value {
    json!({"type": "boolean"})
}
fn arr(v: Value) -> Value {
    json!({"type": "array", "items": v})
}
fn obj(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": props, "required": required})
}
fn word_or_list(words: &[&str]) -> Value {
    json!({"oneOf": [{"type": "string", "enum": words}, {"type": "array", "items": {"type": "string"}}]})
}
fn reasons() -> Value {
    arr(json!({"type": "string", "enum": offernet_core::Reason::ALL.iter().map(|r| r.code()).collect::<Vec<_>>()}))
}

fn schemas() -> Value {
    let offer = obj(
        json!({"seller": s(), "seller_sku": s(), "sku": s(), "price": nint(), "list_price": nint(),
               "quantity": shown_qty(), "unlimited": b(), "sellable": b(), "reasons": reasons()}),
        &["seller", "seller_sku", "sku", "price", "list_price", "quantity", "unlimited", "sellable", "reasons"],
    );
    let source = json!({"type": "object", "properties": {
        "account": s(), "sku": s(), "own": shown_qty(), "third": shown_qty(), "quantity": shown_qty(), "unlimited": b(),
        "included": b(), "reasons": reasons(), "sources": arr(r("ExplainSource"))}});
    json!({
        "Error": obj(json!({"error": obj(json!({"code": s(), "message": s(), "field": s()}), &["code", "message"])}), &["error"]),
        "NewAccount": obj(json!({"id": s(), "name": s(), "currency": s()}), &["id", "name", "currency"]),
        "Account": obj(json!({"id": s(), "name": s(), "currency": s()}), &["id", "name", "currency"]),
        "AccountCreated": obj(json!({"id": s(), "name": s(), "currency": s(), "token": s()}), &["id", "name", "currency", "token"]),
        "SkuBody": obj(json!({"name": s(), "product_id": ns(), "brand": ns(), "category": ns(), "ean": ns(), "ref_id": ns(),
                              "active": {"type": ["boolean", "null"]}}), &["name"]),
        "Sku": obj(json!({"id": s(), "name": s(), "product_id": ns(), "brand": ns(), "category": ns(), "ean": ns(), "ref_id": ns(),
                          "active": b(), "price": nint(), "list_price": nint(),
                          "trade_policy_prices": arr(obj(json!({"trade_policy": s(), "price": int(), "list_price": nint()}), &["trade_policy", "price"])),
                          "stock": arr(obj(json!({"warehouse": s(), "quantity": nint(), "unlimited": b(), "reserved": int()}), &["warehouse"]))}),
                   &["id", "name", "active"]),
        "TradePolicyBody": obj(json!({"name": ns(), "assortment": word_or_list(&["all"])}), &["assortment"]),
        "TradePolicy": obj(json!({"id": s(), "name": ns(), "assortment": word_or_list(&["all"])}), &["id", "assortment"]),
        "WarehouseBody": obj(json!({"trade_policies": arr(s())}), &[]),
        "Warehouse": obj(json!({"id": s(), "trade_policies": arr(s())}), &["id", "trade_policies"]),
        "StockBody": obj(json!({"quantity": nint(), "unlimited": {"type": ["boolean", "null"]}}), &[]),
        "Stock": obj(json!({"warehouse": s(), "sku": s(), "quantity": nint(), "unlimited": b(), "reserved": int()}), &["warehouse", "sku"]),
        "PriceBody": obj(json!({"price": int(), "list_price": nint(), "trade_policy": ns()}), &["price"]),
        "Price": obj(json!({"sku": s(), "price": nint(), "list_price": nint(), "trade_policy_prices": arr(json!({"type": "object"}))}), &["sku"]),
        "AffiliationBody": obj(json!({"trade_policy": s(), "active": b(), "resale": word_or_list(&["none", "all"]), "require_own_stock": b()}), &[]),
        "Affiliation": obj(json!({"seller": s(), "marketplace": s(), "trade_policy": s(), "active": b(),
                                  "resale": word_or_list(&["none", "all"]), "require_own_stock": b()}),
                           &["seller", "marketplace", "trade_policy", "active", "resale", "require_own_stock"]),
        "SellerBody": obj(json!({"trade_policies": arr(s()), "active": b(), "match_mode": {"type": "string", "enum": ["auto", "score", "manual"]},
                                 "commission_bp": {"type": "integer", "minimum": 0, "maximum": 10000}}), &[]),
        "Registration": obj(json!({"marketplace": s(), "seller": s(), "trade_policies": arr(s()), "active": b(),
                                   "match_mode": {"type": "string", "enum": ["auto", "score", "manual"]}, "commission_bp": int()}),
                            &["marketplace", "seller", "trade_policies", "active", "match_mode", "commission_bp"]),
        "ApproveBody": obj(json!({"sku": ns()}), &[]),
        "Suggestion": obj(json!({"seller": s(), "seller_sku": s(), "status": {"type": "string", "enum": ["pending", "approved", "denied"]},
                                 "sku": ns(), "name": s(), "product_id": ns(), "brand": ns(), "category": ns(), "ean": ns(), "ref_id": ns()}),
                          &["seller", "seller_sku", "status", "name"]),
        "SuggestionPage": obj(json!({"suggestions": arr(r("Suggestion")), "total": int(), "next_offset": nint()}), &["suggestions"]),
        "Offer": offer,
        "SkuOffers": obj(json!({"sku": s(), "offers": arr(r("Offer"))}), &["sku", "offers"]),
        "OfferPage": obj(json!({"offers": arr(r("Offer")), "total": int(), "next_offset": nint()}), &["offers"]),
        "SentOffer": obj(json!({"marketplace": s(), "seller_sku": s(), "status": ns(), "sku": ns(), "price": nint(), "list_price": nint(),
                                "quantity": shown_qty(), "unlimited": b(), "sellable": b(), "reasons": reasons()}),
                         &["marketplace", "seller_sku", "sellable", "reasons"]),
        "SentOfferPage": obj(json!({"sent_offers": arr(r("SentOffer")), "total": int(), "next_offset": nint()}), &["sent_offers"]),
        "ExplainSource": source,
        "Explain": obj(json!({"marketplace": s(), "sku": s(), "offers": arr(json!({"type": "object", "properties": {
            "seller": s(), "seller_sku": s(), "quantity": shown_qty(), "unlimited": b(), "sellable": b(), "reasons": reasons(),
            "path": {"type": "object", "properties": {"account": s(), "sku": s(), "own": shown_qty(), "third": shown_qty(), "gated": b(),
                     "price": nint(), "reasons": reasons(), "sources": arr(r("ExplainSource"))}}}}))}), &["marketplace", "sku", "offers"]),
        "Event": {"type": "object", "properties": {"seq": int(), "account": s(),
            "type": {"type": "string", "enum": ["offer.changed", "suggestion.created", "suggestion.approved", "suggestion.denied",
                "order.created", "order.authorized", "order.invoiced", "order.cancelled", "order.expired"]},
            "marketplace": s(), "order": {"type": "string", "description": "order.*: the marketplace's order id"},
            "id": {"type": "string", "description": "order.*: this account's id of (its part of) the order"},
            "status": {"type": "string", "description": "order.*: that order's status now"},
            "by": {"type": "string", "description": "order.cancelled: the account that cancelled"},
            "sellers": {"type": "array", "items": s(), "description": "order.* to the marketplace: the sellers whose seller orders changed"}},
            "required": ["seq", "account", "type"]},
        "EventPage": obj(json!({"events": arr(r("Event")), "last_seq": int()}), &["events", "last_seq"]),
        "OrderItemBody": obj(json!({"sku": s(), "quantity": int(), "seller": s()}), &["sku", "quantity"]),
        "SimulationBody": obj(json!({"items": arr(r("OrderItemBody"))}), &["items"]),
        "Simulation": obj(json!({"items": arr(json!({"type": "object", "properties": {"sku": s(), "quantity": int(), "seller": ns(),
            "price": nint(), "available_quantity": shown_qty(),
            "offers": arr(json!({"type": "object", "properties": {"seller": s(), "seller_sku": s(), "price": nint(), "available_quantity": shown_qty(), "unlimited": b()}}))}}))}), &["items"]),
        "OrderSettingsBody": obj(json!({"reservation_minutes": int()}), &["reservation_minutes"]),
        "OrderSettings": obj(json!({"reservation_minutes": int()}), &["reservation_minutes"]),
        "OrderBody": obj(json!({"id": s(), "items": arr(r("OrderItemBody"))}), &["id", "items"]),
        "Order": {"type": "object", "description": "The marketplace's order {id, marketplace, status, items, seller_orders}, or a seller order / chain order {id, seller, buyer, status, items, chain_orders}",
            "properties": {"id": s(), "marketplace": s(), "seller": s(), "buyer": s(),
                "status": {"type": "string", "enum": ["reserved", "authorized", "invoiced", "cancelled", "expired"]},
                "items": arr(json!({"type": "object"})), "seller_orders": arr(json!({"type": "object"})), "chain_orders": arr(json!({"type": "object"}))}},
        "Health": {"type": "object", "description": "200 while the writer can write; 503 (same body) while it retries the journal, another process holds the writer lease, or it stopped",
            "properties": {"status": s(), "writer": {"type": "string", "enum": ["ok", "retrying", "not_writer", "stopped"]},
            "last_journal_error": {"type": ["string", "null"]}, "journal_errors": int(),
            "journal_seq": int(), "event_seq": int(), "queue_depth": int()}},
    })
}

fn error_response(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": r("Error")}}})
}

/// The whole document.
pub fn spec() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for (d, _) in crate::routes::table() {
        let params: Vec<Value> = d
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|x| x.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut responses = Map::new();
        let ok = if d.response.is_empty() {
            json!({"description": "success"})
        } else {
            json!({"description": "success", "content": {"application/json": {"schema": r(d.response)}}})
        };
        responses.insert(d.status.to_string(), ok);
        if d.who != "anyone" {
            responses.insert(
                "400".into(),
                error_response(
                    "invalid input (invalid_json, invalid_field, invalid_body, invalid_header, invalid_request)",
                ),
            );
            responses.insert("401".into(), error_response("no valid token (unauthorized)"));
            responses.insert("403".into(), error_response("another account's data (forbidden)"));
            responses.insert("404".into(), error_response("not found (not_found)"));
            responses.insert(
                "503".into(),
                error_response(
                    "write queue full (busy), the writer retrying its journal (writer_unavailable) or another process holding the writer lease (not_writer), the request took too long (timeout); with Retry-After",
                ),
            );
        }
        if d.method != "GET" {
            responses.insert("408".into(), error_response("the body did not arrive in time (body_timeout)"));
            responses.insert("409".into(), error_response("conflicts with the current state (conflict)"));
            responses.insert("413".into(), error_response("body too large (body_too_large)"));
        }
        if d.path.ends_with("/events") {
            responses.insert(
                "410".into(),
                error_response("events before the retained history were asked for (events_expired): resume from the sequence named"),
            );
            responses.insert(
                "429".into(),
                error_response("too many open event streams for this account (too_many_streams), with Retry-After"),
            );
        }
        let mut op = json!({
            "summary": d.summary,
            "operationId": format!("{}_{}", d.method.to_lowercase(), d.path.trim_start_matches('/').replace(['/', '{', '}', '-'], "_")),
            "parameters": params,
            "responses": responses,
            "x-offernet-who": d.who,
        });
        if d.who != "anyone" {
            op["security"] = json!([{"bearer": []}]);
        }
        if let Some(req) = d.request {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": r(req)}}});
        }
        paths.entry(d.path.to_string()).or_insert_with(|| json!({}))[d.method.to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "offernet", "version": env!("CARGO_PKG_VERSION"),
                 "description": "A network of stores that sell each other's products: catalogs, stock, prices, connections, derived offers and their explanations."},
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "The operator token (OFFERNET_ADMIN_TOKEN or data_dir/admin-token) or an account token `<account>.<secret>`"}}
        }
    })
}
