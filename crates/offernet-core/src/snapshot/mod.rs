//! Snapshots: the engine's ground state as compact, deterministic bytes, and back.
//!
//! Only ground state is written (accounts, catalogs, stock, prices, trade policies,
//! warehouses, connection halves, suggestions and bindings in their creation order, sequence
//! counters). Derived state (offers, indexes, the pending set) is rebuilt on load, so a
//! snapshot cannot carry a stale offer. The same state always encodes to the same bytes, which
//! is what `journal verify` compares. No IO here: the store decides where bytes go.
//!
//! `write.rs` encodes and `read.rs` decodes, part by part in the same order and with the same
//! function names (`account`, `sku`, `sub_order`, …), so each part's mirror is easy to find; the
//! one-byte codes of enums are defined here, each code table beside its inverse; `codec.rs`
//! holds the byte primitives. A decoder refuses any code it does not know.

use crate::model::*;
use crate::orders::OrderStatus;

mod codec;
mod compare;
mod conflicts;
mod emails;
mod external;
mod integrations;
mod load;
mod outbound;
mod prefault;
mod read;
mod vtex;
mod webhooks;
mod write;

/// The format `snapshot_bytes` writes; bumped whenever the encoding changes. A new format keeps
/// a decoder for the previous one (`FORMATS_READ`), because `journal compact` may have deleted
/// the entries an old snapshot covers, so replaying instead is not always possible; a snapshot
/// of a format not read is skipped and the journal replayed. 2: an account's named tokens (id,
/// name, hash, created_ms) instead of one optional token hash; SKU content and trade policies'
/// `product_url`. 1 is still read (`read.rs`): its token hash becomes token `initial`, as
/// replaying `CreateAccount` makes it; no content, no product URLs. 3: webhook subscriptions,
/// a section after the orders (`webhooks.rs`); 2 is still read (no subscriptions). 4: two
/// sections after the webhooks: accounts' integrations and external sellers' quotes
/// (`integrations.rs`), then the VTEX section (`vtex.rs`: shipping profiles, affiliations'
/// `remote_seller_id`, orders' dates, external reference and document hash); 3 is still read
/// (none of them). 5: two sections after the VTEX one: sub orders at external sellers and where
/// their orders there stand (`external.rs`), then the outbound section (`outbound.rs`: invoices
/// and the calls owed to external marketplaces); 4 is still read (none of them). 6: a section
/// after the outbound one: conflicts recorded with external sellers (`conflicts.rs`), then
/// affiliations' `follow_up_email` (`emails.rs`); 5 is still read (none of them). 7: a SKU's
/// text (name, brand, category, GTIN, ref_id, content) is written once per chain of copies: a
/// SKU made from another whose text is still its source's is written as `TEXT_OF_SOURCE`
/// (the load shares the source's); the product id now comes before the text; brands and
/// categories are written once, in a table before the accounts, and SKUs name them by position;
/// 6 is still read (every SKU with its own text, shared again by value on load). 8: each
/// account comes after its length in bytes (a `u64`), so that a load finds every account first
/// and decodes them on several threads (`read.rs`, `decode_framed`); 7 is still read (one
/// thread).
pub const SNAPSHOT_FORMAT: u32 = 8;
/// The formats `from_snapshot_bytes` reads: the current one and its predecessors.
pub const FORMATS_READ: [u32; 8] = [1, 2, 3, 4, 5, 6, 7, SNAPSHOT_FORMAT];
/// A format-1 snapshot kept the initial token's hash but not when it was made (replaying
/// `CreateAccount` gives that command's time): loaded, the token shows this time, "unknown".
pub const FORMAT_1_TOKEN_CREATED_MS: u64 = 0;
const MAGIC: &[u8; 8] = b"OFFRNET\x01";

fn order_status_code(s: OrderStatus) -> u8 {
    match s {
        OrderStatus::Reserved => 0,
        OrderStatus::Authorized => 1,
        OrderStatus::Invoiced => 2,
        OrderStatus::Cancelled => 3,
        OrderStatus::Expired => 4,
    }
}

fn order_status_of(c: u8) -> Option<OrderStatus> {
    Some(match c {
        0 => OrderStatus::Reserved,
        1 => OrderStatus::Authorized,
        2 => OrderStatus::Invoiced,
        3 => OrderStatus::Cancelled,
        4 => OrderStatus::Expired,
        _ => return None,
    })
}

fn suggestion_status_code(s: SuggestionStatus) -> u8 {
    match s {
        SuggestionStatus::Pending => 0,
        SuggestionStatus::Approved => 1,
        SuggestionStatus::Denied => 2,
    }
}

fn suggestion_status_of(c: u8) -> Option<SuggestionStatus> {
    Some(match c {
        0 => SuggestionStatus::Pending,
        1 => SuggestionStatus::Approved,
        2 => SuggestionStatus::Denied,
        _ => return None,
    })
}

fn match_mode_code(m: MatchMode) -> u8 {
    match m {
        MatchMode::Auto => 0,
        MatchMode::Score => 1,
        MatchMode::Manual => 2,
    }
}

fn match_mode_of(c: u8) -> Option<MatchMode> {
    Some(match c {
        0 => MatchMode::Auto,
        1 => MatchMode::Score,
        2 => MatchMode::Manual,
        _ => return None,
    })
}

/// Codes of an assortment: `all`, or a list of ids that follows.
const ASSORTMENT_ALL: u8 = 0;
const ASSORTMENT_LIST: u8 = 1;
/// The SKU at `at` (a SKU's `created_from`), if it exists: snapshots name it by position.
fn sku_at(accounts: &[Account], at: Option<(AccountIdx, SkuIdx)>) -> Option<&Sku> {
    let (a, k) = at?;
    accounts.get(a.ix())?.skus.get(k.ix())
}

/// Codes of a SKU's text (format 7 on): its own follows, or it is the text of the SKU it was
/// made from (`created_from`), which is equal to it, as the load makes it again.
const TEXT_OWN: u8 = 0;
const TEXT_OF_SOURCE: u8 = 1;
/// Codes of a resale authorisation: `none`, `all`, or a list of account ids that follows.
const RESALE_NONE: u8 = 0;
const RESALE_ALL: u8 = 1;
const RESALE_LIST: u8 = 2;

#[cfg(test)]
mod tests;
