//! The query parameters, parsed from the query as a map (an unknown parameter is ignored, a
//! repeated one takes its last value), each refused naming itself (400 `invalid_field`). They
//! are documented in `params.rs`.

use std::collections::HashMap;

use offernet_core::{Engine, Page, SuggestionStatus, Window};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) type Query = HashMap<String, String>;

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
    flag(q, "sellable")
}

/// An optional `true`/`false` query parameter.
fn flag(q: &Query, k: &str) -> ApiResult<Option<bool>> {
    match q.get(k).map(String::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid_field(k, format!("`{k}` is true or false"))),
    }
}

/// `limit` (1..=max, default 100) and `offset` query parameters.
pub(super) fn page(st: &AppState, q: &Query) -> ApiResult<Window> {
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
    Ok(Window { limit, offset: num("offset", 0)? })
}

/// One page of `items`: the items, how many there are in all, and the offset of the next page.
pub(super) fn slice<T>(items: Vec<T>, w: Window) -> (Vec<T>, usize, Option<usize>) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(w.offset).take(w.limit).collect();
    let next = next_offset(total, w, page.len());
    (page, total, next)
}

/// One page of an engine list (`read` at the query's window): its items, how many there are in
/// all, and the offset of the next page.
pub(super) fn listed<T, E>(
    st: &AppState,
    q: &Query,
    read: impl FnOnce(&Engine, Window) -> Result<Page<T>, E>,
) -> ApiResult<(Vec<T>, usize, Option<usize>)>
where
    ApiError: From<E>,
{
    let w = page(st, q)?;
    let p = st.writer.read(|e| read(e, w))?;
    let next = next_offset(p.total, w, p.items.len());
    Ok((p.items, p.total, next))
}

/// The `next_offset` of a page of `len` items from `w.offset` out of `total`.
pub(super) fn next_offset(total: usize, w: Window, len: usize) -> Option<usize> {
    (w.offset.saturating_add(len) < total).then_some(w.offset + len)
}

pub(super) fn active(q: &Query) -> ApiResult<Option<bool>> {
    flag(q, "active")
}

pub(super) fn role(q: &Query) -> ApiResult<Option<offernet_core::OrderRole>> {
    use offernet_core::OrderRole;
    Ok(match q.get("role").map(String::as_str) {
        None => None,
        Some("marketplace") => Some(OrderRole::Marketplace),
        Some("seller") => Some(OrderRole::Seller),
        Some(_) => return Err(ApiError::invalid_field("role", "`role` is marketplace or seller")),
    })
}

pub(super) fn order_status(q: &Query) -> ApiResult<Option<offernet_core::OrderStatus>> {
    use offernet_core::OrderStatus::*;
    Ok(match q.get("status").map(String::as_str) {
        None => None,
        Some("reserved") => Some(Reserved),
        Some("authorized") => Some(Authorized),
        Some("invoiced") => Some(Invoiced),
        Some("cancelled") => Some(Cancelled),
        Some("expired") => Some(Expired),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "status",
                "status is reserved, authorized, invoiced, cancelled or expired",
            ))
        }
    })
}

/// A time in milliseconds since the epoch (`created_after`, `created_before`).
pub(super) fn ms(q: &Query, k: &str) -> ApiResult<Option<u64>> {
    q.get(k)
        .map(|v| v.parse().map_err(|_| ApiError::invalid_field(k, format!("`{k}` is a non-negative integer (ms)"))))
        .transpose()
}
