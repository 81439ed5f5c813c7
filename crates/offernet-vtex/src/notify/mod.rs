//! Role (b) outbound: what offernet tells an external VTEX marketplace V for its sellers S
//! (vtex-compat.md §1.1 B5-B9, §2.2): the catalog (B5 then B6 on `suggestion.created`), price
//! and stock changes (B7 on `offer.changed`, coalesced), and the calls owed per seller order
//! (B8 invoice, B9 seller cancel, level-triggered from `Engine::pending_outbound`).
//!
//! - `suggestion.rs`, `orders.rs`: pure mappings from committed state to VTEX bodies and URLs.

pub mod orders;
pub mod suggestion;
