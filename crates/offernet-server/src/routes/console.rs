//! The web console: `GET /console` is a static page that loads the console's ES modules from
//! `GET /console/<file>`, all embedded in the binary (`console/`, the vendored Preact and htm in
//! `console/vendor/`, whose README records their versions and integrity hashes). The console
//! is a client of the public `/v1` API only, with the token the user signs in with (kept in the
//! tab's `sessionStorage`, sent in the `Authorization` header, never in a URL).
//!
//! Nothing is fetched from anywhere but this server: the Content-Security-Policy allows this
//! origin only, and of inline code only the import map, by its hash.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// The page. Its one inline script is the import map, allowed by its hash (`CSP`).
static PAGE: &str = include_str!("../../console/index.html");

/// The import map in `PAGE`, exactly (the test below checks it is there and that `CSP` names
/// its hash).
#[cfg(test)]
const IMPORT_MAP: &str = r#"{"imports":{"preact":"./console/preact-11.2.0.mjs","preact/hooks":"./console/preact-hooks-11.2.0.mjs","htm":"./console/htm-3.1.1.mjs"}}"#;

/// This origin only; no inline script but the import map (by hash), no inline style, no frames.
const CSP: &str =
    "default-src 'none'; script-src 'self' 'sha256-XT61pIdCtYH2b1MrIzrcrKSSrCcX1bKnF+IwdbO0Bug='; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A file the console loads: name, content type, bytes, and whether it is vendored (its
/// version in its name: cached for good).
type Asset = (&'static str, &'static str, &'static [u8], bool);

const JS: &str = "text/javascript; charset=utf-8";

macro_rules! own {
    ($name:literal) => {
        ($name, JS, include_bytes!(concat!("../../console/", $name)), false)
    };
}

/// Every file under `/console/`.
static ASSETS: &[Asset] = &[
    own!("app.js"),
    own!("api.js"),
    own!("ui.js"),
    own!("network.js"),
    own!("offers.js"),
    own!("suggestions.js"),
    own!("catalog.js"),
    own!("orders.js"),
    ("console.css", "text/css; charset=utf-8", include_bytes!("../../console/console.css"), false),
    ("preact-11.2.0.mjs", JS, include_bytes!("../../console/vendor/preact-11.2.0.mjs"), true),
    ("preact-hooks-11.2.0.mjs", JS, include_bytes!("../../console/vendor/preact-hooks-11.2.0.mjs"), true),
    ("htm-3.1.1.mjs", JS, include_bytes!("../../console/vendor/htm-3.1.1.mjs"), true),
];

/// The names of the files served under `/console/` (for the tests).
pub fn asset_names() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|a| a.0)
}

pub(super) fn router() -> OpenApiRouter<std::sync::Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(get_console)).routes(routes!(get_console_asset))
}

/// The web console
///
/// An HTML page (ES modules served from `/console/<file>`, nothing from elsewhere) that signs in
/// with an account or operator token and works through this API: the network, offers and
/// their explanations, suggestions, catalog, stock, prices and orders, live from the event
/// stream.
#[utoipa::path(get, path = "/console", tag = "operations",
    responses((status = 200, description = "the console page", body = String, content_type = "text/html")),
    extensions(("x-offernet-who" = json!("anyone"))))]
async fn get_console() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        PAGE,
    )
        .into_response()
}

/// A file of the console
///
/// The console's own modules and stylesheet (`no-cache`: they change with the server), and
/// the vendored Preact and htm (their version in the name, cached for a year). 404 for any
/// other name.
#[utoipa::path(get, path = "/console/{file}", tag = "operations",
    params(("file" = String, Path, description = "a file name, like `app.js`", pattern = "^[a-z0-9.-]{1,64}$")),
    responses((status = 200, description = "the file: a module or the stylesheet",
            content((String = "text/javascript"), (String = "text/css"))),
        (status = 404, description = "no such file (not_found)", body = crate::error::ErrorBody)),
    extensions(("x-offernet-who" = json!("anyone"))))]
async fn get_console_asset(Path(file): Path<String>) -> Response {
    let Some(&(_, content_type, bytes, vendored)) = ASSETS.iter().find(|a| a.0 == file) else {
        let mut e = ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such console file");
        e.field = Some("file".into());
        return e.into_response();
    };
    let cache = if vendored { "public, max-age=31536000, immutable" } else { "no-cache" };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// Standard base64 with padding (the CSP hash source's encoding).
    fn base64(bytes: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in bytes.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                out.push(if i <= c.len() { A[(n >> (18 - 6 * i)) as usize & 63] as char } else { '=' });
            }
        }
        out
    }

    #[test]
    fn the_csp_allows_exactly_the_page_s_import_map() {
        let tag = format!("<script type=\"importmap\">{}</script>", super::IMPORT_MAP);
        assert!(super::PAGE.contains(&tag), "the page holds the import map as IMPORT_MAP says");
        assert_eq!(super::PAGE.matches("<script").count(), 2, "the import map and the app module, nothing else");
        let hash = base64(&Sha256::digest(super::IMPORT_MAP.as_bytes()));
        assert!(super::CSP.contains(&format!("'sha256-{hash}'")), "CSP names sha256-{hash}");
        assert_eq!(base64(b"Ma"), "TWE=");
    }

    #[test]
    fn every_module_the_page_and_the_map_name_is_served() {
        let names: Vec<&str> = super::asset_names().collect();
        for n in ["app.js", "console.css", "preact-11.2.0.mjs", "preact-hooks-11.2.0.mjs", "htm-3.1.1.mjs"] {
            assert!(names.contains(&n), "{n}");
            assert!(
                super::PAGE.contains(&format!("console/{n}")) || super::IMPORT_MAP.contains(&format!("console/{n}"))
            );
        }
    }
}
