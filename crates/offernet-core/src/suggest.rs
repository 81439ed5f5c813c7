//! The suggestion commands (`ApproveSuggestion`, `DenySuggestion`; domain rules 10, 32, 35): a
//! marketplace binds a seller's SKU to one of its own (or one made from it) or denies it. The
//! matching, binding and unbinding they use live in `settle.rs`.

use std::sync::Arc;

use crate::error::{DomainError, Missing, Result};
use crate::model::*;
use crate::settle::NewSkuId;
use crate::state::{Engine, Work};
use crate::validate as v;

impl Engine {
    pub(crate) fn approve_command(
        &mut self,
        marketplace: &str,
        seller: &str,
        seller_sku: &str,
        sku: Option<&str>,
        work: &mut Work,
    ) -> Result<()> {
        if let Some(id) = sku {
            v::item_id("sku", id)?;
        }
        let m = self.account_idx(marketplace)?;
        let s = self.account_idx(seller)?;
        let ss = self.sku_of(s, seller_sku)?;
        let sugg = self.accounts[m].suggestions.get(&(s, ss)).ok_or_else(|| {
            DomainError::not_found(
                Missing::Suggestion,
                seller_sku,
                format!("the suggestion of `{seller}`/`{seller_sku}`"),
            )
        })?;
        let (status, bound) = (sugg.status(), sugg.sku());
        let target = match sku {
            Some(id) => self.accounts[m].sku_idx(id).ok_or_else(|| id.to_string()),
            None => {
                if status == SuggestionStatus::Approved {
                    return Ok(()); // rule 32: approving an approved one without `sku` changes nothing
                }
                match self.free_candidates(m, s, ss).first() {
                    Some(&c) => Ok(c),
                    None => match self.new_sku_id(m, s, ss) {
                        NewSkuId::Reuse(i) => Ok(i),
                        NewSkuId::Create(id) => Err(id),
                        NewSkuId::Unavailable => {
                            return Err(DomainError::conflict(
                                "no free SKU id for this suggestion: approve it with an explicit `sku`",
                            ))
                        }
                    },
                }
            }
        };
        if let Ok(t) = &target {
            if status == SuggestionStatus::Approved && bound == Some(*t) {
                return Ok(()); // approving again onto the same SKU is a no-op
            }
        }
        if status == SuggestionStatus::Approved {
            return Err(DomainError::conflict("the suggestion is already approved onto another SKU"));
        }
        if let Ok(t) = &target {
            if self.bound_to_other(m, *t, s, ss) {
                return Err(DomainError::conflict(format!(
                    "SKU `{}` is already bound to another SKU of `{seller}`",
                    self.accounts[m].skus[*t].id
                )));
            }
        }
        let t = match target {
            Ok(t) => t,
            Err(new_id) => {
                let id: Arc<str> = Arc::from(new_id);
                self.create_sku_from(m, s, ss, id, work)
            }
        };
        self.bind(m, s, ss, t, work);
        Ok(())
    }

    pub(crate) fn deny_command(
        &mut self,
        marketplace: &str,
        seller: &str,
        seller_sku: &str,
        work: &mut Work,
    ) -> Result<()> {
        let m = self.account_idx(marketplace)?;
        let s = self.account_idx(seller)?;
        let ss = self.sku_of(s, seller_sku)?;
        let status = self.accounts[m]
            .suggestions
            .get(&(s, ss))
            .ok_or_else(|| {
                DomainError::not_found(
                    Missing::Suggestion,
                    seller_sku,
                    format!("the suggestion of `{seller}`/`{seller_sku}`"),
                )
            })?
            .status();
        match status {
            SuggestionStatus::Denied => {}
            SuggestionStatus::Pending => self.set_denied(m, s, ss, work),
            SuggestionStatus::Approved => {
                self.unbind(m, s, ss, work);
                self.set_denied(m, s, ss, work);
            }
        }
        Ok(())
    }
}
