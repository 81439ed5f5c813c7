//! The import's body as the OpenAPI document publishes it (`openapi_requests::import_lines`):
//! an array of line objects, one schema a kind made from that kind's body schema, with the
//! request patterns and `additionalProperties: false` the server keeps (an unknown field of a
//! line is refused, as in the single route's body).

use offernet_core::MAX_IMPORT_LINES;
use offernet_server::openapi::{spec, TEXT_PATTERN};
use serde_json::{json, Value};

const BODY: &str = "/paths/~1v1~1accounts~1{a}~1import/post/requestBody/content/application~1x-ndjson/schema";

const KINDS: [(&str, &str, &str, &[&str]); 5] = [
    ("sku", "ImportSkuLine", "SkuBody", &["id"]),
    ("price", "ImportPriceLine", "PriceBody", &["sku"]),
    ("warehouse", "ImportWarehouseLine", "WarehouseBody", &["id"]),
    ("stock", "ImportStockLine", "StockBody", &["warehouse", "sku"]),
    ("trade_policy", "ImportTradePolicyLine", "TradePolicyBody", &["id"]),
];

fn body_validator(doc: &Value) -> jsonschema::Validator {
    let mut root = doc.pointer(BODY).expect("the import's NDJSON body has a schema").clone();
    root["components"] = doc["components"].clone();
    jsonschema::draft202012::new(&root).expect("the schema compiles")
}

#[test]
fn the_import_body_is_an_array_of_lines_one_schema_a_kind() {
    let doc = spec();
    let body = doc.pointer(BODY).unwrap();
    assert_eq!(body["type"], "array");
    assert_eq!(body["minItems"], 1);
    assert_eq!(body["maxItems"], MAX_IMPORT_LINES);
    assert!(body["description"].as_str().unwrap().contains("one JSON object on a line"));
    let refs: Vec<&str> =
        body["items"]["oneOf"].as_array().unwrap().iter().map(|r| r["$ref"].as_str().unwrap()).collect();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(refs.len(), KINDS.len());
    for (kind, line, body, ids) in KINDS {
        assert!(refs.contains(&format!("#/components/schemas/{line}").as_str()), "{line} is an item");
        let s = &schemas[line];
        assert_eq!(s["additionalProperties"], false, "{line}: the server refuses unknown fields");
        assert_eq!(s["properties"]["kind"]["enum"], json!([kind]));
        let required = s["required"].as_array().unwrap();
        for id in ids.iter().chain(&["kind"]) {
            assert!(required.contains(&json!(id)), "{line}: {id} is required");
        }
        for r in schemas[body]["required"].as_array().into_iter().flatten() {
            assert!(required.contains(r), "{line}: {r} is required as in {body}");
        }
        // Every field of the body, as the body describes it (request patterns included).
        for (name, p) in schemas[body]["properties"].as_object().unwrap() {
            assert_eq!(&s["properties"][name], p, "{line}.{name} is {body}.{name}");
        }
        assert_eq!(s.get("oneOf"), schemas[body].get("oneOf"), "{line} keeps {body}'s alternatives");
    }
    // A refused import lists its lines; a body with no line is a plain error naming `lines`.
    let refused =
        doc.pointer("/paths/~1v1~1accounts~1{a}~1import/post/responses/400/content/application~1json/schema").unwrap();
    for r in refused["anyOf"].as_array().unwrap() {
        let name = r["$ref"].as_str().unwrap().strip_prefix("#/components/schemas/").unwrap();
        assert!(schemas[name].is_object(), "{name} is a component");
    }
    assert_eq!(schemas["ImportSkuLine"]["properties"]["name"]["pattern"], TEXT_PATTERN);
    assert_eq!(
        schemas["ImportStockLine"]["properties"]["warehouse"]["pattern"],
        schemas["PriceBody"]["properties"]["trade_policy"]["pattern"]
    );
}

#[test]
fn the_import_body_schema_allows_what_the_server_reads_and_no_more() {
    let v = body_validator(&spec());
    let good = json!([
        {"kind": "trade_policy", "id": "main", "assortment": "all"},
        {"kind": "sku", "id": "s1", "name": "Shoe", "ean": "4006381333931"},
        {"kind": "price", "sku": "s1", "price": 100, "list_price": 120},
        {"kind": "warehouse", "id": "w1", "trade_policies": ["main"]},
        {"kind": "stock", "warehouse": "w1", "sku": "s1", "quantity": 3},
        {"kind": "stock", "warehouse": "w1", "sku": "s1", "unlimited": true}
    ]);
    let errors: Vec<String> = v.iter_errors(&good).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let bad = [
        json!([]),
        json!({"kind": "price", "sku": "s1", "price": 1}),
        json!([{"sku": "s1", "price": 1}]),
        json!([{"kind": "prices", "sku": "s1", "price": 1}]),
        json!([{"kind": "price", "price": 1}]),
        json!([{"kind": "price", "sku": "..", "price": 1}]),
        json!([{"kind": "price", "sku": "s1", "price": 1, "extra": 1}]),
        json!([{"kind": "price", "id": "s1", "price": 1}]),
        json!([{"kind": "sku", "id": "s1", "name": " "}]),
        json!([{"kind": "stock", "warehouse": "w1", "sku": "s1", "quantity": 3, "unlimited": true}]),
        json!([{"kind": "trade_policy", "id": "t"}]),
    ];
    for b in bad {
        assert!(!v.is_valid(&b), "refused by the schema: {b}");
    }
}
