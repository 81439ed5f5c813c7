//! What of an order document each account sees (vtex-compat.md §2.1 item 3): the marketplace
//! and the seller of record all of it; a chain seller (it ships, it does not sell to the
//! customer) the delivery address with its receiver, nothing of the customer's profile.

use offernet_core::{DeliveryBody, DocumentAccess};
use offernet_store::{Documents, JournalError, WriterHandle};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

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

/// The address fields of a `/v1` order's `delivery` a chain seller sees.
const DELIVERY_ADDRESS_FIELDS: [&str; 9] =
    ["receiver_name", "postal_code", "city", "state", "country", "street", "number", "neighborhood", "complement"];

/// The document of a `/v1` order with a `delivery` (`{"delivery": …}`, canonical JSON) and its
/// SHA-256 (hex): what the server stores before placing the order, and the hash the order
/// command carries. The same delivery always gives the same text, so a retry the same hash.
pub fn delivery_document(delivery: &DeliveryBody) -> (String, String) {
    let value = json!({ "delivery": delivery });
    let text = crate::placement::canonical(&value);
    let sha = crate::hex(&Sha256::digest(text.as_bytes()));
    (text, sha)
}

/// Stores `text` (SHA-256 `sha`) as the document of order `id` of `marketplace`, durably,
/// unless that order exists (a retry: its document was stored with it). Called before the
/// order's command, so that an order never names a document that was not kept; a failure is
/// logged here, and the caller answers 503.
pub async fn store_before_order(
    writer: &WriterHandle,
    documents: &tokio::sync::Mutex<Documents>,
    (marketplace, id): (&str, &str),
    sha: &str,
    text: &str,
) -> Result<(), JournalError> {
    if writer.read(|e| e.order_view(marketplace, id).is_ok()) {
        return Ok(());
    }
    let stored = documents.lock().await.put(marketplace, id, sha, crate::outbound::now_ms(), text).await;
    stored.inspect_err(|e| tracing::error!(error = %e, "storing an order document"))
}

/// `document` (the stored JSON) as an account with `access` may see it.
pub fn visible(document: &Value, access: DocumentAccess) -> Value {
    match access {
        DocumentAccess::Whole => document.clone(),
        DocumentAccess::AddressOnly if document.get("delivery").is_some() => {
            let address = document.pointer("/delivery/address").and_then(Value::as_object);
            let kept: Map<String, Value> = address
                .into_iter()
                .flatten()
                .filter(|(k, _)| DELIVERY_ADDRESS_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            json!({"delivery": {"address": kept}})
        }
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

    #[test]
    fn a_delivery_document_is_canonical_and_a_chain_seller_sees_its_address_only() {
        let d: DeliveryBody = serde_json::from_value(json!({
            "customer": {"email": "a@b.example", "first_name": "Ana", "last_name": "Silva", "document_type": "cpf", "document": "1"},
            "address": {"receiver_name": "Ana", "postal_code": "22250-040", "city": "Rio", "state": "RJ", "country": "BRA",
                "street": "Praia de Botafogo", "number": "300", "neighborhood": "Botafogo"},
            "sla": "Normal",
        }))
        .unwrap();
        let (text, sha) = delivery_document(&d);
        assert_eq!(delivery_document(&d.clone()), (text.clone(), sha.clone()));
        assert_eq!(sha.len(), 64);
        let doc: Value = serde_json::from_str(&text).unwrap();
        let seen = visible(&doc, DocumentAccess::AddressOnly);
        assert_eq!(seen["delivery"]["address"]["postal_code"], "22250-040");
        assert!(seen["delivery"].get("customer").is_none() && !seen.to_string().contains("a@b.example"));
        assert_eq!(visible(&doc, DocumentAccess::Whole), doc);
    }
}
