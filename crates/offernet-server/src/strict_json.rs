//! JSON bodies parsed strictly: an object that names one key twice is refused. serde_json
//! keeps the last value of a repeated key, so `{"quantity": 1, "quantity": 1000}` would mean
//! whatever the last parser in a chain of proxies and logs thinks it means; we refuse it.
//! [`Body`] then reads the value into a request type as its JSON Schema describes it: an
//! object only where an object is expected, and a whole number written `79.0` as 79.

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

/// A parsed body read into a request type the way its JSON Schema reads it, where serde's own
/// reading of a `Value` differs:
/// - serde reads a struct from a JSON array too (its sequence form: `["sku", 1]` for
///   `{"sku", "quantity"}`); an object is expected, so an array is refused, at any depth;
/// - JSON Schema's `integer` is any number with no fractional part (`79.0` is 79), but serde
///   refuses `79.0` for an `i64`; a whole number written with a fraction is read as the
///   integer it is (within the range of `i64`/`u64`; beyond it, it stays a float and a whole
///   number field refuses it as out of range).
///
/// Everything else is serde_json's own reading of a `Value`.
pub struct Body(pub Value);

impl Body {
    /// The number as serde should see it: an integer when it is a whole number in range.
    fn number<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value, serde_json::Error> {
        // 2^63 and 2^64 are exact as f64; a whole f64 below them converts exactly.
        const I64_END: f64 = 9_223_372_036_854_775_808.0;
        const U64_END: f64 = 18_446_744_073_709_551_616.0;
        match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && (-I64_END..0.0).contains(&f) => visitor.visit_i64(f as i64),
            Some(f) if n.is_f64() && f.fract() == 0.0 && (0.0..U64_END).contains(&f) => visitor.visit_u64(f as u64),
            _ => Value::Number(n.clone()).deserialize_any(visitor),
        }
    }
}

impl<'de> Deserializer<'de> for Body {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Number(n) => Body::number(&n, visitor),
            Value::Array(a) => visitor.visit_seq(Items(a.into_iter())),
            Value::Object(m) => visitor.visit_map(Fields(m.into_iter(), None)),
            v => v.deserialize_any(visitor),
        }
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            v => visitor.visit_some(Body(v)),
        }
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(m) => visitor.visit_map(Fields(m.into_iter(), None)),
            Value::Array(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &visitor)),
            v => v.deserialize_any(visitor),
        }
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// A list's items, each read as a [`Body`].
struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        self.0.next().map(|v| seed.deserialize(Body(v))).transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// An object's fields, each value read as a [`Body`].
struct Fields(serde_json::map::IntoIter, Option<Value>);

impl<'de> MapAccess<'de> for Fields {
    type Error = serde_json::Error;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let Some((k, v)) = self.0.next() else { return Ok(None) };
        self.1 = Some(v);
        seed.deserialize(Value::String(k)).map(Some)
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        let v = self.1.take().ok_or_else(|| de::Error::custom("a value asked for before its key"))?;
        seed.deserialize(Body(v))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// serde's reason for refusing a value, in words a client knows: `invalid type: string "x",
/// expected u64` becomes `expected a non-negative whole number, got the text "x"`. Rust type
/// names (`i64`, `u16`, `a sequence`, `struct SkuBody`, `untagged enum WordOrList`) never
/// reach a client; other reasons (`missing field`, `unknown variant`) are kept.
pub fn plain_reason(reason: &str) -> String {
    let typed = reason.strip_prefix("invalid type: ").or_else(|| reason.strip_prefix("invalid value: "));
    if let Some((got, expected)) = typed.and_then(|r| r.rsplit_once(", expected ")) {
        return format!("expected {}, got {}", plain_expected(expected), plain_got(got));
    }
    if let Some(name) = reason.strip_prefix("data did not match any variant of untagged enum ") {
        return match name {
            "WordOrList" => "expected a word (such as `all` or `none`) or a list of ids".into(),
            _ => "expected one of the forms the API documents for this field".into(),
        };
    }
    if let Some((_, expected)) = reason.strip_prefix("invalid length ").and_then(|r| r.split_once(", expected ")) {
        return format!("expected {}", plain_expected(expected));
    }
    reason.to_string()
}

fn plain_expected(e: &str) -> String {
    match e {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".into(),
        "u64" | "u128" | "usize" => "a non-negative whole number".into(),
        "u8" => format!("a whole number from 0 to {}", u8::MAX),
        "u16" => format!("a whole number from 0 to {}", u16::MAX),
        "u32" => format!("a whole number from 0 to {}", u32::MAX),
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a string" | "a borrowed string" | "a character" | "a char" => "text".into(),
        "a sequence" => "a list".into(),
        "a map" | "string or map" => "an object".into(),
        e if e.starts_with("struct ") || e.starts_with("a map") => "an object".into(),
        e if e.starts_with("enum ") || e.starts_with("variant ") => "one of the documented values".into(),
        e if e.starts_with("a sequence") || e.starts_with("tuple") => "a list".into(),
        e => e.to_string(),
    }
}

fn plain_got(g: &str) -> String {
    let quoted = |p: &str| g.strip_prefix(p).map(|v| v.trim_matches('`').to_string());
    if let Some(s) = g.strip_prefix("string ") {
        return format!("the text {s}");
    }
    if let Some(n) = quoted("integer ").or_else(|| quoted("floating point ")) {
        return format!("the number {n}");
    }
    if let Some(b) = quoted("boolean ") {
        return b;
    }
    match g {
        "sequence" => "a list".into(),
        "map" => "an object".into(),
        "null" | "unit value" => "null".into(),
        g => g.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Value, String> {
        serde_json::from_str::<Strict>(s).map(|x| x.0).map_err(|e| e.to_string())
    }

    #[test]
    fn reasons_name_no_rust_type() {
        use serde::Deserialize;
        #[allow(dead_code)]
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        struct B {
            n: Option<i64>,
            u: Option<u64>,
            s: Option<u16>,
            b: Option<bool>,
            t: Option<String>,
            l: Option<Vec<String>>,
            o: Option<Inner>,
            w: Option<offernet_core::WordOrList>,
        }
        #[allow(dead_code)]
        #[derive(Deserialize, Debug)]
        struct Inner {
            x: Option<String>,
        }
        let cases = [
            (r#"{"n": "1"}"#, r#"expected a whole number, got the text "1""#),
            (r#"{"n": 1.5}"#, "expected a whole number, got the number 1.5"),
            (r#"{"u": -1}"#, "expected a non-negative whole number, got the number -1"),
            (r#"{"s": 70000}"#, "expected a whole number from 0 to 65535, got the number 70000"),
            (r#"{"b": "yes"}"#, r#"expected true or false, got the text "yes""#),
            (r#"{"t": 5}"#, "expected text, got the number 5"),
            (r#"{"l": "a"}"#, r#"expected a list, got the text "a""#),
            (r#"{"o": 5}"#, "expected an object, got the number 5"),
            (r#"{"l": {}}"#, "expected a list, got an object"),
            (r#"{"w": 3}"#, "expected a word (such as `all` or `none`) or a list of ids"),
            (r#"{"l": [true]}"#, "expected text, got true"),
        ];
        for (body, want) in cases {
            let v: Value = serde_json::from_str(body).unwrap();
            let e = serde_json::from_value::<B>(v).unwrap_err().to_string();
            let got = plain_reason(&e);
            assert_eq!(got, want, "{body}: {e}");
            for t in ["i64", "u64", "u16", "bool", "Vec", "Option", "struct", "enum", "sequence", "map"] {
                assert!(!got.contains(t), "{body}: {got}");
            }
        }
    }

    #[test]
    fn a_body_reads_objects_only_where_structs_and_whole_floats_as_integers() {
        use serde::Deserialize;
        #[allow(dead_code)]
        #[derive(Deserialize, Debug, PartialEq)]
        struct Item {
            sku: String,
            quantity: i64,
        }
        #[allow(dead_code)]
        #[derive(Deserialize, Debug, PartialEq)]
        struct B {
            items: Option<Vec<Item>>,
            n: Option<u64>,
            f: Option<f64>,
            w: Option<offernet_core::WordOrList>,
        }
        let read = |s: &str| B::deserialize(Body(serde_json::from_str(s).unwrap())).map_err(|e| e.to_string());
        // serde_json alone reads the array as the struct; a Body does not, at any depth.
        let array = r#"{"items": [["a", 1]]}"#;
        assert!(serde_json::from_str::<B>(array).is_ok());
        assert!(read(array).unwrap_err().contains("expected struct Item"), "{:?}", read(array));
        assert!(B::deserialize(Body(serde_json::json!([null, null, null, null]))).is_err());
        let b = read(r#"{"items": [{"sku": "a", "quantity": 79.0}], "n": 3.0, "f": 2, "w": ["x"]}"#).unwrap();
        assert_eq!((b.items.unwrap()[0].quantity, b.n, b.f), (79, Some(3), Some(2.0)));
        assert_eq!(read(r#"{"items": [{"sku": "a", "quantity": -5.0}]}"#).unwrap().items.unwrap()[0].quantity, -5);
        for bad in
            [r#"{"n": 1.5}"#, r#"{"n": -1.0}"#, r#"{"n": 1e30}"#, r#"{"items": [{"sku": "a", "quantity": 1e19}]}"#]
        {
            assert!(read(bad).is_err(), "{bad}");
        }
        assert_eq!(read(r#"{"w": "all"}"#).unwrap().w, Some(offernet_core::WordOrList::Word("all".into())));
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
