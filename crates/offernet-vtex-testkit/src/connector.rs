//! A seller connector calling offernet's role (c) routes C1-C6 (design §1.2), as an external
//! seller E does: `X-VTEX-API-AppKey` = E's account id, `X-VTEX-API-AppToken` = its token.

use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

use crate::client::{seg, send, AppCredentials, Reply};
use crate::error::Result;
use crate::serve::now_iso;

/// Calls `{offernet}/vtex/{marketplace}/…` as seller `seller_id`.
#[derive(Debug, Clone)]
pub struct SellerConnector {
    client: Client,
    /// `http://127.0.0.1:PORT/vtex/{M}/api` (VTEX's `https://{account}.vtexcommercestable.com.br/api`).
    api_root: String,
    /// `http://127.0.0.1:PORT/vtex/{M}` (VTEX's `https://api.vtex.com/{account}`).
    suggestions_root: String,
    seller_id: String,
    auth: AppCredentials,
}

impl SellerConnector {
    /// `offernet` is the server's base URL (`http://127.0.0.1:PORT`), `marketplace` M's account
    /// id, `seller_id` E's account id (also its AppKey), `app_token` E's account token.
    pub fn new(client: Client, offernet: &str, marketplace: &str, seller_id: &str, app_token: &str) -> SellerConnector {
        let root = format!("{}/vtex/{}", offernet.trim_end_matches('/'), seg(marketplace));
        SellerConnector::at(client, &format!("{root}/api"), &root, seller_id, app_token)
    }

    /// A connector for any marketplace: its API root (`…/api`) and suggestions root (the path
    /// `/suggestions/{sellerId}/{sellerSkuId}` is appended), e.g. a [`crate::FakeVtexMarketplace`]'s
    /// `api_base()` and `suggestions_base()`.
    pub fn at(
        client: Client,
        api_root: &str,
        suggestions_root: &str,
        seller_id: &str,
        app_token: &str,
    ) -> SellerConnector {
        SellerConnector {
            client,
            api_root: api_root.trim_end_matches('/').into(),
            suggestions_root: suggestions_root.trim_end_matches('/').into(),
            seller_id: seller_id.into(),
            auth: AppCredentials::new(seller_id, app_token),
        }
    }

    /// The same connector sending other credentials (or none), e.g. for 401 and 403 tests.
    pub fn with_credentials(&self, auth: AppCredentials) -> SellerConnector {
        SellerConnector { auth, ..self.clone() }
    }

    /// The same connector naming another seller in the paths (its credentials unchanged).
    pub fn as_seller(&self, seller_id: &str) -> SellerConnector {
        SellerConnector { seller_id: seller_id.into(), ..self.clone() }
    }

    /// C1 `POST …/api/catalog_system/pvt/skuseller/changenotification/{E}/{sku}`, empty body.
    pub fn change_notification(&self, sku: &str) -> Result<Reply> {
        self.post(
            &format!("/catalog_system/pvt/skuseller/changenotification/{}/{}", seg(&self.seller_id), seg(sku)),
            None,
        )
    }

    /// C1's alias `POST …/api/sku-binding/pvt/skuseller/changenotification/{E}/{sku}`.
    pub fn change_notification_sku_binding(&self, sku: &str) -> Result<Reply> {
        self.post(&format!("/sku-binding/pvt/skuseller/changenotification/{}/{}", seg(&self.seller_id), seg(sku)), None)
    }

    /// C2 `PUT …/suggestions/{E}/{sku}` with a `SaveSuggestionRequest` body.
    pub fn send_suggestion(&self, sku: &str, body: &Value) -> Result<Reply> {
        let url = format!("{}/suggestions/{}/{}", self.suggestions_root, seg(&self.seller_id), seg(sku));
        send(&self.client, Method::PUT, &url, &self.auth, Some(body))
    }

    /// C3 `POST …/api/notificator/{E}/changenotification/{sku}/price`, no body.
    pub fn notify_price(&self, sku: &str) -> Result<Reply> {
        self.post(&format!("/notificator/{}/changenotification/{}/price", seg(&self.seller_id), seg(sku)), None)
    }

    /// C4 `POST …/api/notificator/{E}/changenotification/{sku}/inventory`, no body.
    pub fn notify_inventory(&self, sku: &str) -> Result<Reply> {
        self.post(&format!("/notificator/{}/changenotification/{}/inventory", seg(&self.seller_id), seg(sku)), None)
    }

    /// C5 `POST …/api/oms/pvt/orders/{marketplaceOrderId}/invoice` with a `requestSendInvoice`.
    pub fn send_invoice(&self, marketplace_order_id: &str, body: &Value) -> Result<Reply> {
        self.post(&format!("/oms/pvt/orders/{}/invoice", seg(marketplace_order_id)), Some(body))
    }

    /// C6 `POST …/api/oms/pvt/orders/{marketplaceOrderId}/cancel` `{reason}`.
    pub fn cancel_order(&self, marketplace_order_id: &str, reason: &str) -> Result<Reply> {
        self.post(&format!("/oms/pvt/orders/{}/cancel", seg(marketplace_order_id)), Some(&json!({"reason": reason})))
    }

    fn post(&self, path: &str, body: Option<&Value>) -> Result<Reply> {
        send(&self.client, Method::POST, &format!("{}{path}", self.api_root), &self.auth, body)
    }
}

/// A `SaveSuggestionRequest` that validates against SUG (every field the schema requires: both
/// `EAN` and `RefId`, integer dimensions, `Updated`, `Images`, `AvailableQuantity`, `Pricing`).
pub fn suggestion(seller_id: &str, sku_name: &str, brand: &str, category: &str, ean: &str) -> Value {
    json!({
        "ProductName": sku_name, "ProductId": format!("p-{sku_name}"), "ProductDescription": sku_name,
        "BrandName": brand, "SkuName": sku_name, "SellerId": seller_id,
        "Height": 10, "Width": 10, "Length": 10, "Weight": 250, "Updated": null,
        "RefId": format!("ref-{sku_name}"), "EAN": ean, "CategoryFullPath": category,
        "Images": [{"imageName": "main", "imageUrl": "https://images.example/main.jpg"}],
        "SkuSpecifications": [], "ProductSpecifications": [],
        "MeasurementUnit": "un", "UnitMultiplier": 1, "AvailableQuantity": 10,
        "Pricing": {"Currency": "BRL", "SalePrice": 5500, "CurrencySymbol": "R$"}
    })
}

/// A sale invoice (`type "Output"`) for items `(sku id, quantity, unit price in cents)`, with
/// `invoiceValue` their total: ESM's `requestSendInvoice`.
pub fn invoice(number: &str, items: &[(&str, i64, i64)]) -> Value {
    let value: i64 = items.iter().map(|(_, q, p)| q * p).sum();
    let items: Vec<Value> = items.iter().map(|(id, q, p)| json!({"id": id, "quantity": q, "price": p})).collect();
    json!({"type": "Output", "invoiceNumber": number, "invoiceValue": value, "issuanceDate": now_iso(),
        "courier": "", "trackingNumber": "", "trackingUrl": "", "items": items})
}
