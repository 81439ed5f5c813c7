//! The published contract cannot drift silently: `GET /openapi.json` must equal the committed
//! `openapi.json`. After an intended change, regenerate it with
//! `OFFERNET_UPDATE_OPENAPI=1 cargo test -p offernet-server --test openapi` and review the diff.

#[test]
fn the_openapi_document_matches_the_committed_snapshot() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let spec = serde_json::to_string_pretty(&offernet_server::openapi::spec()).unwrap() + "\n";
    if std::env::var("OFFERNET_UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &spec).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).expect("openapi.json is committed");
    assert!(
        committed == spec,
        "the API contract changed: regenerate openapi.json (see this test's doc) and review the diff"
    );
}

#[test]
fn every_route_of_api_md_is_published() {
    let spec = offernet_server::openapi::spec();
    let required = [
        ("post", "/v1/accounts"),
        ("get", "/v1/accounts/{a}"),
        ("put", "/v1/accounts/{a}/skus/{sku}"),
        ("get", "/v1/accounts/{a}/skus/{sku}"),
        ("put", "/v1/accounts/{a}/trade-policies/{tp}"),
        ("put", "/v1/accounts/{a}/warehouses/{w}"),
        ("put", "/v1/accounts/{a}/warehouses/{w}/stock/{sku}"),
        ("put", "/v1/accounts/{a}/prices/{sku}"),
        ("delete", "/v1/accounts/{a}/prices/{sku}"),
        ("put", "/v1/accounts/{s}/affiliations/{m}"),
        ("patch", "/v1/accounts/{s}/affiliations/{m}"),
        ("delete", "/v1/accounts/{s}/affiliations/{m}"),
        ("put", "/v1/accounts/{m}/sellers/{s}"),
        ("patch", "/v1/accounts/{m}/sellers/{s}"),
        ("delete", "/v1/accounts/{m}/sellers/{s}"),
        ("get", "/v1/accounts/{m}/suggestions"),
        ("post", "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/approve"),
        ("post", "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/deny"),
        ("get", "/v1/accounts/{m}/offers/{sku}"),
        ("get", "/v1/accounts/{m}/offers"),
        ("get", "/v1/accounts/{m}/offers/{sku}/explain"),
        ("get", "/v1/accounts/{s}/sent-offers"),
        ("get", "/v1/accounts/{a}/events"),
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
    ];
    for (m, p) in required {
        assert!(spec["paths"][p][m].is_object(), "{m} {p} is missing from the spec");
    }
}

/// The limits the document states are the ones the engine enforces (schema attributes take
/// literals, so they are checked against the named constants here).
#[test]
fn the_documented_limits_are_the_enforced_ones() {
    use offernet_core::validate::*;
    let spec = offernet_server::openapi::spec();
    let s = &spec["components"]["schemas"];
    let num = |v: &serde_json::Value| v.as_i64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert_eq!(num(&s["StockBody"]["properties"]["quantity"]["maximum"]), MAX_QUANTITY);
    assert_eq!(num(&s["PriceBody"]["properties"]["price"]["maximum"]), MAX_PRICE);
    assert_eq!(num(&s["PriceBody"]["properties"]["list_price"]["maximum"]), MAX_PRICE);
    assert_eq!(num(&s["SellerBody"]["properties"]["commission_bp"]["maximum"]), MAX_COMMISSION_BP);
    assert_eq!(num(&s["SellerBody"]["properties"]["trade_policies"]["maxItems"]) as usize, MAX_LIST_LEN);
    assert_eq!(num(&s["SkuBody"]["properties"]["name"]["maxLength"]) as usize, MAX_TEXT_LEN);
    assert_eq!(
        num(&s["OrderItemBody"]["properties"]["quantity"]["maximum"]),
        offernet_core::orders::MAX_ORDER_QUANTITY
    );
    assert_eq!(
        num(&s["OrderRequest"]["properties"]["items"]["maxItems"]) as usize,
        offernet_core::orders::MAX_ORDER_ITEMS
    );
    let street = &s["AddressBody"]["properties"]["street"]["maxLength"];
    assert_eq!(num(street) as usize, offernet_core::orders::MAX_DELIVERY_TEXT);
    let minutes = &s["OrderSettingsBody"]["properties"]["reservation_minutes"]["maximum"];
    assert_eq!(num(minutes), offernet_core::orders::MAX_RESERVATION_MINUTES);
    assert_eq!(num(&s["Offer"]["properties"]["quantity"]["maximum"]) as u64, offernet_core::MAX_SHOWN_QUANTITY);
    let account = format!("^[a-z0-9-]{{1,{MAX_ACCOUNT_ID_LEN}}}$");
    assert_eq!(s["OrderItemBody"]["properties"]["seller"]["pattern"], account.as_str());
    // Item ids: the pattern (not dots only, tests/request_schemas.rs) and the length beside it.
    assert_eq!(s["OrderItemBody"]["properties"]["sku"]["pattern"], offernet_server::openapi::ITEM_ID_PATTERN);
    assert_eq!(num(&s["OrderItemBody"]["properties"]["sku"]["maxLength"]) as usize, MAX_ITEM_ID_LEN);
    let token_name = num(&s["NewToken"]["properties"]["name"]["maxLength"]) as usize;
    assert_eq!(token_name, offernet_core::accounts::MAX_TOKEN_NAME_CHARS);
    assert_eq!(num(&s["AccountPatchBody"]["properties"]["name"]["maxLength"]) as usize, MAX_TEXT_LEN);
    let codes: Vec<&str> = offernet_core::Reason::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(s["Reason"]["enum"], serde_json::json!(codes));
}
