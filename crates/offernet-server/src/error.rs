//! The one API error type: a status, a stable code, a human message, and (for bad input) the
//! field. Internals are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use offernet_core::DomainError;
use offernet_store::SubmitError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds a client should wait before retrying (503).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), field: None, retry_after: None }
    }
    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid_field", message);
        e.field = Some(field);
        e
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid `Authorization: Bearer <token>` header is required",
        )
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "this token may not access that account's data")
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("the request body exceeds {limit} bytes"))
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let message = e.to_string();
        match e {
            DomainError::InvalidField { field, .. } => ApiError::invalid_field(field, message),
            DomainError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
            DomainError::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            DomainError::InsufficientStock { .. } => ApiError::new(StatusCode::CONFLICT, "insufficient_stock", message),
            DomainError::IdempotencyMismatch { .. } => {
                ApiError::new(StatusCode::CONFLICT, "idempotency_mismatch", message)
            }
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Busy => {
                let mut x = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string());
                x.retry_after = Some(1);
                x
            }
            SubmitError::Closed => {
                let mut x =
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the server is shutting down");
                x.retry_after = Some(5);
                x
            }
            // The journal failed and the writer is reconnecting (or another process holds the
            // lease): the message says whether this write may have been applied.
            SubmitError::Unavailable(m) => {
                let mut x = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "writer_unavailable", m);
                x.retry_after = Some(1);
                x
            }
        }
    }
}

/// Every error answer: `{"error": {"code", "message", "field"?}}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    #[schema(inline)]
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `invalid_field`, `not_found`, `conflict`, `busy`, ….
    pub code: &'static str,
    /// The input field at fault, for `invalid_field` (a path like `items[0].quantity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For people.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code, field: self.field, message: self.message } };
        let mut r = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
