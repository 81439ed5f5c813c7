//! The walk's calls of the routes that reach outside offernet: webhook subscriptions,
//! integrations (mirror accounts of external parties) and the VTEX surface.

use serde_json::json;

use super::{Checker, ADMIN};

pub(super) async fn vtex(c: &Checker, m: Option<&str>, s: Option<&str>) {
    let profile = json!({"ships_to": ["BRA"], "slas": [{"id": "Normal", "name": "Normal", "price": 1000, "shipping_estimate": "3bd"}]});
    let shipping = "/v1/accounts/{a}/shipping";
    assert_eq!(c.call("PUT", shipping, "/v1/accounts/s/shipping", s, Some(profile)).await.0, 200);
    c.call("GET", shipping, "/v1/accounts/s/shipping", s, None).await;
    let base = "/vtex/{s}/api/fulfillment";
    let sim =
        json!({"items": [{"id": "s1", "quantity": 1, "seller": "s"}], "postalCode": "22270-030", "country": "BRA"});
    let route = format!("{base}/pvt/orderForms/simulation");
    let (st, v) = c.call("POST", &route, "/vtex/s/api/fulfillment/pvt/orderForms/simulation", m, Some(sim)).await;
    assert_eq!((st, &v["items"][0]["price"]), (200, &json!(1000)), "{v}");
    let (st, _) =
        c.call("POST", &route, "/vtex/s/api/fulfillment/pvt/orderForms/simulation", None, Some(json!({}))).await;
    assert_eq!(st, 401);
    let address = json!({"addressType": "residential", "receiverName": "Ana", "postalCode": "22270-030", "city": "Rio",
        "state": "RJ", "country": "BRA", "street": "Rua A", "number": "1", "neighborhood": "Centro"});
    let order = json!({"marketplaceOrderId": "v1", "marketplaceServicesEndpoint": "https://m.example/api/oms",
        "items": [{"id": "s1", "quantity": 1, "seller": "s", "price": 1000}],
        "clientProfileData": {"email": "ana@example.com", "firstName": "Ana", "lastName": "B", "documentType": "cpf",
            "document": "1", "isCorporate": false},
        "shippingData": {"address": address, "logisticsInfo": [{"itemIndex": 0, "selectedSla": "Normal", "price": 1000, "lockTTL": "1d"}]}});
    let route = format!("{base}/pvt/orders");
    let (st, v) = c.call("POST", &route, "/vtex/s/api/fulfillment/pvt/orders", m, Some(order)).await;
    assert_eq!((st, &v["orderId"]), (200, &json!("m.v1")), "{v}");
    let (st, _) = c.call("POST", &route, "/vtex/s/api/fulfillment/pvt/orders", m, Some(json!([]))).await;
    assert_eq!(st, 400);
    let (_, v) = c.call("GET", "/v1/accounts/{a}/orders/{id}", "/v1/accounts/m/orders/v1", m, None).await;
    assert_eq!(v["document"]["shippingData"]["address"]["receiverName"], "Ana", "{v}");
    for (action, id) in [("fulfill", "sellerOrderId"), ("cancel", "orderId")] {
        let route = format!("{base}/pvt/orders/{{{id}}}/{action}");
        let path = format!("/vtex/s/api/fulfillment/pvt/orders/m.v1/{action}");
        let (st, v) = c.call("POST", &route, &path, m, Some(json!({"marketplaceOrderId": "v1"}))).await;
        assert_eq!(st, 200, "{v}");
        let path = format!("/vtex/s/api/fulfillment/pvt/orders/m.nope/{action}");
        assert_eq!(c.call("POST", &route, &path, m, Some(json!({}))).await.0, 404);
    }
    // C5/C6: the seller of m's order tells m; the order is cancelled by now.
    let route = "/vtex/{m}/api/oms/pvt/orders/{marketplaceOrderId}/cancel";
    let (st, v) =
        c.call("POST", route, "/vtex/m/api/oms/pvt/orders/m.v1/cancel", s, Some(json!({"reason": "r"}))).await;
    assert_eq!((st, &v["orderId"]), (200, &json!("m.v1")), "{v}");
    assert_eq!(c.call("POST", route, "/vtex/m/api/oms/pvt/orders/m.v1/cancel", m, Some(json!({}))).await.0, 404);
    let route = "/vtex/{m}/api/oms/pvt/orders/{marketplaceOrderId}/invoice";
    let invoice =
        json!({"type": "Output", "invoiceNumber": "NFe-1", "items": [{"id": "s1", "quantity": 1, "price": 1000}]});
    let (st, v) = c.call("POST", route, "/vtex/m/api/oms/pvt/orders/m.v1/invoice", s, Some(invoice)).await;
    assert_eq!((st, &v["error"]["code"]), (409, &json!("conflict")), "{v}");
    let input = json!({"type": "Input", "invoiceNumber": "NFe-1", "items": []});
    assert_eq!(c.call("POST", route, "/vtex/m/api/oms/pvt/orders/m.v1/invoice", s, Some(input)).await.0, 400);
    vtex_market(c, m, s).await;
}

/// Role (c): seller `s` calls marketplace `m`'s change notifications (C1, both paths), a
/// suggestion (C2) and the price and inventory notifications (C3, C4).
async fn vtex_market(c: &Checker, m: Option<&str>, s: Option<&str>) {
    for api in ["catalog_system", "sku-binding"] {
        let route = format!("/vtex/{{m}}/api/{api}/pvt/skuseller/changenotification/{{sellerId}}/{{sellerSkuId}}");
        let path = format!("/vtex/m/api/{api}/pvt/skuseller/changenotification/s");
        assert_eq!(c.call("POST", &route, &format!("{path}/s1"), s, None).await.0, 200);
        let (st, v) = c.call("POST", &route, &format!("{path}/nope"), s, None).await;
        assert_eq!(
            (st, &v["error"]["message"]),
            (404, &json!("Seller StockKeepingUnit nope not found for this seller id s"))
        );
        assert_eq!(c.call("POST", &route, &format!("{path}/s1"), m, None).await.0, 403);
        assert_eq!(c.call("POST", &route, &format!("{path}/s1"), None, None).await.0, 401);
    }
    let route = "/vtex/{m}/suggestions/{sellerId}/{sellerSkuId}";
    let sug = json!({"ProductName": "Cap", "SkuName": "Cap", "SellerId": "s", "BrandName": "Acme",
        "CategoryFullPath": "Hats", "EAN": "4006381333931", "Images": [{"imageName": "a", "imageUrl": "https://i.example/a.jpg"}]});
    assert_eq!(c.call("PUT", route, "/vtex/m/suggestions/s/s9", s, Some(sug.clone())).await.0, 200);
    let mut bad = sug;
    bad["EAN"] = json!("EAN123");
    let (st, v) = c.call("PUT", route, "/vtex/m/suggestions/s/s9", s, Some(bad)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (400, Some("invalid_field")), "{v}");
    assert_eq!(c.call("PUT", route, "/vtex/u/suggestions/s/s9", s, Some(json!({}))).await.0, 404);
    for kind in ["price", "inventory"] {
        let route = format!("/vtex/{{m}}/api/notificator/{{sellerId}}/changenotification/{{skuId}}/{kind}");
        let path = format!("/vtex/m/api/notificator/s/changenotification/s1/{kind}");
        assert_eq!(c.call("POST", &route, &path, s, None).await.0, 202);
        let path = format!("/vtex/m/api/notificator/s/changenotification/nope/{kind}");
        assert_eq!(c.call("POST", &route, &path, s, None).await.0, 404);
    }
}

/// An account's webhook subscriptions, inactive (nothing is sent from this test): create,
/// list, read, change, rotate, deliveries, a redelivery, delete, and their errors.
pub(super) async fn webhooks(c: &Checker, m: Option<&str>, s: Option<&str>) {
    let (route, one) = ("/v1/accounts/{a}/webhooks", "/v1/accounts/{a}/webhooks/{id}");
    let body = json!({"url": "https://hooks.example/in", "events": ["offer.changed"], "active": false});
    let (st, v) = c.call("POST", route, "/v1/accounts/m/webhooks", m, Some(body)).await;
    assert_eq!(st, 201, "{v}");
    assert!(v["secret"].as_str().is_some_and(|x| x.starts_with("whsec_")), "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let path = format!("/v1/accounts/m/webhooks/{id}");
    let bad = json!({"url": "http://10.0.0.1/x", "events": ["*"], "active": false});
    assert_eq!(c.call("POST", route, "/v1/accounts/m/webhooks", m, Some(bad)).await.0, 400);
    assert_eq!(c.call("POST", route, "/v1/accounts/m/webhooks", s, Some(json!({}))).await.0, 403);
    let (st, v) = c.call("GET", route, "/v1/accounts/m/webhooks?limit=10", m, None).await;
    assert_eq!((st, v["webhooks"].as_array().map(Vec::len)), (200, Some(1)), "{v}");
    assert_eq!(c.call("GET", one, &path, m, None).await.0, 200);
    assert_eq!(c.call("GET", one, "/v1/accounts/m/webhooks/nope", m, None).await.0, 404);
    let patch = json!({"events": ["order.*"], "active": false});
    assert_eq!(c.call("PATCH", one, &path, m, Some(patch)).await.0, 200);
    let rotate = "/v1/accounts/{a}/webhooks/{id}/rotate-secret";
    assert_eq!(c.call("POST", rotate, &format!("{path}/rotate-secret"), m, None).await.0, 200);
    let deliveries = "/v1/accounts/{a}/webhooks/{id}/deliveries";
    assert_eq!(c.call("GET", deliveries, &format!("{path}/deliveries"), m, None).await.0, 200);
    let redeliver = "/v1/accounts/{a}/webhooks/{id}/redeliver";
    let (st, v) = c.call("POST", redeliver, &format!("{path}/redeliver"), m, Some(json!({"from": 1, "to": 2}))).await;
    assert_eq!(st, 202, "{v}");
    let (st, v) = c.call("GET", deliveries, &format!("{path}/deliveries"), m, None).await;
    assert_eq!((st, v["redelivery"]["to"].as_u64()), (200, Some(2)), "an inactive subscription keeps it: {v}");
    let far = json!({"from": 100_000});
    assert_eq!(c.call("POST", redeliver, &format!("{path}/redeliver"), m, Some(far)).await.0, 400);
    let apart = json!({"from": 4});
    assert_eq!(c.call("POST", redeliver, &format!("{path}/redeliver"), m, Some(apart)).await.0, 409);
    assert_eq!(c.call("DELETE", one, &path, m, None).await.0, 204);
}

/// An external seller's integration (operator only), read by the account, its prices
/// refused to the account (409 `managed_externally`), and ended.
pub(super) async fn integrations(c: &Checker, m: Option<&str>) {
    let b = json!({"id": "e", "name": "E", "currency": "BRL"});
    let (st, v) = c.call("POST", "/v1/accounts", "/v1/accounts", Some(ADMIN), Some(b)).await;
    assert_eq!(st, 201);
    let e = v["token"].as_str().map(str::to_string);
    let route = "/v1/accounts/{a}/integration";
    let body =
        json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": "https://e.example/api/fulfillment"});
    assert_eq!(c.call("PUT", route, "/v1/accounts/e/integration", e.as_deref(), Some(body.clone())).await.0, 403);
    let bad = json!({"protocol": "vtex", "role": "seller"});
    assert_eq!(c.call("PUT", route, "/v1/accounts/e/integration", Some(ADMIN), Some(bad)).await.0, 400);
    let (st, v) = c.call("PUT", route, "/v1/accounts/e/integration", Some(ADMIN), Some(body)).await;
    assert_eq!((st, v["warehouse"].as_str()), (200, Some("vtex")), "{v}");
    assert_eq!(c.call("GET", route, "/v1/accounts/e/integration", e.as_deref(), None).await.0, 200);
    assert_eq!(c.call("GET", route, "/v1/accounts/m/integration", m, None).await.0, 404);
    let sku = json!({"name": "E item"});
    c.call("PUT", "/v1/accounts/{a}/skus/{sku}", "/v1/accounts/e/skus/k", e.as_deref(), Some(sku)).await;
    let price = "/v1/accounts/{a}/prices/{sku}";
    let (st, v) = c.call("PUT", price, "/v1/accounts/e/prices/k", e.as_deref(), Some(json!({"price": 1}))).await;
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("managed_externally")), "{v}");
    let creds = "/v1/accounts/{a}/integration/credentials";
    let pair = json!({"app_key": "vtexappkey-e-ABCDEF", "app_token": "TOKEN"});
    let (st, v) = c.call("PUT", creds, "/v1/accounts/e/integration/credentials", Some(ADMIN), Some(pair.clone())).await;
    assert_eq!((st, v.get("app_token")), (200, None), "{v}");
    let (st, v) = c.call("GET", creds, "/v1/accounts/e/integration/credentials", e.as_deref(), None).await;
    assert_eq!((st, &v["credentials"][0]["app_token_set"]), (200, &json!(true)), "{v}");
    let per_seller = "/v1/accounts/{a}/integration/credentials/{s}";
    let (st, _) = c.call("PUT", per_seller, "/v1/accounts/e/integration/credentials/m", Some(ADMIN), Some(pair)).await;
    assert_eq!(st, 409, "an external seller has one pair");
    let status = "/v1/accounts/{a}/integration/status";
    let (st, v) = c.call("GET", status, "/v1/accounts/e/integration/status", e.as_deref(), None).await;
    assert_eq!((st, &v["circuit"]["state"]), (200, &json!("closed")), "{v}");
    assert_eq!(c.call("GET", status, "/v1/accounts/m/integration/status", m, None).await.0, 404, "no integration");
    assert_eq!(c.call("DELETE", route, "/v1/accounts/e/integration", Some(ADMIN), None).await.0, 204);
    assert_eq!(c.call("DELETE", route, "/v1/accounts/e/integration", Some(ADMIN), None).await.0, 404);
}
