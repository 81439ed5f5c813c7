//! B5/B6 (vtex-compat.md §2.2): what offernet tells V of seller S's SKU `s`, from committed
//! state only. Pure: the worker (`catalog.rs`) reads, maps here, then calls.
//!
//! SUG's `SaveSuggestionRequest` lists `EAN` *and* `RefId` as required, while each field's own
//! description says it is mandatory only when the other is absent ("Mandotory if the EAN is not
//! informed"). offernet sends the ones the SKU has, never an invented code (a made-up EAN
//! would be matched against real products): the testkit's overlay patch 6 states the
//! descriptions' rule (one of the two) with that sentence. `Updated` is required but
//! undocumented; VTEX's own example sends `null`, and so does offernet. Measures are integers
//! in the schema (`type: integer`): offernet's two-decimal measures are rounded up, a package
//! is never declared smaller than it is.

use offernet_core::{Engine, IntegrationView, OfferView, SkuView};
use serde_json::{json, Map, Value};

use crate::simulation::UNLIMITED_STOCK_BALANCE;

/// SUG: "This field has a limit of 150 characters."
pub const MAX_PRODUCT_NAME_CHARS: usize = 150;
/// `AvailableQuantity` is an `int32`.
const MAX_INT32: u64 = i32::MAX as u64;

/// Why a SKU is not suggested (shown as `not_suggestible` in the integration status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotSuggestible {
    NoBrand,
    NoEanNorRefId,
    NoCategory,
    NoDimensions,
}

impl NotSuggestible {
    pub fn as_str(self) -> &'static str {
        match self {
            NotSuggestible::NoBrand => "no brand",
            NotSuggestible::NoEanNorRefId => "neither an EAN nor a ref_id",
            NotSuggestible::NoCategory => "no category",
            NotSuggestible::NoDimensions => "no dimensions (and no default_dimensions at the marketplace)",
        }
    }
}

/// What one suggestion needs, read from the engine at once.
pub struct SuggestionInput {
    pub sku: SkuView,
    pub offer: Option<OfferView>,
    pub remote_seller_id: String,
    pub currency: String,
    pub integration: IntegrationView,
}

/// Reads what a suggestion of S's SKU `s` to V needs; `None` when any part is gone.
pub fn read_input(e: &Engine, v: &str, seller: &str, s: &str) -> Option<SuggestionInput> {
    let sku = e.sku(seller, s).ok()?;
    let aff = e.affiliation(seller, v).ok()?;
    Some(SuggestionInput {
        sku,
        offer: e.offer_of_seller_sku(v, seller, s),
        remote_seller_id: aff.remote_seller_id.as_deref().unwrap_or(seller).to_string(),
        currency: e.account(seller).ok()?.currency.to_string(),
        integration: e.integration(v).ok()?,
    })
}

/// A measure in whole units, rounded up (SUG's measures are integers).
fn whole(n: &serde_json::Number) -> Value {
    json!(n.as_f64().unwrap_or(0.0).ceil() as u64)
}

/// `SaveSuggestionRequest` for `input`, or why it cannot be sent.
pub fn suggestion_body(input: &SuggestionInput) -> Result<Value, NotSuggestible> {
    let sku = &input.sku;
    let brand = sku.brand.as_deref().ok_or(NotSuggestible::NoBrand)?;
    if sku.ean.is_none() && sku.ref_id.is_none() {
        return Err(NotSuggestible::NoEanNorRefId);
    }
    let category = sku.category.as_deref().ok_or(NotSuggestible::NoCategory)?;
    let defaults = input.integration.default_dimensions.clone().flatten();
    let own = sku.dimensions.as_ref();
    let measure = |own: Option<&serde_json::Number>, default: Option<&serde_json::Number>| {
        own.or(default).map(whole).ok_or(NotSuggestible::NoDimensions)
    };
    let d = defaults.as_ref();
    let height = measure(own.and_then(|x| x.height_cm.as_ref()), d.and_then(|x| x.height.as_ref()))?;
    let width = measure(own.and_then(|x| x.width_cm.as_ref()), d.and_then(|x| x.width.as_ref()))?;
    let length = measure(own.and_then(|x| x.length_cm.as_ref()), d.and_then(|x| x.length.as_ref()))?;
    let weight = measure(own.and_then(|x| x.weight_g.as_ref()), d.and_then(|x| x.weight_g.as_ref()))?;
    let name: String = sku.name.chars().take(MAX_PRODUCT_NAME_CHARS).collect();
    let available = match &input.offer {
        Some(o) if o.sellable && o.unlimited => UNLIMITED_STOCK_BALANCE,
        Some(o) if o.sellable => o.quantity.unwrap_or(0),
        _ => 0,
    };
    let images: Vec<Value> = sku
        .images
        .iter()
        .enumerate()
        .map(|(i, u)| json!({"imageName": if i == 0 { "Main".to_string() } else { format!("Image {}", i + 1) }, "imageUrl": u}))
        .collect();
    let mut pricing = Map::new();
    pricing.insert("Currency".into(), json!(input.currency));
    if let Some(p) = input.offer.as_ref().and_then(|o| o.price) {
        pricing.insert("SalePrice".into(), json!(p));
    }
    let mut body = json!({
        "ProductName": name,
        "ProductId": sku.product_id.as_deref().unwrap_or(&sku.id),
        "ProductDescription": sku.description.as_deref().unwrap_or(&sku.name),
        "BrandName": brand,
        "SkuName": name,
        "SellerId": input.remote_seller_id,
        "CategoryFullPath": category,
        "Height": height, "Width": width, "Length": length, "Weight": weight,
        "Updated": null,
        "Images": images,
        "MeasurementUnit": "un",
        "UnitMultiplier": 1,
        "AvailableQuantity": available.min(MAX_INT32),
        "Pricing": pricing,
    });
    if let Some(ean) = &sku.ean {
        body["EAN"] = json!(ean);
    }
    if let Some(r) = &sku.ref_id {
        body["RefId"] = json!(r);
    }
    Ok(body)
}

/// The part of a suggestion that says what the SKU *is* (not its price or stock): a change in
/// it while V still answers B5 with 404 sends the suggestion again.
pub fn content_of(body: &Value) -> Value {
    let mut c = body.clone();
    if let Some(o) = c.as_object_mut() {
        o.remove("AvailableQuantity");
        o.remove("Pricing");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SuggestionInput {
        let sku: SkuView = serde_json::from_value(json!({"id": "6", "name": "Shirt", "product_id": null, "brand": "Acme",
            "category": "Clothes/Shirts", "ean": null, "ref_id": "r6", "active": true, "price": 2499, "list_price": null,
            "trade_policy_prices": [], "stock": [], "description": null, "images": [],
            "dimensions": {"height_cm": 1.25, "width_cm": null, "length_cm": 3, "weight_g": 100}}))
        .unwrap();
        let integration: IntegrationView = serde_json::from_value(json!({"protocol": "vtex", "role": "marketplace",
            "default_dimensions": {"height": 9, "width": 2.01, "length": 9, "weight_g": 9}}))
        .unwrap();
        SuggestionInput { sku, offer: None, remote_seller_id: "01".into(), currency: "BRL".into(), integration }
    }

    #[test]
    fn measures_round_up_and_fall_back_per_measure_to_the_defaults() {
        let b = suggestion_body(&input()).unwrap();
        assert_eq!(
            (&b["Height"], &b["Width"], &b["Length"], &b["Weight"]),
            (&json!(2), &json!(3), &json!(3), &json!(100))
        );
        assert_eq!((&b["RefId"], b.get("EAN")), (&json!("r6"), None), "only the codes the SKU has");
        assert_eq!(
            (&b["ProductId"], &b["ProductDescription"], &b["Updated"]),
            (&json!("6"), &json!("Shirt"), &Value::Null)
        );
        assert_eq!((&b["AvailableQuantity"], &b["Pricing"]), (&json!(0), &json!({"Currency": "BRL"})), "no offer yet");
    }

    #[test]
    fn what_cannot_be_suggested_says_why() {
        let mut i = input();
        i.sku.ref_id = None;
        assert_eq!(suggestion_body(&i).unwrap_err(), NotSuggestible::NoEanNorRefId);
        let mut i = input();
        i.sku.brand = None;
        assert_eq!(suggestion_body(&i).unwrap_err(), NotSuggestible::NoBrand);
        let mut i = input();
        i.integration.default_dimensions = None;
        assert_eq!(suggestion_body(&i).unwrap_err(), NotSuggestible::NoDimensions, "no width anywhere");
        let mut i = input();
        i.sku.name = "x".repeat(200).into();
        assert_eq!(suggestion_body(&i).unwrap()["ProductName"].as_str().unwrap().len(), MAX_PRODUCT_NAME_CHARS);
    }
}
