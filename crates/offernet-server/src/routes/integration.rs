//! An account's integration (vtex-compat.md §3.1): the operator marks an account as the mirror
//! of an external VTEX seller or marketplace (`PUT`), reads it (the account too: `GET`) and
//! ends it (`DELETE`). An external seller's prices and its stock at warehouse `vtex` are then
//! written by its quotes only: `/v1` writes of them by the account answer 409
//! `managed_externally` ([`refuse_managed`]); the operator may still write them (the next quote
//! replaces what it wrote).

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use offernet_core::{Command, ImportLine, IntegrationBody, IntegrationView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::respond::{ok, write_no_content, write_then, St};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Operator, Reads, StrictJson};
use crate::outbound::guard;
use crate::state::AppState;
use offernet_vtex::outbound::status::StatusView;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(put_integration, get_integration, delete_integration))
        .routes(routes!(integration_status))
}

/// 409 `managed_externally` when `caller` is not the operator and `account` is an external
/// seller whose prices (`warehouse` `None`) or stock at `warehouse` its quotes write.
pub(super) fn refuse_managed(st: &AppState, caller: &Caller, account: &str, warehouse: Option<&str>) -> ApiResult<()> {
    if *caller == Caller::Operator || !st.writer.read(|e| e.managed_externally(account, warehouse)) {
        return Ok(());
    }
    let what = match warehouse {
        None => "its prices".to_string(),
        Some(w) => format!("warehouse `{w}` and its stock"),
    };
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "managed_externally",
        format!(
            "account `{account}` is an external seller: {what} change only through its quotes (the operator may \
             write them until the next quote)"
        ),
    ))
}

/// [`refuse_managed`] for each price, stock and warehouse line of an import.
pub(super) fn refuse_managed_lines(
    st: &AppState,
    caller: &Caller,
    account: &str,
    lines: &[ImportLine],
) -> ApiResult<()> {
    for line in lines {
        match line {
            ImportLine::Price { .. } => refuse_managed(st, caller, account, None)?,
            ImportLine::Stock { warehouse, .. } | ImportLine::Warehouse { id: warehouse, .. } => {
                refuse_managed(st, caller, account, Some(warehouse))?
            }
            _ => {}
        }
    }
    Ok(())
}

/// The server's outbound policy for each URL of the body (`https://`, unless
/// `--outbound-allow-local`; no refused address): 400 naming the field.
fn check_urls(st: &AppState, body: &IntegrationBody) -> ApiResult<()> {
    let urls = [
        ("fulfillment_endpoint", &body.fulfillment_endpoint),
        ("api_base", &body.api_base),
        ("suggestions_base", &body.suggestions_base),
    ];
    for (field, url) in urls {
        let Some(url) = url else { continue };
        offernet_core::integration::base_url(field, url).map_err(ApiError::from)?;
        let parsed = reqwest::Url::parse(url).map_err(|e| ApiError::invalid_field(field, format!("not a URL: {e}")))?;
        guard::check_url(&parsed, st.config.outbound_allow_local).map_err(|why| ApiError::invalid_field(field, why))?;
    }
    Ok(())
}

/// Mark an account as an external seller or marketplace
///
/// Operator only. `{"protocol": "vtex", "role": "seller", "fulfillment_endpoint", "sales_channel"?,
/// "affiliate_id"?, "quote_ttl_minutes"?, "refresh_minutes"?, "follow_up_email"?}` or
/// `{"protocol": "vtex", "role": "marketplace", "api_base", "suggestions_base",
/// "default_dimensions"?}`; `PUT` replaces the whole integration. Role `seller` makes warehouse
/// `vtex` (serving trade policy `1`), whose stock and the account's prices then come from the
/// seller's quotes: the account's own writes of them answer 409 `managed_externally`. The
/// account's currency must have two decimal places (VTEX's integers are cents): 400
/// `invalid_field` `currency` otherwise.
#[utoipa::path(put, path = "/v1/accounts/{a}/integration", tag = "integrations", params(params::A),
    request_body = IntegrationBody,
    responses((status = 200, description = "the integration", body = IntegrationView)),
    extensions(("x-offernet-who" = json!("operator"))))]
async fn put_integration(
    st: St,
    Path(a): Path<String>,
    _: Operator,
    StrictJson(body): StrictJson<IntegrationBody>,
) -> ApiResult<Response> {
    check_urls(&st, &body)?;
    write_then(&st, Command::PutIntegration { account: a.clone(), body: Box::new(body) }, |e| e.integration(&a)).await
}

/// An account's integration
///
/// The body of its `PUT` with every default filled in (and, for role `seller`, its warehouse
/// `vtex`). No secret is ever part of it. 404 when the account has none.
#[utoipa::path(get, path = "/v1/accounts/{a}/integration", tag = "integrations", params(params::A),
    responses((status = 200, description = "the integration", body = IntegrationView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_integration(st: St, Path(a): Path<String>, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.integration(&a))?))
}

/// How the calls to an external party go
///
/// The account's circuit breaker, calls in flight, last quote fetch (an external seller),
/// calls waiting by kind and the last 20 failed calls (vtex-compat.md §3.1). `running` is false
/// when the server runs without `--vtex` (nothing is called then). 404 when the account has no
/// integration.
#[utoipa::path(get, path = "/v1/accounts/{a}/integration/status", tag = "integrations", params(params::A),
    responses((status = 200, description = "the status", body = StatusView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn integration_status(st: St, Path(a): Path<String>, _: Reads) -> ApiResult<Response> {
    st.writer.read(|e| e.integration(&a))?;
    Ok(ok(match &st.vtex {
        Some(v) => v.outbound.status(&a),
        None => offernet_vtex::outbound::status::AccountStatus::default().view(0, false),
    }))
}

/// End an account's integration
///
/// Operator only. The account is an ordinary account again: its quotes are forgotten (no
/// offer of it is `quote_stale` any more); warehouse `vtex`, its stock and the prices stay.
#[utoipa::path(delete, path = "/v1/accounts/{a}/integration", tag = "integrations", params(params::A),
    responses((status = 204, description = "ended")),
    extensions(("x-offernet-who" = json!("operator"))))]
async fn delete_integration(st: St, Path(a): Path<String>, _: Operator) -> ApiResult<Response> {
    // Its pairs first: should the command then be refused (there is no integration), there was
    // nothing to keep; the other order could leave a pair behind an ended integration.
    super::credentials::forget(&st, &a).await?;
    write_no_content(&st, Command::DeleteIntegration { account: a }).await
}
