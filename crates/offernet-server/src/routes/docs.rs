//! The interactive API reference: `GET /docs` is a small HTML page that loads Scalar's
//! standalone bundle (vendored in `assets/`, embedded in the binary, served from
//! `GET /docs/<asset>`) and points it at `/openapi.json`; `GET /` says where both are.
//!
//! Nothing is fetched from anywhere but this server at run time: the page turns off what the
//! bundle would otherwise load or send (its fonts, telemetry, the AI agent, the developer
//! tools), and its Content-Security-Policy keeps the browser from fetching any other origin
//! whatever the bundle tries (`assets/README.md` records how this was checked).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::respond::ok;
use crate::state::AppState;

/// The vendored bundle's file name, as served under `/docs/` (its version in the name, so it
/// can be cached for good). The route in `get_docs_asset`'s `path` must match.
pub const ASSET: &str = "scalar-api-reference-1.76.0.js";
static ASSET_BYTES: &[u8] = include_bytes!("../../assets/scalar-api-reference-1.76.0.js");

/// Only this server's own origin; inline styles because the bundle injects its stylesheet.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page. Paths are relative, so that the reference also works behind a proxy that mounts
/// the API under a prefix (`/docs` resolves `openapi.json` and `docs/…` against its parent).
const PAGE: &str = concat!(
    r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>offernet API reference</title>
</head>
<body>
<noscript>This reference needs JavaScript. The API's OpenAPI document is <a href="openapi.json">openapi.json</a>.</noscript>
<script id="api-reference" data-url="openapi.json" data-configuration='{"withDefaultFonts":false,"telemetry":false,"showDeveloperTools":"never","agent":{"disabled":true},"mcp":{"disabled":true}}'></script>
<script src="docs/"#,
    "scalar-api-reference-1.76.0.js",
    r#""></script>
</body>
</html>
"#
);

pub(super) fn router() -> OpenApiRouter<std::sync::Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(get_index)).routes(routes!(get_docs)).routes(routes!(get_docs_asset))
}

/// Where to start.
#[derive(Serialize, ToSchema)]
struct Index {
    /// `offernet`.
    name: &'static str,
    /// The server's version.
    version: &'static str,
    /// The interactive API reference (HTML).
    docs: &'static str,
    /// The OpenAPI 3.1 document.
    openapi: &'static str,
}

/// Where the documentation is
///
/// A small JSON pointing to the interactive reference (`/docs`) and the OpenAPI document.
#[utoipa::path(get, path = "/", tag = "operations",
    responses((status = 200, description = "where the documentation is", body = Index)),
    extensions(("x-offernet-who" = json!("anyone"))))]
async fn get_index() -> Response {
    ok(Index { name: "offernet", version: env!("CARGO_PKG_VERSION"), docs: "/docs", openapi: "/openapi.json" })
}

/// Interactive API reference
///
/// An HTML page rendering `/openapi.json` with Scalar's API reference (served by this server
/// from `/docs/<asset>`; nothing is loaded from elsewhere).
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "the reference page", body = String, content_type = "text/html")),
    extensions(("x-offernet-who" = json!("anyone"))))]
async fn get_docs() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
        .into_response()
}

/// The reference's script
///
/// Scalar's standalone bundle (`@scalar/api-reference`, MIT), as vendored in `assets/`; its
/// version is in its name, so it is cached for a year.
#[utoipa::path(get, path = "/docs/scalar-api-reference-1.76.0.js", tag = "operations",
    responses((status = 200, description = "the script", body = String, content_type = "text/javascript")),
    extensions(("x-offernet-who" = json!("anyone"))))]
async fn get_docs_asset() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        ASSET_BYTES,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_and_the_route_name_the_asset() {
        assert!(super::PAGE.contains(&format!("src=\"docs/{}\"", super::ASSET)));
        let spec = crate::openapi::spec();
        assert!(spec["paths"][format!("/docs/{}", super::ASSET)].is_object());
    }
}
