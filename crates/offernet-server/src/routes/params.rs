//! The path and query parameters of every route, documented once here (`IntoParams`, for the
//! OpenAPI document). These structs only describe: handlers take the path as a tuple and the
//! query as a map parsed by `query.rs`, so their fields are never read.
#![allow(dead_code)]

use offernet_core::SuggestionStatus;
use utoipa::IntoParams;

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

// ---------------------------------------------------------------- headers

#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub(super) struct IfNoneMatch {
    /// `ETag`s of answers the client holds (comma-separated, or `*`): 304 without a body if
    /// the answer still has one of them.
    #[param(rename = "If-None-Match")]
    if_none_match: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub(super) struct IfModifiedSince {
    /// The `Last-Modified` of the copy the client holds (an HTTP date): 304 without a body if
    /// nothing changed since. `If-None-Match` decides instead when both are sent.
    #[param(rename = "If-Modified-Since")]
    if_modified_since: Option<String>,
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
    /// The trade policy whose fixed price is removed (required: without it, 400, rule 23).
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    trade_policy: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EventsQuery {
    /// Events with a sequence number above this: a whole number, or `now` for the head (the
    /// newest event that exists; a JSON page is then empty, a stream gives only new events).
    /// Default: the `Last-Event-ID` header of a reconnecting stream, else 0 for a JSON page and
    /// `now` for a stream.
    #[param(value_type = Option<String>, pattern = r"^(now|[0-9]{1,19})$", example = "now")]
    after: Option<String>,
    /// Events per page (JSON only): 1 to `max_page_size`; 100 when not given.
    #[param(minimum = 1)]
    limit: Option<u32>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SkuFilters {
    /// Only active (`true`) or only inactive (`false`) SKUs.
    active: Option<bool>,
    /// Only SKUs whose name, brand or EAN contains this text, ignoring case (at most 200 characters).
    // max_length is offernet_core::MAX_SEARCH_CHARS.
    #[param(max_length = 200)]
    q: Option<String>,
}

/// The account whose orders are listed: as a marketplace (its orders) or as a seller (its
/// seller orders and chain orders).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct OrdersOf {
    /// An account id (named `m` like the route's POST, but any account).
    #[param(pattern = "^[a-z0-9-]{1,50}$")]
    m: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct OrderFilters {
    /// Only the orders of one side: `marketplace` (the account's own orders) or `seller` (its
    /// seller orders and chain orders); both when not given.
    #[param(inline)]
    role: Option<offernet_core::OrderRole>,
    /// Only orders in this status (a seller order's or chain order's own status).
    status: Option<offernet_core::OrderStatus>,
    /// Only orders created after this time (ms since the epoch, exclusive).
    #[param(minimum = 0)]
    created_after: Option<u64>,
    /// Only orders created before this time (ms since the epoch, exclusive).
    #[param(minimum = 0)]
    created_before: Option<u64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct FeedSince {
    /// Only the SKUs whose offers changed after this event sequence number (the
    /// `Offernet-Next-Since` of the previous read). Without it, the whole feed.
    #[param(minimum = 0)]
    since: Option<u64>,
}
