//! Stale reads are refused. While another process holds the writer lease (PostgreSQL), or the
//! writer stopped on an error it cannot recover from (the journal moved under it), this
//! process's committed state may be behind the journal: every route but `/healthz`, `/readyz`,
//! `/metrics` and the API reference (`/`, `/docs`) answers 503 `not_writer` (with Retry-After) until the lease is retaken. While the
//! writer only retries the journal (a full disk, a dropped connection), nobody else writes, so
//! reads stay correct and are served; writes are refused by the writer itself.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use offernet_store::WriterState;

use crate::error::ApiError;
use crate::state::AppState;

/// Routes that answer whatever the writer's state: they are how an operator finds out, and
/// the API reference (static, never stale).
const ALWAYS_SERVED: [&str; 5] = ["/healthz", "/readyz", "/metrics", "/", "/docs"];

pub async fn guard(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    // One atomic read per request; the error text is read only to refuse.
    if matches!(st.writer.shared().state(), WriterState::NotWriter | WriterState::Stopped) {
        let health = st.writer.health();
        let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str()).unwrap_or_default();
        if !ALWAYS_SERVED.contains(&route) && !route.starts_with("/docs/") {
            let e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_writer",
                format!(
                    "this server is {} and its state may be stale ({}); see GET /healthz",
                    health.state.as_str(),
                    health.last_error.unwrap_or_default()
                ),
            );
            return e.into_response();
        }
    }
    next.run(req).await
}
