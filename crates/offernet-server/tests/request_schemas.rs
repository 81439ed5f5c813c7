//! The patterns the OpenAPI document gives request fields (`openapi_requests.rs`) accept
//! exactly what the engine's checks accept, character by character: a client or a schemathesis
//! run that follows the document is neither refused nor let through where they differ.

use offernet_core::validate;
use offernet_server::openapi::{spec, CATEGORY_PATTERN, ITEM_ID_PATTERN, TEXT_PATTERN};
use serde_json::json;

fn matcher(pattern: &str, max_length: Option<usize>) -> jsonschema::Validator {
    let mut schema = json!({"type": "string", "pattern": pattern});
    if let Some(n) = max_length {
        schema["maxLength"] = json!(n);
    }
    jsonschema::validator_for(&schema).expect("the pattern compiles")
}

/// Every character of the Basic Multilingual Plane, alone, after a letter and between
/// letters: the pattern and `validate::text` agree (the planes above are left out: the
/// pattern cannot name their invisible characters, see `openapi_requests.rs`).
#[test]
fn the_text_pattern_is_validate_text() {
    let text = matcher(TEXT_PATTERN, None);
    let category = matcher(CATEGORY_PATTERN, None);
    for c in (0u32..=0xFFFF).filter_map(char::from_u32) {
        for s in [c.to_string(), format!("a{c}"), format!("{c}a{c}")] {
            let v = json!(s);
            assert_eq!(text.is_valid(&v), validate::text("t", &s).is_ok(), "text {s:?} (U+{:04X})", c as u32);
            assert_eq!(category.is_valid(&v), validate::category("c", &s).is_ok(), "category {s:?}");
        }
    }
    for s in ["a/b", "a/b/c", "a//b", "/a", "a/", " /a", "a/ ", "a/\u{200B}", "Shoes / Running", ""] {
        assert_eq!(category.is_valid(&json!(s)), validate::category("c", s).is_ok(), "category {s:?}");
    }
}

#[test]
fn the_item_id_pattern_is_validate_item_id() {
    let id = matcher(ITEM_ID_PATTERN, Some(validate::MAX_ITEM_ID_LEN));
    let long = "a".repeat(validate::MAX_ITEM_ID_LEN);
    let too_long = "a".repeat(validate::MAX_ITEM_ID_LEN + 1);
    for s in [".", "..", "...", "a.", ".a", "a", "A-b_c.9", "", "a b", "é", long.as_str(), too_long.as_str()] {
        assert_eq!(id.is_valid(&json!(s)), validate::item_id("id", s).is_ok(), "{s:?}");
    }
}

/// No string of a request body is left without a pattern, an enum or a format, so every new
/// field gets one; and the schemas of answers are left as they were.
#[test]
fn every_request_string_says_its_form() {
    let doc = spec();
    let schemas = &doc["components"]["schemas"];
    for name in ["SkuBody", "TradePolicyBody", "NewAccount", "WarehouseBody", "SellerBody", "AffiliationBody"] {
        let mut loose = Vec::new();
        plain_strings(&schemas[name], name, &mut loose);
        assert!(loose.is_empty(), "strings that say nothing of their form: {loose:?}");
    }
    assert_eq!(schemas["SkuBody"]["properties"]["name"]["pattern"], TEXT_PATTERN);
    assert!(schemas["SkuView"].to_string().find(TEXT_PATTERN).is_none(), "answers keep their schemas");
    let mut root = json!({"$ref": "#/components/schemas/NewAccount"});
    root["components"] = doc["components"].clone();
    let account = jsonschema::draft202012::new(&root).expect("the schema compiles");
    assert!(!account.is_valid(&json!({"id": "a", "name": " ", "currency": "BRL"})), "a blank name is refused");
    assert!(account.is_valid(&json!({"id": "a", "name": "A", "currency": "BRL"})));
}

/// Where `v` has a string schema with no pattern, enum, const or format.
fn plain_strings(v: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            let string = m
                .get("type")
                .is_some_and(|t| t == "string" || t.as_array().is_some_and(|a| a.contains(&json!("string"))));
            if string && !["pattern", "enum", "const", "format"].iter().any(|k| m.contains_key(*k)) {
                out.push(at.to_string());
            }
            m.iter().for_each(|(k, x)| plain_strings(x, &format!("{at}.{k}"), out));
        }
        serde_json::Value::Array(a) => {
            a.iter().enumerate().for_each(|(i, x)| plain_strings(x, &format!("{at}[{i}]"), out))
        }
        _ => {}
    }
}
