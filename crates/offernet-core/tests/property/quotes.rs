//! The property test's generator of integration commands (vtex-compat.md §3), beside the
//! others in `generate.rs`.

use offernet_core::*;

use super::generate::{s, sku_of, Rng, ACCOUNTS};

/// Integration commands (vtex-compat.md §3): marking accounts as external sellers (mostly) or
/// marketplaces, quotes fetched a little before `now` (sometimes past their TTL, sometimes
/// older than the quote they would replace), expiries, and deletions. TTLs are short, so quotes
/// go stale within a case.
pub fn integration_command(r: &mut Rng, e: &Engine, now: u64) -> Command {
    if let Some(cmd) = r.chance(50).then(|| record_external(r, e)).flatten() {
        return cmd;
    }
    let a = s(r.pick(ACCOUNTS));
    match r.below(10) {
        0..=1 => Command::PutIntegration {
            account: a,
            body: Box::new(if r.chance(80) {
                let ttl = 1 + r.below(30) as i64;
                IntegrationBody {
                    protocol: Some(s("vtex")),
                    role: Some(s("seller")),
                    fulfillment_endpoint: Some(s("https://seller.example/api/fulfillment")),
                    quote_ttl_minutes: Some(ttl),
                    refresh_minutes: Some(1 + r.below(ttl as u64 + 1) as i64),
                    ..Default::default()
                }
            } else {
                IntegrationBody {
                    protocol: Some(s("vtex")),
                    role: Some(s("marketplace")),
                    api_base: Some(s("https://v.example/api")),
                    suggestions_base: Some(s("https://api.vtex.example/v")),
                    ..Default::default()
                }
            }),
        },
        2 => Command::DeleteIntegration { account: a },
        3..=7 => {
            // Mostly an account that is an external seller, so that quotes apply.
            let sellers: Vec<&'static str> = ACCOUNTS.iter().copied().filter(|x| e.seller_quotes(x).is_ok()).collect();
            let seller = if !sellers.is_empty() && r.chance(90) { s(r.pick(&sellers)) } else { a };
            let quotes = (0..1 + r.below(3))
                .map(|_| {
                    let price = r.chance(85).then(|| r.below(5) as i64 * 100);
                    QuoteBody {
                        sku: sku_of(r, e, &seller),
                        price,
                        list_price: price.filter(|_| r.chance(20)).map(|p| p + 50),
                        available: r.below(5) as i64,
                        valid_until_ms: r.chance(30).then(|| now + r.below(100) * 60_000),
                    }
                })
                .collect();
            let fetched_ms = now.saturating_sub(r.below(40) * 60_000);
            Command::ApplySellerQuotes { seller, fetched_ms, quotes }
        }
        _ => Command::ExpireQuotes {},
    }
}

/// What the effects worker would record (vtex-compat.md §3.4): for an effect owed, mostly its
/// answer (placed, refused, dispatched, cancel confirmed), sometimes one that contradicts the
/// state (refused: 409) or repeats one already recorded (no change).
fn record_external(r: &mut Rng, e: &Engine) -> Option<Command> {
    let effects = e.pending_external_effects();
    if effects.is_empty() {
        return None;
    }
    let x = &effects[r.below(effects.len() as u64) as usize];
    let outcome = match (x.kind, r.below(10)) {
        (ExternalEffectKind::Place, 0..=6) => ExternalOutcome::Placed { order_id: format!("E-{}", x.id) },
        (ExternalEffectKind::Place, 7..=8) => ExternalOutcome::Refused { code: s("insufficient_stock") },
        (ExternalEffectKind::Fulfill, 0..=7) => ExternalOutcome::Dispatched {},
        (ExternalEffectKind::Cancel, 0..=7) => ExternalOutcome::CancelConfirmed {},
        (_, 8) => ExternalOutcome::Placed { order_id: s("other") },
        _ => ExternalOutcome::CancelConfirmed {},
    };
    Some(Command::RecordExternalOrder { seller: x.seller.to_string(), id: x.id.to_string(), outcome })
}
