//! Reading a `/vtex` request body: whole, within the body limit, as JSON, then leniently into
//! a protocol type (unknown fields ignored, a wrong type named by its VTEX path).

use axum::body::Body;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{VtexError, VtexResult};
use crate::VtexState;

/// The body as JSON, read whole within the body limit (413 beyond it).
pub(crate) async fn json_body(st: &VtexState, body: Body) -> VtexResult<Value> {
    let bytes = axum::body::to_bytes(body, st.body_limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(x) = source {
            if x.is::<http_body_util::LengthLimitError>() {
                let message = format!("the request body exceeds {} bytes", st.body_limit);
                return VtexError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", message);
            }
            source = x.source();
        }
        VtexError::invalid_json(format!("the body could not be read: {e}"))
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(&bytes).map_err(|e| VtexError::invalid_json(format!("the body is not valid JSON: {e}")))
}

/// `value` as `T`, leniently (unknown fields ignored); a wrong type is 400 naming its field by
/// its VTEX path, without the parser's words for types.
pub(crate) fn lenient<T: DeserializeOwned>(value: Value) -> VtexResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "the body" } else { path.as_str() };
        VtexError::invalid_field(field, "a value of another type than VTEX's schema gives this field")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::SimulationRequest;

    #[test]
    fn a_wrong_type_names_the_field_in_plain_words() {
        let e = lenient::<SimulationRequest>(serde_json::json!({"items": [{"id": 6}]})).unwrap_err();
        assert_eq!((e.status, e.code), (StatusCode::BAD_REQUEST, "invalid_field"));
        assert!(e.message.contains("items[0].id"), "{}", e.message);
        for rust in ["i64", "u64", "sequence", "struct", "Option", "a map"] {
            assert!(!e.message.contains(rust), "{}", e.message);
        }
        let ok: SimulationRequest = lenient(serde_json::json!({"items": [], "extra": {"x": 1}})).unwrap();
        assert_eq!(ok.items.map(|i| i.len()), Some(0), "unknown fields are ignored");
    }
}
