//! Index types: positions of accounts, SKUs, trade policies and warehouses in their vectors,
//! each its own type so that passing one where another is expected does not compile. A vector
//! of the indexed items is indexed by its index type directly (`accounts[a]`, `skus[s]`);
//! other vectors kept per item use `ix()`.
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

use std::ops::{Index, IndexMut};

use super::{Account, Sku, TradePolicy, Warehouse};

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident($int:ty) of $item:ty) => {
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

        impl Index<$name> for Vec<$item> {
            type Output = $item;
            #[inline]
            fn index(&self, i: $name) -> &$item {
                &self[i.ix()]
            }
        }

        impl IndexMut<$name> for Vec<$item> {
            #[inline]
            fn index_mut(&mut self, i: $name) -> &mut $item {
                &mut self[i.ix()]
            }
        }
    };
}

index_type!(
    /// An account: its position in `Engine::accounts`.
    AccountIdx(u32) of Account
);
index_type!(
    /// A SKU of one account: its position in `Account::skus`.
    SkuIdx(u32) of Sku
);
index_type!(
    /// A trade policy of one account: its position in `Account::trade_policies`.
    TpIdx(u16) of TradePolicy
);
index_type!(
    /// A warehouse of one account: its position in `Account::warehouses`.
    WhIdx(u16) of Warehouse
);
