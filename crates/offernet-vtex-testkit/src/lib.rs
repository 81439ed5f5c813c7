//! Test kit for offernet's VTEX surface (issue 14; design `../shared/design/vtex-compat.md` §5).
//! A library used only as a dev-dependency.
//!
//! - [`Schemas`]: VTEX's four OpenAPI files (`../shared/vtex-openapi/`) as JSON Schema
//!   validators, with the [`Overlay`] of their known defects (`overlay.json`) or without it:
//!   `schemas.validate(File::Esf, "orderPlacement", &value)` or, by operation,
//!   `schemas.validate_operation(File::Esf, "post", "/pvt/orders", Part::Response(200), &value)`.

mod error;
mod overlay;
mod rewrite;
mod schema;

pub use error::{Error, Result};
pub use overlay::{Overlay, Patch, OVERLAY_JSON};
pub use schema::{openapi_dir, Example, File, Part, Schemas, OPENAPI_DIR_ENV};
