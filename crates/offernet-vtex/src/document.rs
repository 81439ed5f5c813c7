//! What of an order document each account sees (vtex-compat.md §2.1 item 3): the marketplace
//! and the seller of record all of it; a chain seller (it ships, it does not sell to the
//! customer) the delivery address with its receiver, nothing of the customer's profile.

use offernet_core::DocumentAccess;
use serde_json::{json, Map, Value};

/// The address fields a chain seller sees.
const ADDRESS_FIELDS: [&str; 10] = [
    "receiverName",
    "postalCode",
    "city",
    "state",
    "country",
    "street",
    "number",
    "neighborhood",
    "complement",
    "reference",
];

/// `document` (the stored JSON) as an account with `access` may see it.
pub fn visible(document: &Value, access: DocumentAccess) -> Value {
    match access {
        DocumentAccess::Whole => document.clone(),
        DocumentAccess::AddressOnly => {
            let address = document.pointer("/shippingData/address").and_then(Value::as_object);
            let kept: Map<String, Value> = address
                .into_iter()
                .flatten()
                .filter(|(k, _)| ADDRESS_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            json!({"shippingData": {"address": kept}})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_seller_sees_the_address_only() {
        let doc = json!({
            "clientProfileData": {"email": "a@b.example", "document": "123"},
            "shippingData": {"address": {"receiverName": "Ana", "city": "Rio", "addressId": "x"}, "logisticsInfo": []},
            "items": [{"price": 100}],
        });
        assert_eq!(visible(&doc, DocumentAccess::Whole), doc);
        let seen = visible(&doc, DocumentAccess::AddressOnly);
        assert_eq!(seen, json!({"shippingData": {"address": {"receiverName": "Ana", "city": "Rio"}}}));
        assert!(!seen.to_string().contains("a@b.example"));
    }
}
