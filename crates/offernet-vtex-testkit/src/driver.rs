//! VTEX driving offernet's role (b) routes B1-B4 (design §1.1) as a VTEX marketplace V does:
//! indexing and checkout simulations, placement as a one-element array, fulfill, cancel, each
//! with V's AppKey/AppToken; and the check of each answer against ESF plus the overlay.

use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{seg, send, AppCredentials, Reply};
use crate::error::Result;
use crate::schema::{File, Part, Schemas};

/// Which B route an answer came from (for [`VtexDriver::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfillmentCall {
    Simulation,
    Placement,
    Fulfill,
    Cancel,
}

impl FulfillmentCall {
    fn template(self) -> &'static str {
        match self {
            FulfillmentCall::Simulation => "/pvt/orderForms/simulation",
            FulfillmentCall::Placement => "/pvt/orders",
            FulfillmentCall::Fulfill => "/pvt/orders/{sellerOrderId}/fulfill",
            FulfillmentCall::Cancel => "/pvt/orders/{orderId}/cancel",
        }
    }
}

/// Calls S's fulfillment endpoint `{offernet}/vtex/{S}/api/fulfillment` as marketplace V.
#[derive(Debug, Clone)]
pub struct VtexDriver {
    client: Client,
    endpoint: String,
    /// `?sc=…&affiliateId=…` (VTEX keeps the endpoint's query), empty for none.
    query: String,
    /// S's seller id at V (`items[].seller`).
    seller_id: String,
    /// The `marketplaceServicesEndpoint` sent in placements.
    services_endpoint: String,
    auth: AppCredentials,
}

impl VtexDriver {
    /// `offernet` the server's base URL, `seller` S's account id, `seller_id` S's seller id at V
    /// (its `remote_seller_id`), V's `app_key` (its account id) and `app_token`.
    pub fn new(
        client: Client,
        offernet: &str,
        seller: &str,
        seller_id: &str,
        app_key: &str,
        app_token: &str,
    ) -> VtexDriver {
        let endpoint = format!("{}/vtex/{}/api/fulfillment", offernet.trim_end_matches('/'), seg(seller));
        VtexDriver::at(client, &endpoint, seller_id, app_key, app_token)
    }

    /// A driver for any fulfillment endpoint (e.g. a [`crate::FakeExternalSeller`]'s).
    pub fn at(
        client: Client,
        fulfillment_endpoint: &str,
        seller_id: &str,
        app_key: &str,
        app_token: &str,
    ) -> VtexDriver {
        VtexDriver {
            client,
            endpoint: fulfillment_endpoint.trim_end_matches('/').into(),
            query: String::new(),
            seller_id: seller_id.into(),
            services_endpoint: "https://marketplaceservicesendpoint.myvtex.com/".into(),
            auth: AppCredentials::new(app_key, app_token),
        }
    }

    /// Appends `?sc={sc}&affiliateId={affiliate}` to every call.
    pub fn with_query(mut self, sc: &str, affiliate_id: &str) -> VtexDriver {
        self.query = format!("?sc={}&affiliateId={}", seg(sc), seg(affiliate_id));
        self
    }

    /// The `marketplaceServicesEndpoint` placements carry (a [`crate::FakeVtexMarketplace`]'s
    /// `services_endpoint()` to receive B8/B9).
    pub fn with_services_endpoint(mut self, endpoint: &str) -> VtexDriver {
        self.services_endpoint = endpoint.into();
        self
    }

    /// The same driver sending other credentials (or none).
    pub fn with_credentials(&self, auth: AppCredentials) -> VtexDriver {
        VtexDriver { auth, ..self.clone() }
    }

    pub fn seller_id(&self) -> &str {
        &self.seller_id
    }

    /// B1 as VTEX indexes a catalog: items `(S's SKU id, quantity)`, no address.
    pub fn indexing_simulation(&self, items: &[(&str, i64)]) -> Result<Reply> {
        self.simulate(&json!({"items": self.items(items), "isCheckedIn": false}))
    }

    /// B1 as checkout does: with `postalCode` and `country` (ISO 3166 alpha-3).
    pub fn checkout_simulation(&self, items: &[(&str, i64)], postal_code: &str, country: &str) -> Result<Reply> {
        self.simulate(&json!({"items": self.items(items), "postalCode": postal_code, "country": country}))
    }

    /// B1 with any body.
    pub fn simulate(&self, body: &Value) -> Result<Reply> {
        self.post("/pvt/orderForms/simulation", body)
    }

    /// B2 as VTEX sends it: `[order]`.
    pub fn place(&self, order: &Value) -> Result<Reply> {
        self.place_raw(&json!([order]))
    }

    /// B2 with any body (an object, several orders, VTEX's original example…).
    pub fn place_raw(&self, body: &Value) -> Result<Reply> {
        self.post("/pvt/orders", body)
    }

    /// A placement object valid for offernet (ESF's example with S's ids, bundles and attachments
    /// emptied, no delivery window): items `(S's SKU id, quantity, unit price in cents)`.
    pub fn order(&self, marketplace_order_id: &str, items: &[(&str, i64, i64)]) -> Value {
        let lines: Vec<Value> = items
            .iter()
            .map(|(id, q, p)| {
                json!({"id": id, "quantity": q, "seller": self.seller_id, "commission": 0, "freightCommission": 0, "price": p,
                "bundleItems": [], "itemsAttachment": [], "attachments": [], "priceTags": [], "measurementUnit": "un",
                "unitMultiplier": 1, "isGift": false})
            })
            .collect();
        let logistics: Vec<Value> = (0..items.len())
            .map(|i| json!({"itemIndex": i, "selectedSla": "Normal", "lockTTL": "8d", "shippingEstimate": "3bd", "price": 1000, "deliveryWindow": null}))
            .collect();
        let value: i64 = items.iter().map(|(_, q, p)| q * p).sum::<i64>() + 1000 * items.len() as i64;
        json!({
            "marketplaceOrderId": marketplace_order_id, "marketplaceServicesEndpoint": self.services_endpoint,
            "marketplacePaymentValue": value, "items": lines, "paymentData": null,
            "clientProfileData": {"email": "customer@examplemail.com", "firstName": "first-name", "lastName": "last-name",
                "documentType": "cpf", "document": "123456789", "phone": "+55110988887777", "corporateName": null,
                "tradeName": null, "corporateDocument": null, "stateInscription": null, "corporatePhone": null, "isCorporate": false},
            "shippingData": {"address": {"addressType": "residential", "receiverName": "receiver-name", "addressId": "Home",
                "postalCode": "22270-030", "city": "Rio de Janeiro", "state": "RJ", "country": "BRA", "street": "Praia de Botafogo",
                "number": "300", "neighborhood": "Botafogo", "complement": "3rd floor", "reference": "Grey building", "geoCoordinates": []},
                "logisticsInfo": logistics},
            "marketingData": null, "openTextField": null
        })
    }

    /// B3 with the connector guide's body: `{"marketplaceOrderId"}` only.
    pub fn fulfill(&self, seller_order_id: &str, marketplace_order_id: &str) -> Result<Reply> {
        self.fulfill_raw(seller_order_id, &json!({"marketplaceOrderId": marketplace_order_id}))
    }

    /// B3 with any body (ESF's example carries the cancellation fields too).
    pub fn fulfill_raw(&self, seller_order_id: &str, body: &Value) -> Result<Reply> {
        self.post(&format!("/pvt/orders/{}/fulfill", seg(seller_order_id)), body)
    }

    /// B4 with every field of `requestOrderId`.
    pub fn cancel(&self, seller_order_id: &str, marketplace_order_id: &str, reason: &str) -> Result<Reply> {
        let body = json!({"marketplaceOrderId": marketplace_order_id, "marketplaceOrderGroup": marketplace_order_id,
            "cancellationRequestId": format!("cancel-{marketplace_order_id}"), "cancellationRequestDate": crate::serve::now_iso(),
            "reason": reason, "requestedByUser": false});
        self.post(&format!("/pvt/orders/{}/cancel", seg(seller_order_id)), &body)
    }

    /// An answer of `call` checked against ESF plus the overlay: its JSON when it conforms.
    /// Only 200 answers have a schema; an empty body is valid for cancel ("still evaluating").
    pub fn check(&self, call: FulfillmentCall, reply: &Reply) -> std::result::Result<Value, Vec<String>> {
        if reply.status != 200 {
            return Err(vec![format!("status {} ({})", reply.status, reply.body)]);
        }
        if call == FulfillmentCall::Cancel && reply.body.trim().is_empty() {
            return Ok(Value::Null);
        }
        let value = reply.json().ok_or_else(|| vec![format!("the answer is not JSON: {:?}", reply.body)])?;
        let schemas = Schemas::shared().map_err(|e| vec![e.0])?;
        schemas.validate_operation(File::Esf, "post", call.template(), Part::Response(200), &value)?;
        Ok(value)
    }

    fn items(&self, items: &[(&str, i64)]) -> Value {
        items.iter().map(|(id, q)| json!({"id": id, "quantity": q, "seller": self.seller_id})).collect()
    }

    fn post(&self, path: &str, body: &Value) -> Result<Reply> {
        send(&self.client, Method::POST, &format!("{}{path}{}", self.endpoint, self.query), &self.auth, Some(body))
    }
}
