//! What a request may be, said exactly in the OpenAPI document: a client (or a schemathesis
//! run) that follows the document is not refused for what it allows, and what it forbids is
//! refused. The derive describes the Rust types, which say less than the checks the engine and
//! `extract.rs` make; [`requests`] closes the gap over the whole document after the derive
//! (`openapi::spec_for`), each rule in one place, so that new routes and fields get them:
//! - free text: every string of a request body (or query) with no pattern, enum, const or
//!   format gets [`TEXT_PATTERN`] (what `validate::text` and `extract::check_values` accept);
//! - ids: the item id pattern the attributes write (`^[A-Za-z0-9._-]{1,64}$`) becomes
//!   [`ITEM_ID_PATTERN`] (also not dots only, `validate::item_id`) with its `maxLength`;
//! - fields the derive describes too loosely ([`FIELDS`]): assortments, resale lists, lists of
//!   trade policy ids, categories, the items of an order (a seller each) or a simulation;
//! - PATCH bodies get their own schema `<Body>Patch` (ARCHITECTURE.md, "PATCH bodies"): every
//!   field optional and none `null`, since omitting a field keeps it (domain rule 24);
//! - query integers: `limit` from 1 to `max_page_size`; the other unsigned ones (`offset`,
//!   `after`, times) up to `u64::MAX`, what the server parses, rather than `format: int64`;
//! - the import's NDJSON body ([`import_lines`]): an array of line objects, one schema a kind
//!   (`Import<Kind>Line`, made from the kind's body schema), sent one JSON object a line.
//!
//! What JSON Schema cannot say (a trade policy named must exist, a list price is never below
//! the price, no connection to oneself, a GTIN's check digit) is said in the descriptions, and
//! `scripts/schemathesis_hooks.py` names each such rule for the operations it applies to.

use offernet_core::validate::{MAX_ASSORTMENT_LEN, MAX_ITEM_ID_LEN, MAX_LIST_LEN};
use offernet_core::MAX_IMPORT_LINES;

use crate::routes::import::{MAX_IMPORT_BYTES, MAX_IMPORT_LINE_BYTES};
use serde_json::{json, Map, Value};

/// Characters `validate::text` refuses anywhere: C0 and C1 controls and the bidirectional
/// overrides, embeddings and isolates.
macro_rules! control {
    () => {
        r"\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069"
    };
}

/// Characters that show nothing (`validate::is_invisible` in the Basic Multilingual Plane):
/// text made only of them is refused as blank. Written as `\uXXXX`, which ECMA-262, Python and
/// Rust regexes read alike; the tag characters and variation selectors above U+FFFF that the
/// engine also counts as invisible cannot be written so, and the descriptions name them.
macro_rules! invisible {
    () => {
        concat!(
            r"\u0009-\u000D\u0020\u0085\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5",
            r"\u180B-\u180E\u2000-\u200F\u2028\u2029\u202F\u205F-\u2064\u3000\u3164\uFE00-\uFE0F",
            r"\uFEFF\uFFA0"
        )
    };
}

/// One run of free text without `extra` characters: at least one visible character.
macro_rules! visible_run {
    ($extra:literal) => {
        concat!("[^", $extra, control!(), "]*[^", $extra, control!(), invisible!(), "][^", $extra, control!(), "]*")
    };
}

/// Free text: one line of text with at least one visible character.
pub const TEXT_PATTERN: &str = concat!("^", visible_run!(""), "$");

/// A category: `/`-separated segments, each free text.
pub const CATEGORY_PATTERN: &str = concat!("^", visible_run!("/"), "(?:/", visible_run!("/"), ")*$");

/// The item id pattern as the schema attributes write it (a literal, `validate::item_id`'s
/// characters and length).
const ITEM_ID_ATTRIBUTE: &str = "^[A-Za-z0-9._-]{1,64}$";

/// SKU, trade policy and warehouse ids: `A-Z a-z 0-9 . _ -`, at least one not a dot; the
/// length is the `maxLength` beside it.
pub const ITEM_ID_PATTERN: &str = "^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$";

/// Account ids (`validate::account_id`).
const ACCOUNT_ID_PATTERN: &str = "^[a-z0-9-]{1,50}$";

fn item_id() -> Value {
    json!({"type": "string", "pattern": ITEM_ID_PATTERN, "maxLength": MAX_ITEM_ID_LEN})
}

/// How a [`FIELDS`] entry changes a property: its keys replace the property's, or the whole
/// property is replaced.
enum Change {
    Merge,
    Replace,
}

/// Properties of request schemas the derive describes too loosely: (schema, property, how,
/// what). Assortments and resale lists share the Rust type `WordOrList` but not their words
/// and ids.
#[allow(clippy::type_complexity)]
const FIELDS: [(&str, &str, Change, fn() -> Value); 10] = [
    ("PriceBody", "list_price", Change::Merge, || json!({"description": "Never below `price` (400 otherwise)."})),
    (
        "PriceBody",
        "trade_policy",
        Change::Merge,
        || json!({"description": "The trade policy this fixed price is for (it must exist, 400 otherwise); without it, the base price."}),
    ),
    ("SkuBody", "ean", Change::Merge, || json!({"description": "A GTIN-8, 12, 13 or 14 with its check digit right."})),
    ("SkuBody", "category", Change::Merge, || json!({"pattern": CATEGORY_PATTERN})),
    ("TradePolicyBody", "assortment", Change::Replace, || {
        json!({"description": "`\"all\"`, or a list of SKU ids (which need not exist yet).",
            "oneOf": [{"const": "all"}, {"type": "array", "maxItems": MAX_ASSORTMENT_LEN, "items": item_id()}]})
    }),
    ("AffiliationBody", "resale", Change::Replace, || {
        json!({"description": "`\"none\"` (the default), `\"all\"`, or a list of account ids (an empty list is `none`).",
            "oneOf": [{"enum": ["none", "all"]}, {"type": "array", "maxItems": MAX_LIST_LEN,
                "items": {"type": "string", "pattern": ACCOUNT_ID_PATTERN}}, {"type": "null"}]})
    }),
    (
        "WarehouseBody",
        "trade_policies",
        Change::Merge,
        || json!({"description": "The trade policies it serves; each must exist (400 otherwise).", "items": item_id()}),
    ),
    (
        "SellerBody",
        "trade_policies",
        Change::Merge,
        || json!({"description": "The marketplace's trade policies that show this seller's offers; each must exist (400 otherwise).", "items": item_id()}),
    ),
    // An order names the seller of each line; a simulation may leave it to the best offer.
    ("OrderRequest", "items", Change::Merge, || {
        json!({"minItems": 1, "items": {"allOf": [{"$ref": "#/components/schemas/OrderItemBody"},
            {"required": ["seller"], "properties": {"seller": {"type": "string"}}}]}})
    }),
    ("SimulationBody", "items", Change::Merge, || json!({"minItems": 1})),
];

/// Everything this file makes the document say (see the file's doc).
pub(crate) fn requests(doc: &mut Value, max_page_size: usize) {
    let schemas = &mut doc["components"]["schemas"];
    for (schema, property, change, value) in &FIELDS {
        let Some(p) = schemas[schema]["properties"].get_mut(property) else { continue };
        match change {
            Change::Replace => *p = value(),
            Change::Merge => {
                if let (Some(p), Value::Object(v)) = (p.as_object_mut(), value()) {
                    p.extend(v);
                }
            }
        }
    }
    item_ids(doc);
    patch_bodies(doc);
    import_lines(doc);
    for name in request_schemas(doc) {
        free_text(&mut doc["components"]["schemas"][&name]);
    }
    for op in operations(doc) {
        if let Some(schema) = op.pointer_mut("/requestBody/content/application~1json/schema") {
            free_text(schema);
        }
        for param in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
            if param["in"] == "query" {
                let name = param["name"].as_str().unwrap_or_default().to_string();
                query_bounds(&name, &mut param["schema"], max_page_size);
                free_text(&mut param["schema"]);
            }
        }
    }
}

/// The kinds of import line: (kind, the ids its single route's path gives, its body's schema,
/// the line's schema). `routes/import.rs` `parse_line` reads a line so.
const IMPORT_KINDS: [(&str, &[&str], &str, &str); 5] = [
    ("sku", &["id"], "SkuBody", "ImportSkuLine"),
    ("price", &["sku"], "PriceBody", "ImportPriceLine"),
    ("warehouse", &["id"], "WarehouseBody", "ImportWarehouseLine"),
    ("stock", &["warehouse", "sku"], "StockBody", "ImportStockLine"),
    ("trade_policy", &["id"], "TradePolicyBody", "ImportTradePolicyLine"),
];

/// The import's body (`application/x-ndjson`): an array of 1 to [`MAX_IMPORT_LINES`] lines,
/// each one of the `Import<Kind>Line` schemas made here from the kind's body schema: its
/// properties plus `kind` (one value) and the path's ids, all of them required where the body
/// requires them, and no other (`additionalProperties: false`, as the body: the server refuses
/// an unknown field of a line). An `allOf` with the body's `$ref` cannot say so: the body's own
/// `additionalProperties: false` would refuse `kind` and the ids.
fn import_lines(doc: &mut Value) {
    const BODY: &str = "/paths/~1v1~1accounts~1{a}~1import/post/requestBody/content/application~1x-ndjson/schema";
    if doc.pointer(BODY).is_none() {
        return;
    }
    let mut kinds = Vec::new();
    for (kind, ids, body, line) in IMPORT_KINDS {
        let Value::Object(mut schema) = doc["components"]["schemas"][body].clone() else { continue };
        let mut properties = Map::new();
        properties.insert("kind".into(), json!({"type": "string", "enum": [kind]}));
        for id in ids {
            properties.insert((*id).into(), item_id());
        }
        if let Some(Value::Object(own)) = schema.remove("properties") {
            properties.extend(own);
        }
        let mut required: Vec<Value> = std::iter::once(json!("kind")).chain(ids.iter().map(|id| json!(id))).collect();
        if let Some(Value::Array(own)) = schema.remove("required") {
            required.extend(own);
        }
        let id_list = ids.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(" and ");
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(properties));
        schema.insert("required".into(), Value::Array(required));
        schema.insert("additionalProperties".into(), json!(false));
        schema.insert(
            "description".into(),
            json!(format!("A `{kind}` line of an import: `kind`, {id_list} (the ids of its single route's path) and the fields of `{body}`.")),
        );
        doc["components"]["schemas"][line] = Value::Object(schema);
        kinds.push(json!({"$ref": format!("#/components/schemas/{line}")}));
    }
    if let Some(b) = doc.pointer_mut(BODY) {
        let description = format!(
            "The lines, sent as NDJSON: each item one JSON object on a line of its own (blank lines are skipped); a line has at most {} MiB, the body at most {} MiB.",
            MAX_IMPORT_LINE_BYTES >> 20,
            MAX_IMPORT_BYTES >> 20
        );
        *b = json!({"type": "array", "minItems": 1, "maxItems": MAX_IMPORT_LINES, "items": {"oneOf": kinds},
            "description": description});
    }
    // A body with no line at all is refused as a plain `invalid_field` (`lines`), not line by line.
    const REFUSED: &str = "/paths/~1v1~1accounts~1{a}~1import/post/responses/400";
    if let Some(r) = doc.pointer_mut(REFUSED) {
        r["content"]["application/json"]["schema"] =
            json!({"anyOf": [{"$ref": "#/components/schemas/ImportRefused"}, {"$ref": "#/components/schemas/Error"}]});
    }
}

/// Every operation of the document.
fn operations(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    let paths = doc["paths"].as_object_mut().into_iter().flat_map(|p| p.values_mut());
    paths.flat_map(|item| item.as_object_mut().into_iter().flat_map(|m| m.values_mut()))
}

/// The item id pattern, wherever it is, also refuses ids of dots only.
fn item_ids(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("pattern").and_then(Value::as_str) == Some(ITEM_ID_ATTRIBUTE) {
                m.insert("pattern".into(), json!(ITEM_ID_PATTERN));
                m.insert("maxLength".into(), json!(MAX_ITEM_ID_LEN));
            }
            m.values_mut().for_each(item_ids);
        }
        Value::Array(a) => a.iter_mut().for_each(item_ids),
        _ => {}
    }
}

/// Each PATCH takes `<Body>Patch`: its PUT body's schema with every field optional and none
/// `null`.
fn patch_bodies(doc: &mut Value) {
    const REF: &str = "/requestBody/content/application~1json/schema/$ref";
    let mut made = Vec::new();
    for (path, item) in doc["paths"].as_object_mut().into_iter().flatten() {
        let Some(r) = item.get_mut("patch").and_then(|op| op.pointer_mut(REF)) else { continue };
        let Some(name) = r.as_str().and_then(|r| r.strip_prefix("#/components/schemas/")).map(str::to_string) else {
            continue;
        };
        *r = json!(format!("#/components/schemas/{name}Patch"));
        made.push((name, path.clone()));
    }
    for (name, path) in made {
        let mut schema = doc["components"]["schemas"][&name].clone();
        let Some(m) = schema.as_object_mut() else { continue };
        m.remove("required");
        m.insert("description".into(), json!(format!(
            "The fields of `PATCH {path}` to change: each optional, none `null` (omit a field to keep it). An empty object changes nothing."
        )));
        for p in m.get_mut("properties").and_then(Value::as_object_mut).into_iter().flat_map(|p| p.values_mut()) {
            not_null(p);
        }
        doc["components"]["schemas"][format!("{name}Patch")] = schema;
    }
}

/// A property schema without its `null` alternative.
fn not_null(p: &mut Value) {
    if let Some(Value::Array(types)) = p.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            p["type"] = types[0].clone();
        }
    }
    if let Some(Value::Array(alternatives)) = p.get_mut("oneOf") {
        alternatives.retain(|a| a.get("type") != Some(&json!("null")));
        if alternatives.len() == 1 {
            let only = alternatives.remove(0);
            if let (Some(p), Value::Object(only)) = (p.as_object_mut(), only) {
                p.remove("oneOf");
                p.extend(only);
            }
        }
    }
}

/// The component schemas a request body refers to, directly or through other schemas.
fn request_schemas(doc: &mut Value) -> Vec<String> {
    let mut todo: Vec<String> = Vec::new();
    for op in operations(doc) {
        refs(&op["requestBody"], &mut todo);
    }
    let mut seen: Vec<String> = Vec::new();
    while let Some(name) = todo.pop() {
        if !seen.contains(&name) {
            refs(&doc["components"]["schemas"][&name], &mut todo);
            seen.push(name);
        }
    }
    seen
}

/// The component names `v` refers to.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(name) =
                m.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                out.push(name.to_string());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Every string schema within `v` that says nothing of its form gets [`TEXT_PATTERN`].
fn free_text(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if is_plain_string(m) {
                m.insert("pattern".into(), json!(TEXT_PATTERN));
            }
            m.values_mut().for_each(free_text);
        }
        Value::Array(a) => a.iter_mut().for_each(free_text),
        _ => {}
    }
}

fn is_plain_string(m: &Map<String, Value>) -> bool {
    let string = match m.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    string && !["pattern", "enum", "const", "format"].iter().any(|k| m.contains_key(*k))
}

/// A query integer's bounds as the server parses it (`routes/query.rs`).
fn query_bounds(name: &str, schema: &mut Value, max_page_size: usize) {
    if schema["type"] != "integer" {
        return;
    }
    if name == "limit" {
        schema["maximum"] = json!(max_page_size);
    } else if schema["minimum"] == 0 {
        if let Some(m) = schema.as_object_mut() {
            m.remove("format");
        }
        schema["maximum"] = json!(u64::MAX);
    }
}
