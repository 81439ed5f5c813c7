//! The error answer of every `/vtex` route (vtex-compat.md §4): offernet's shape plus VTEX's
//! `exception: null`, `{"error": {"code": "<stable_snake_code>", "message": "<sentence>",
//! "exception": null}}`, which is what VTEX's OMS and fulfillment errors look like; VTEX
//! clients read the status and log the rest.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use offernet_core::DomainError;
use offernet_store::SubmitError;
use serde::Serialize;

/// A refused `/vtex` request: a status, a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VtexError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl VtexError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        VtexError { status, code, message: message.into() }
    }
    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }
    /// 400 naming the VTEX field path (`items[0].quantity`).
    pub fn invalid_field(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_field", format!("invalid field `{field}`: {message}"))
    }
    /// 400: a protocol feature offernet did not offer (services, attachments, windows, …).
    pub fn unsupported(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported", format!("`{field}`: {message}"))
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<DomainError> for VtexError {
    fn from(e: DomainError) -> Self {
        let status = match e {
            DomainError::InvalidField { .. } | DomainError::Import(_) => StatusCode::BAD_REQUEST,
            DomainError::NotFound { .. } => StatusCode::NOT_FOUND,
            DomainError::Conflict { .. }
            | DomainError::InsufficientStock { .. }
            | DomainError::IdempotencyMismatch { .. }
            | DomainError::PriceChanged { .. }
            | DomainError::ExternalPlacementPending { .. } => StatusCode::CONFLICT,
        };
        VtexError::new(status, e.code(), e.to_string())
    }
}

impl From<SubmitError> for VtexError {
    fn from(e: SubmitError) -> Self {
        let code = match e {
            SubmitError::Busy => "busy",
            SubmitError::Closed => "unavailable",
            SubmitError::Unavailable(_) => "writer_unavailable",
        };
        VtexError::new(StatusCode::SERVICE_UNAVAILABLE, code, e.to_string())
    }
}

/// The body of every `/vtex` error answer.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = VtexError)]
pub struct VtexErrorBody {
    #[schema(inline)]
    pub error: VtexErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VtexErrorDetail {
    /// Stable, for programs: `invalid_json`, `invalid_field`, `unsupported`, `unauthorized`,
    /// `forbidden`, `not_found`, `conflict`, `insufficient_stock`, `idempotency_mismatch`,
    /// `price_changed`, `body_too_large`, `rate_limited`, `busy`.
    pub code: &'static str,
    /// For people (a field path where one is at fault).
    pub message: String,
    /// Always `null` (VTEX's shape).
    #[schema(value_type = Option<String>, required = true)]
    pub exception: Option<()>,
}

impl IntoResponse for VtexError {
    fn into_response(self) -> Response {
        let busy = self.status == StatusCode::SERVICE_UNAVAILABLE || self.status == StatusCode::TOO_MANY_REQUESTS;
        let body = VtexErrorBody { error: VtexErrorDetail { code: self.code, message: self.message, exception: None } };
        let mut r = (self.status, axum::Json(body)).into_response();
        if busy {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

pub type VtexResult<T> = Result<T, VtexError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_body_has_vtex_shape() {
        let r = VtexError::from(DomainError::IdempotencyMismatch { id: "o1".into() });
        assert_eq!((r.status, r.code), (StatusCode::CONFLICT, "idempotency_mismatch"));
        let body = VtexErrorBody { error: VtexErrorDetail { code: r.code, message: r.message, exception: None } };
        let v = serde_json::to_value(body).unwrap();
        assert_eq!(v["error"]["exception"], serde_json::Value::Null);
        assert!(v["error"].as_object().unwrap().contains_key("exception"));
        assert_eq!(v["error"]["code"], "idempotency_mismatch");
    }

    #[test]
    fn a_rate_limited_answer_says_when_to_come_back() {
        let r = VtexError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "slow down").into_response();
        assert_eq!(
            (r.status(), r.headers()[header::RETRY_AFTER].to_str().unwrap()),
            (StatusCode::TOO_MANY_REQUESTS, "1")
        );
    }
}
