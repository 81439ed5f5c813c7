//! Index types: positions of accounts, SKUs, trade policies and warehouses in their vectors,
//! each its own type so that passing one where another is expected does not compile. A vector
//! of the indexed items is indexed by its index type directly (`accounts[a]`, `skus[s]`, by
//! `indexes!` in `model/mod.rs`); other vectors kept per item use `ix()`.
//!
//! ```
//! use offernet_core::model::{Account, AccountIdx, SkuIdx};
//! fn offer(_seller: AccountIdx, _sku: SkuIdx) {}
//! offer(AccountIdx(0), SkuIdx(0));
//! fn first(accounts: &Vec<Account>) -> &Account {
//!     &accounts[AccountIdx(0)]
//! }
//! ```
//!
//! Swapped arguments do not compile:
//!
//! ```compile_fail
//! use offernet_core::model::{AccountIdx, SkuIdx};
//! fn offer(_seller: AccountIdx, _sku: SkuIdx) {}
//! offer(SkuIdx(0), AccountIdx(0));
//! ```
//!
//! ```compile_fail
//! use offernet_core::model::{Account, SkuIdx};
//! fn first(accounts: &Vec<Account>) -> &Account {
//!     &accounts[SkuIdx(0)]
//! }
//! ```

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident($int:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $int);

        impl $name {
            /// The index of position `i` (creation order).
            #[inline]
            pub fn new(i: usize) -> Self {
                debug_assert!(i <= <$int>::MAX as usize, "{} {i} out of range", stringify!($name));
                $name(i as $int)
            }
            /// The position in its vector.
            #[inline]
            pub fn ix(self) -> usize {
                self.0 as usize
            }
        }
    };
}

index_type!(
    /// An account: its position in `Engine::accounts`.
    AccountIdx(u32)
);
index_type!(
    /// A SKU of one account: its position in `Account::skus`.
    SkuIdx(u32)
);
index_type!(
    /// A trade policy of one account: its position in `Account::trade_policies`.
    TpIdx(u16)
);
index_type!(
    /// A warehouse of one account: its position in `Account::warehouses`.
    WhIdx(u16)
);

/// `Vec<Item>` indexed by its index type: `indexes!(AccountIdx => Account, …)`.
macro_rules! indexes {
    ($($name:ident => $item:ty),*) => {$(
        impl std::ops::Index<$name> for Vec<$item> {
            type Output = $item;
            #[inline]
            fn index(&self, i: $name) -> &$item {
                &self[i.ix()]
            }
        }

        impl std::ops::IndexMut<$name> for Vec<$item> {
            #[inline]
            fn index_mut(&mut self, i: $name) -> &mut $item {
                &mut self[i.ix()]
            }
        }
    )*};
}
pub(super) use indexes;
