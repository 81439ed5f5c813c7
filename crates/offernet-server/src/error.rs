//! The one API error type: a status, a stable code, a human message, and (for bad input) the
//! field. Internals are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use offernet_core::{DomainError, Missing};
use offernet_store::SubmitError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds a client should wait before retrying (429, 503).
    pub retry_after: Option<u32>,
    /// For a 404: what was not found and its id, which `habits::name_not_found` turns into the
    /// `field` naming the path parameter that gave it.
    /// (Boxed: results carry an `ApiError`, so it is kept small.)
    pub missing: Option<Box<(Missing, String)>>,
    /// For a 401: why, which chooses the `WWW-Authenticate` challenge.
    pub unauthorized: Option<Unauthorized>,
}

/// Why a request was not authenticated (401): each has its own message and challenge
/// (RFC 6750: no error code when no credentials were sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthorized {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    Malformed,
    /// A well-formed bearer token that is not the operator's nor any account's.
    WrongToken,
}

impl Unauthorized {
    fn challenge(self) -> &'static str {
        match self {
            Unauthorized::Missing => r#"Bearer realm="offernet""#,
            Unauthorized::Malformed => r#"Bearer realm="offernet", error="invalid_request""#,
            Unauthorized::WrongToken => r#"Bearer realm="offernet", error="invalid_token""#,
        }
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            missing: None,
            unauthorized: None,
        }
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
    pub fn unauthorized(why: Unauthorized) -> Self {
        let message = match why {
            Unauthorized::Missing => "this route needs an `Authorization: Bearer <token>` header, and none was sent",
            Unauthorized::Malformed => {
                "the Authorization header is not of the form `Bearer <token>` (the word Bearer, a space, then the token)"
            }
            Unauthorized::WrongToken => {
                "the bearer token is not valid: it is not the operator's token nor the current token of an account"
            }
        };
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
        e.unauthorized = Some(why);
        e
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "this token may not access that account's data")
    }
    /// 404 for something that is not a route's resource (no such route).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// 404: `missing` with `id` does not exist.
    pub fn missing(missing: Missing, id: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::NOT_FOUND, "not_found", message);
        e.missing = Some(Box::new((missing, id.into())));
        e
    }
    /// `self` with `field` set.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
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
            DomainError::NotFound { missing, id, .. } => ApiError::missing(missing, id, message),
            DomainError::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            DomainError::InsufficientStock { .. } => ApiError::new(StatusCode::CONFLICT, "insufficient_stock", message),
            DomainError::IdempotencyMismatch { .. } => {
                ApiError::new(StatusCode::CONFLICT, "idempotency_mismatch", message)
            }
            DomainError::PriceChanged { .. } => ApiError::new(StatusCode::CONFLICT, "price_changed", message),
            DomainError::ExternalPlacementPending { .. } => {
                ApiError::new(StatusCode::CONFLICT, "external_placement_pending", message)
            }
            // The import route answers its own lines (`routes/import.rs`); this is the short form.
            DomainError::Import(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_import", message),
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Busy => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string()),
            SubmitError::Closed => {
                let mut x =
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the server is shutting down");
                x.retry_after = Some(5);
                x
            }
            // The journal failed and the writer is reconnecting (or another process holds the
            // lease): the message says whether this write may have been applied.
            SubmitError::Unavailable(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "writer_unavailable", m),
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
    /// The input field at fault, for `invalid_field` (a path like `items[0].quantity`); for
    /// `not_found`, the path parameter (`sku`, `w`, `id`, …) or body field that named what
    /// was not found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For people.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A not-found not yet named by a field: kept whole for the layer that names it.
        let unnamed = (self.missing.is_some() && self.field.is_none()).then(|| self.clone());
        let body = ErrorBody { error: ErrorDetail { code: self.code, field: self.field, message: self.message } };
        let mut r = (self.status, axum::Json(body)).into_response();
        // Every 429 and 503 says when to retry: 1 s unless its maker knows better.
        let busy = matches!(self.status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE);
        if let Some(s) = self.retry_after.or(busy.then_some(1)) {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if let Some(why) = self.unauthorized {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(why.challenge()));
        }
        if let Some(e) = unnamed {
            r.extensions_mut().insert(e);
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
