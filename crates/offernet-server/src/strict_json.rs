//! JSON bodies parsed strictly: an object that names one key twice is refused. serde_json
//! keeps the last value of a repeated key, so `{"quantity": 1, "quantity": 1000}` would mean
//! whatever the last parser in a chain of proxies and logs thinks it means; we refuse it.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A JSON value with no repeated key in any object, at any depth.
pub struct Strict(pub Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("a number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("the key `{key}` appears twice in one object")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Value, String> {
        serde_json::from_str::<Strict>(s).map(|x| x.0).map_err(|e| e.to_string())
    }

    #[test]
    fn repeated_keys_are_refused_at_any_depth() {
        assert!(parse(r#"{"quantity": 1, "quantity": 1000}"#).unwrap_err().contains("`quantity` appears twice"));
        assert!(parse(r#"{"items": [{"sku": "a", "sku": "b"}]}"#).is_err());
        assert!(parse(r#"{"a": {"b": 1, "c": {"d": 1, "d": 2}}}"#).is_err());
    }

    #[test]
    fn everything_else_parses_as_serde_json_does() {
        for s in
            [r#"{"a": 1, "b": -2, "c": 1.5, "d": "x", "e": null, "f": [true, {"a": 1}], "g": {}}"#, "[]", "3", r#""s""#]
        {
            assert_eq!(parse(s).unwrap(), serde_json::from_str::<Value>(s).unwrap(), "{s}");
        }
        assert!(parse("{").is_err());
        assert!(parse(r#"{"a": 1} x"#).is_err());
    }
}
