//! The external orders section of a snapshot (format 5 on), after the VTEX section: each sub
//! order at an external seller with where its order there stands (vtex-compat.md §3.4),
//! sparse (only sub orders that have it). Written and read here, side by side; the index of
//! live ones is rebuilt from it.

use super::codec::{DResult, R, W};
use crate::orders::{Effect, ExternalState, Placement};
use crate::state::Engine;

const PLACEMENT_PENDING: u8 = 0;
const PLACEMENT_PLACED: u8 = 1;
const PLACEMENT_REFUSED: u8 = 2;

fn effect_code(e: Effect) -> u8 {
    match e {
        Effect::None => 0,
        Effect::Pending => 1,
        Effect::Done => 2,
    }
}

fn effect_of(c: u8) -> Option<Effect> {
    Some(match c {
        0 => Effect::None,
        1 => Effect::Pending,
        2 => Effect::Done,
        _ => return None,
    })
}

impl Engine {
    /// The section; without `external`, as if no sub order were external (what a snapshot of
    /// a format before 5 keeps).
    pub(super) fn encode_external(&self, w: &mut W, external: bool) {
        let subs: Vec<(usize, usize, &ExternalState)> = self
            .orders
            .list
            .iter()
            .enumerate()
            .flat_map(|(oi, o)| {
                o.subs.iter().enumerate().filter_map(move |(si, s)| Some((oi, si, s.external.as_deref()?)))
            })
            .filter(|_| external)
            .collect();
        w.u32(subs.len() as u32);
        for (oi, si, x) in subs {
            w.u32(oi as u32);
            w.u32(si as u32);
            match &x.placement {
                Placement::Pending => w.u8(PLACEMENT_PENDING),
                Placement::Placed(id) => {
                    w.u8(PLACEMENT_PLACED);
                    w.str(id);
                }
                Placement::Refused(code) => {
                    w.u8(PLACEMENT_REFUSED);
                    w.str(code);
                }
            }
            w.u8(effect_code(x.dispatch));
            w.u8(effect_code(x.cancel));
        }
    }

    pub(super) fn decode_external(&mut self, r: &mut R) -> DResult<()> {
        for _ in 0..r.u32()? {
            let (oi, si) = (r.u32()? as usize, r.u32()? as usize);
            let placement = match r.code("placement", |c| (c <= PLACEMENT_REFUSED).then_some(c))? {
                PLACEMENT_PENDING => Placement::Pending,
                PLACEMENT_PLACED => Placement::Placed(r.str()?),
                _ => Placement::Refused(r.str()?),
            };
            let dispatch = r.code("dispatch", effect_of)?;
            let cancel = r.code("cancel", effect_of)?;
            let o = self.orders.list.get_mut(oi).ok_or("snapshot names an order that does not exist")?;
            let s = o.subs.get_mut(si).ok_or("snapshot names a sub order that does not exist")?;
            s.external = Some(Box::new(ExternalState { placement, dispatch, cancel }));
        }
        self.rebuild_external_index();
        Ok(())
    }
}
