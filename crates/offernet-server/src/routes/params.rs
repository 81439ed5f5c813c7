//! Parameters: the path parameters and the query parameters of every route, documented once
//! here (`IntoParams`, for the OpenAPI document), and the parsing of the query parameters, each
//! refused naming itself (400 `invalid_field`).
//!
//! The structs only describe; handlers take the query as a map and parse it with the functions
//! below, so an unknown parameter is ignored and a repeated one takes its last value, as
//! before the document was generated.
#![allow(dead_code)]

use std::collections::HashMap;

use offernet_core::SuggestionStatus;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) type Query = HashMap<String, String>;

// ---------------------------------------------------------------- path

/// The account the route acts for (its token or the operator's).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct A {
    /// An account id.
    #[param(pattern = "^[a-z0-9-]{1,50}$")]
    a: String,
}

/// The seller the route acts for.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct S {
    /// A seller's account id.
    #[param(pattern = "^[a-z0-9-]{1,50}$")]
    s: String,
}

/// The marketplace the route acts for.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct M {
    /// A marketplace's account id.
    #[param(pattern = "^[a-z0-9-]{1,50}$")]
    m: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct Sku {
    /// A SKU id of the account before it in the path.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    sku: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct Tp {
    /// A trade policy id.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    tp: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct W {
    /// A warehouse id.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    w: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct SellerSku {
    /// The seller's SKU id.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    seller_sku: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct OrderId {
    /// The order's id for this account: the marketplace's order id, a seller order's
    /// `{marketplace}.{order}`, or a chain order's `{marketplace}.{order}.{seller}…`.
    id: String,
}

// ---------------------------------------------------------------- query

/// Paging of a list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Paging {
    /// Items per page: 1 to `max_page_size` (1,000 by default); 100 when not given.
    #[param(minimum = 1)]
    limit: Option<u32>,
    /// Items to skip (the previous page's `next_offset`).
    #[param(minimum = 0)]
    offset: Option<u64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct StatusFilter {
    /// Only suggestions in this status.
    status: Option<SuggestionStatus>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct OfferFilters {
    /// Only this seller's offers.
    #[param(pattern = "^[a-z0-9-]{1,50}$")]
    seller: Option<String>,
    /// Only sellable (`true`) or only unsellable (`false`) offers.
    sellable: Option<bool>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct MarketplaceFilter {
    /// Only as this marketplace sees them.
    #[param(pattern = "^[a-z0-9-]{1,50}$")]
    marketplace: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct TradePolicyParam {
    /// The trade policy whose fixed price is removed.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    trade_policy: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EventsQuery {
    /// Events with a sequence number above this (default: the `Last-Event-ID` header of a
    /// reconnecting stream, else 0).
    #[param(minimum = 0)]
    after: Option<u64>,
    /// Events per page (JSON only): 1 to `max_page_size`; 100 when not given.
    #[param(minimum = 1)]
    limit: Option<u32>,
}

// ---------------------------------------------------------------- parsing

pub(super) fn status(q: &Query) -> ApiResult<Option<SuggestionStatus>> {
    Ok(match q.get("status").map(String::as_str) {
        None => None,
        Some("pending") => Some(SuggestionStatus::Pending),
        Some("approved") => Some(SuggestionStatus::Approved),
        Some("denied") => Some(SuggestionStatus::Denied),
        Some(_) => return Err(ApiError::invalid_field("status", "status is pending, approved or denied")),
    })
}

pub(super) fn sellable(q: &Query) -> ApiResult<Option<bool>> {
    match q.get("sellable").map(String::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid_field("sellable", "`sellable` is true or false")),
    }
}

/// `limit` (1..=max, default 100) and `offset` query parameters.
pub(super) fn page(st: &AppState, q: &Query) -> ApiResult<(usize, usize)> {
    let num = |k: &str, d: usize| -> ApiResult<usize> {
        match q.get(k) {
            None => Ok(d),
            Some(v) => v.parse().map_err(|_| ApiError::invalid_field(k, format!("`{k}` is a non-negative integer"))),
        }
    };
    let limit = num("limit", crate::config::DEFAULT_PAGE_SIZE.min(st.config.max_page_size))?;
    if limit == 0 || limit > st.config.max_page_size {
        return Err(ApiError::invalid_field("limit", format!("`limit` is between 1 and {}", st.config.max_page_size)));
    }
    Ok((limit, num("offset", 0)?))
}

/// One page of `items`: the items, how many there are in all, and the offset of the next page.
pub(super) fn slice<T>(items: Vec<T>, (limit, offset): (usize, usize)) -> (Vec<T>, usize, Option<usize>) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let next = (offset + page.len() < total).then_some(offset + page.len());
    (page, total, next)
}
