//! The shipping profile's command and read on the engine.

use std::sync::Arc;

use super::{parse, ShippingBody, ShippingProfile};
use crate::error::Result;
use crate::state::Engine;

impl Engine {
    pub(crate) fn put_shipping_profile(&mut self, account: &str, body: &ShippingBody) -> Result<()> {
        let profile = parse(body)?;
        let a = self.account_idx(account)?;
        self.accounts[a].shipping = Some(Arc::new(profile));
        Ok(())
    }

    /// The account's shipping profile; empty when it has none.
    pub fn shipping_profile(&self, account: &str) -> Result<ShippingProfile> {
        let a = self.account_idx(account)?;
        Ok(self.accounts[a].shipping.as_deref().cloned().unwrap_or_default())
    }
}
