//! The network's connections for drawing it (the console's network graph, or any integrator's):
//! the operator lists every connection, an account the connections within a few levels of it,
//! up through its sellers and down through its marketplaces. Both are pages of connections,
//! each with both halves.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use offernet_core::{ConnectionView, MAX_NETWORK_DEPTH};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::query;
use super::respond::{json, St};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Operator, Reads};
use crate::state::AppState;

/// Levels up and down when `depth` is not given.
const DEFAULT_DEPTH: usize = 3;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(list_connections)).routes(routes!(get_network))
}

/// One page of connections, sorted by seller, then marketplace.
#[derive(Serialize, ToSchema)]
struct ConnectionPage {
    connections: Vec<ConnectionView>,
    /// Connections in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// How far a neighbourhood goes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct Depth {
    /// Levels up (sellers, their sellers, …) and down (marketplaces, theirs, …): 1 to 8; 3
    /// when not given.
    #[param(minimum = 1, maximum = 8)]
    depth: Option<u32>,
}

fn depth(q: &query::Query) -> ApiResult<usize> {
    let bad = || ApiError::invalid_field("depth", format!("`depth` is a whole number from 1 to {MAX_NETWORK_DEPTH}"));
    match q.get("depth") {
        None => Ok(DEFAULT_DEPTH),
        Some(v) => match v.parse::<usize>() {
            Ok(d) if (1..=MAX_NETWORK_DEPTH).contains(&d) => Ok(d),
            _ => Err(bad()),
        },
    }
}

/// Every connection of the network (operator only)
///
/// Each connection seller → marketplace once either half exists, with both halves (`null`
/// while missing), sorted by seller, then marketplace.
#[utoipa::path(get, path = "/v1/connections", tag = "connections", params(params::Paging),
    responses((status = 200, description = "one page", body = ConnectionPage)),
    extensions(("x-offernet-who" = json!("operator"))))]
async fn list_connections(st: St, _: Operator, Query(q): Query<query::Query>) -> ApiResult<Response> {
    let (connections, total, next_offset) = query::listed(&st, &q, |e, w| e.list_connections(w))?;
    Ok(json(StatusCode::OK, ConnectionPage { connections, total, next_offset }))
}

/// The account's neighbourhood: the connections within `depth` levels up and down
///
/// Walking up from the account through the sellers of each marketplace reached, and down
/// through the marketplaces of each seller reached, `depth` levels each way (never sideways:
/// a marketplace's other sellers' other marketplaces are not listed). Each connection with both
/// halves (`null` while missing), sorted by seller, then marketplace.
#[utoipa::path(get, path = "/v1/accounts/{a}/network", tag = "connections", params(params::A, Depth, params::Paging),
    responses((status = 200, description = "one page", body = ConnectionPage)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_network(st: St, Path(a): Path<String>, Query(q): Query<query::Query>, _: Reads) -> ApiResult<Response> {
    let d = depth(&q)?;
    let (connections, total, next_offset) = query::listed(&st, &q, |e, w| e.network(&a, d, w))?;
    Ok(json(StatusCode::OK, ConnectionPage { connections, total, next_offset }))
}
