//! A pending suggestion shows the matcher's candidates (rule 8: same GTIN, else same ref_id and
//! brand; not a SKU another SKU of the seller is bound to), sorted; none once it is decided.

use offernet_core::*;
use serde_json::{json, Value};

fn apply(e: &mut Engine, v: Value) {
    e.apply(&serde_json::from_value(v).unwrap(), 0).unwrap();
}

fn pending(e: &Engine) -> Vec<SuggestionView> {
    e.suggestions("m", Some(SuggestionStatus::Pending)).unwrap()
}

#[test]
fn a_pending_suggestion_lists_the_matchers_candidates_and_a_decided_one_none() {
    let mut e = Engine::default();
    for c in [
        json!({"type": "create_account", "id": "s", "name": "S", "currency": "BRL"}),
        json!({"type": "create_account", "id": "m", "name": "M", "currency": "BRL"}),
        json!({"type": "put_sku", "account": "s", "sku": "k1", "body": {"name": "Kettle", "ean": "4006381333931"}}),
        json!({"type": "put_sku", "account": "s", "sku": "k2", "body": {"name": "Pot", "ref_id": "P-1", "brand": "Acme"}}),
        json!({"type": "put_sku", "account": "s", "sku": "k3", "body": {"name": "Lid"}}),
        json!({"type": "put_sku", "account": "m", "sku": "b-kettle", "body": {"name": "Kettle", "ean": "4006381333931"}}),
        json!({"type": "put_sku", "account": "m", "sku": "a-kettle", "body": {"name": "Kettle 2", "ean": "4006381333931"}}),
        json!({"type": "put_sku", "account": "m", "sku": "pot", "body": {"name": "Pot", "ref_id": "P-1", "brand": "ACME"}}),
        json!({"type": "put_sku", "account": "m", "sku": "other", "body": {"name": "Kettle", "ean": "5901234123457"}}),
        json!({"type": "put_affiliation", "seller": "s", "marketplace": "m", "body": {"trade_policy": "1"}}),
        json!({"type": "put_seller", "marketplace": "m", "seller": "s", "body": {"match_mode": "manual"}}),
    ] {
        apply(&mut e, c);
    }
    let by_sku = |e: &Engine| -> Vec<(String, Vec<String>)> {
        pending(e)
            .iter()
            .map(|v| (v.seller_sku.to_string(), v.candidates.iter().map(|c| c.to_string()).collect()))
            .collect()
    };
    assert_eq!(
        by_sku(&e),
        vec![
            ("k1".into(), vec!["a-kettle".into(), "b-kettle".into()]),
            ("k2".into(), vec!["pot".into()]),
            ("k3".into(), vec![]),
        ]
    );
    let approve =
        json!({"type": "approve_suggestion", "marketplace": "m", "seller": "s", "seller_sku": "k1", "sku": "b-kettle"});
    apply(&mut e, approve);
    let decided = e.suggestions("m", Some(SuggestionStatus::Approved)).unwrap();
    assert_eq!(decided.len(), 1);
    assert!(decided[0].candidates.is_empty(), "an approved suggestion lists no candidates");
    assert_eq!(by_sku(&e).len(), 2, "k2 and k3 still wait");
}
