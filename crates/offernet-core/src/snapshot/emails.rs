//! The follow-up e-mails section of a snapshot (format 6 on), after the conflicts section: each
//! affiliation's `follow_up_email` (B2's `followUpEmail`), sparse (only affiliations that have
//! one), as format 4's VTEX section keeps `remote_seller_id`. Written and read here, side by
//! side.

use std::sync::Arc;

use super::codec::{DResult, R, W};
use crate::model::AccountIdx;
use crate::state::Engine;

impl Engine {
    pub(super) fn encode_emails(&self, w: &mut W) {
        let emails: Vec<(usize, AccountIdx, &Arc<str>)> = self
            .accounts
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                a.affiliations.iter().filter_map(move |(&m, x)| Some((i, m, x.follow_up_email.as_ref()?)))
            })
            .collect();
        w.u32(emails.len() as u32);
        for (s, m, email) in emails {
            w.account(AccountIdx::new(s));
            w.account(m);
            w.str(email);
        }
    }

    pub(super) fn decode_emails(&mut self, r: &mut R) -> DResult<()> {
        for _ in 0..r.u32()? {
            let (s, m, email) = (r.account()?, r.account()?, r.str()?);
            let seller = self.accounts.get_mut(s.ix()).ok_or("snapshot names an account that does not exist")?;
            let aff = seller.affiliations.get_mut(&m).ok_or("snapshot names an affiliation that does not exist")?;
            aff.follow_up_email = Some(email);
        }
        Ok(())
    }
}
