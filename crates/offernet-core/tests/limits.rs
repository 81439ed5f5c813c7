//! Limits that depend on state: an account's lists together stay bounded
//! (`MAX_ACCOUNT_LIST_IDS`), so one account cannot hold gigabytes through lists; and event
//! numbers only move forward.

use offernet_core::validate::{MAX_ACCOUNT_LIST_IDS, MAX_ASSORTMENT_LEN};
use offernet_core::*;

fn ids(prefix: &str, n: usize) -> WordOrList {
    WordOrList::List((0..n).map(|i| format!("{prefix}{i}")).collect())
}

fn put_tp(e: &mut Engine, tp: &str, assortment: WordOrList) -> Result<Vec<Event>, DomainError> {
    e.apply(
        &Command::PutTradePolicy {
            account: "s".into(),
            trade_policy: tp.into(),
            body: TradePolicyBody { name: None, assortment: Some(assortment), product_url: None },
        },
        0,
    )
}

#[test]
fn an_accounts_lists_together_are_bounded() {
    let mut e = Engine::new(EngineConfig::new(3).unwrap());
    for id in ["s", "m"] {
        e.apply(
            &Command::CreateAccount { id: id.into(), name: id.into(), currency: "BRL".into(), token_hash: None },
            0,
        )
        .unwrap();
    }
    let per_list = MAX_ASSORTMENT_LEN;
    let full = MAX_ACCOUNT_LIST_IDS / per_list;
    for t in 0..full {
        put_tp(&mut e, &format!("t{t}"), ids("k", per_list)).unwrap();
    }
    // One id more anywhere is refused, and changes nothing.
    let err = put_tp(&mut e, "more", ids("k", 1)).unwrap_err();
    assert_eq!(err.code(), "conflict", "{err}");
    assert!(err.to_string().contains(&MAX_ACCOUNT_LIST_IDS.to_string()), "{err}");
    let resale = AffiliationBody { trade_policy: Some("1".into()), resale: Some(ids("a", 1)), ..Default::default() };
    let err = e
        .apply(
            &Command::PutAffiliation { seller: "s".into(), marketplace: "m".into(), body: Box::new(resale.clone()) },
            0,
        )
        .unwrap_err();
    assert_eq!(err.code(), "conflict", "{err}");
    e.check_invariants().unwrap();
    // Replacing a list by one of the same size, or shrinking one, is allowed; then room is free.
    put_tp(&mut e, "t0", ids("x", per_list)).unwrap();
    put_tp(&mut e, "t0", WordOrList::Word("all".into())).unwrap();
    put_tp(&mut e, "more", ids("k", 10)).unwrap();
    e.apply(&Command::PutAffiliation { seller: "s".into(), marketplace: "m".into(), body: Box::new(resale) }, 0)
        .unwrap();
    e.check_invariants().unwrap();
}

#[test]
fn skipping_event_numbers_only_moves_them_forward() {
    let mut e = Engine::new(EngineConfig::new(3).unwrap());
    e.apply(&Command::CreateAccount { id: "s".into(), name: "S".into(), currency: "BRL".into(), token_hash: None }, 0)
        .unwrap();
    e.apply(&Command::SkipEventSeq { seq: 500 }, 0).unwrap();
    e.apply(&Command::SkipEventSeq { seq: 10 }, 0).unwrap();
    assert_eq!(e.last_seq(), 500);
    let ev = e
        .apply(
            &Command::PutSku {
                account: "s".into(),
                sku: "k".into(),
                body: Box::new(SkuBody { name: Some("K".into()), ..Default::default() }),
            },
            0,
        )
        .unwrap();
    assert!(ev.iter().all(|x| x.seq > 500), "{ev:?}");
    // Snapshots carry the numbering on.
    let copy = Engine::from_snapshot_bytes(e.config(), &e.snapshot_bytes()).unwrap();
    assert_eq!(copy.last_seq(), e.last_seq());
}
