//! OpenAPI 3.0 schema objects to JSON Schema (draft 4, the dialect OpenAPI 3.0 extends).
//!
//! Walks only schema positions (`properties` values, `items`, `additionalProperties`, `allOf`,
//! `anyOf`, `oneOf`, `not`), so a property that happens to be named `example` or `nullable` is
//! kept. Drops `example` (an annotation with no meaning in JSON Schema) and turns
//! `nullable: true` into a type union (`"type": ["string", "null"]`, `null` added to an `enum`),
//! or into `anyOf [schema, {"type": "null"}]` where there is no single `type` to extend (a `$ref`,
//! whose siblings draft 4 ignores, or a composition).

use serde_json::{json, Map, Value};

/// Rewrites every schema of a `components.schemas` map in place.
pub(crate) fn components(schemas: &mut Value) {
    if let Some(map) = schemas.as_object_mut() {
        map.values_mut().for_each(schema);
    }
}

/// Rewrites one schema object (and everything below it) in place.
pub(crate) fn schema(value: &mut Value) {
    let Some(map) = value.as_object_mut() else { return };
    map.remove("example");
    if let Some(props) = map.get_mut("properties").and_then(Value::as_object_mut) {
        props.values_mut().for_each(schema);
    }
    for key in ["items", "additionalProperties", "not"] {
        match map.get_mut(key) {
            Some(Value::Array(list)) => list.iter_mut().for_each(schema),
            Some(v @ Value::Object(_)) => schema(v),
            _ => {}
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = map.get_mut(key).and_then(Value::as_array_mut) {
            list.iter_mut().for_each(schema);
        }
    }
    let nullable = map.remove("nullable").and_then(|v| v.as_bool()).unwrap_or(false);
    if nullable {
        if let Some(wrapped) = null_union(map) {
            *value = wrapped;
        }
    }
}

/// Makes `map` admit `null`; answers a replacement when it cannot be done in place.
fn null_union(map: &mut Map<String, Value>) -> Option<Value> {
    if let Some(list) = map.get_mut("enum").and_then(Value::as_array_mut) {
        if !list.contains(&Value::Null) {
            list.push(Value::Null);
        }
    }
    let wrap = map.contains_key("$ref") || !matches!(map.get("type"), Some(Value::String(_)));
    if wrap {
        let inner = Value::Object(std::mem::take(map));
        return Some(json!({"anyOf": [inner, {"type": "null"}]}));
    }
    let t = map["type"].take();
    map.insert("type".into(), json!([t, "null"]));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_becomes_a_type_union_and_examples_go() {
        let mut s = json!({"type": "object", "properties": {
            "a": {"type": "string", "nullable": true, "example": "x"},
            "example": {"type": "integer"},
            "e": {"type": "string", "enum": ["x"], "nullable": true},
            "r": {"$ref": "#/components/schemas/R", "nullable": true},
            "n": {"type": "boolean", "nullable": false}}});
        schema(&mut s);
        assert_eq!(s["properties"]["a"], json!({"type": ["string", "null"]}));
        assert_eq!(s["properties"]["example"], json!({"type": "integer"}));
        assert_eq!(s["properties"]["e"], json!({"type": ["string", "null"], "enum": ["x", null]}));
        assert_eq!(s["properties"]["r"], json!({"anyOf": [{"$ref": "#/components/schemas/R"}, {"type": "null"}]}));
        assert_eq!(s["properties"]["n"], json!({"type": "boolean"}));
    }

    #[test]
    fn nested_positions_are_rewritten() {
        let mut s = json!({"type": "array", "items": {"anyOf": [{"type": "integer", "nullable": true}]}});
        schema(&mut s);
        assert_eq!(s["items"]["anyOf"][0]["type"], json!(["integer", "null"]));
    }
}
