//! The import's unit tests: atomicity, per-line errors, forward references inside one import.

use super::*;
use crate::state::Engine;
use crate::Command;

fn cmd(v: serde_json::Value) -> Command {
    serde_json::from_value(v).unwrap()
}

fn line(v: serde_json::Value) -> ImportLine {
    serde_json::from_value(v).unwrap()
}

fn import(lines: Vec<ImportLine>) -> Command {
    Command::Import { account: "s".into(), lines }
}

/// A marketplace `m` registering seller `s`, which is affiliated with trade policy 1: a SKU
/// of `s` with a price and stock is sent to `m` (a suggestion, then matched by EAN).
fn network() -> Engine {
    let mut e = Engine::default();
    for c in [
        serde_json::json!({"type": "create_account", "id": "m", "name": "M", "currency": "BRL"}),
        serde_json::json!({"type": "create_account", "id": "s", "name": "S", "currency": "BRL"}),
        serde_json::json!({"type": "put_sku", "account": "m", "sku": "m1", "body": {"name": "Mug", "ean": "7891234567895"}}),
        serde_json::json!({"type": "put_seller", "marketplace": "m", "seller": "s", "body": {}}),
        serde_json::json!({"type": "put_affiliation", "seller": "s", "marketplace": "m", "body": {"trade_policy": "1"}}),
    ] {
        e.apply(&cmd(c), 0).unwrap();
    }
    e
}

/// Everything an import could change, as comparable text: ground state (snapshot bytes),
/// the account maps and indexes (their Debug form), the numbering and the applied count.
fn state(e: &Engine) -> (Vec<u8>, String, u64, u64) {
    (e.snapshot_bytes(), format!("{:?}", e.accounts), e.last_seq(), e.applied())
}

fn good_lines() -> Vec<ImportLine> {
    vec![
        line(serde_json::json!({"kind": "warehouse", "id": "w1", "body": {}})),
        // Forward references: the stock line names the warehouse above and the SKU below it
        // is refused, so the SKU comes first.
        line(serde_json::json!({"kind": "sku", "id": "s1", "body": {"name": "Mug", "ean": "7891234567895"}})),
        line(serde_json::json!({"kind": "stock", "warehouse": "w1", "sku": "s1", "body": {"quantity": 5}})),
        line(serde_json::json!({"kind": "trade_policy", "id": "2", "body": {"assortment": "all"}})),
        line(serde_json::json!({"kind": "price", "sku": "s1", "body": {"price": 1000, "trade_policy": "2"}})),
        line(serde_json::json!({"kind": "price", "sku": "s1", "body": {"price": 1200}})),
    ]
}

#[test]
fn an_import_applies_every_line_in_order_with_one_settle() {
    let mut e = network();
    let events = e.apply(&import(good_lines()), 0).unwrap();
    e.check_invariants().unwrap();
    // The same lines one command each reach the same state and offers.
    let mut one_by_one = network();
    for l in good_lines() {
        let c = match l {
            ImportLine::Sku { id, body } => Command::PutSku { account: "s".into(), sku: id, body: Box::new(body) },
            ImportLine::Price { sku, body } => Command::PutPrice { account: "s".into(), sku, body },
            ImportLine::Warehouse { id, body } => Command::PutWarehouse { account: "s".into(), warehouse: id, body },
            ImportLine::Stock { warehouse, sku, body } => {
                Command::PutStock { account: "s".into(), warehouse, sku, body }
            }
            ImportLine::TradePolicy { id, body } => {
                Command::PutTradePolicy { account: "s".into(), trade_policy: id, body }
            }
        };
        one_by_one.apply(&c, 0).unwrap();
    }
    assert_eq!(e.snapshot_bytes()[29..], one_by_one.snapshot_bytes()[29..], "same ground state (past the header)");
    assert_eq!(e.recompute_offers(), one_by_one.recompute_offers());
    assert_eq!(e.applied(), network().applied() + 1, "one command");
    // The settle ran: the seller's SKU was sent (suggestion created, matched by EAN, offer).
    let kinds: Vec<&str> = events.iter().map(|x| x.body.kind()).collect();
    assert!(kinds.contains(&"suggestion.created") && kinds.contains(&"offer.changed"), "{kinds:?}");
    let offer = e.offers("m", &Default::default()).unwrap();
    assert_eq!(offer.len(), 1);
    assert_eq!(offer[0].quantity, Some(5));
}

#[test]
fn one_bad_line_in_the_middle_changes_nothing_and_every_bad_line_is_listed() {
    let mut e = network();
    let before = state(&e);
    let mut lines = good_lines();
    // Line 2 (0-based): a stock line naming a warehouse nobody creates; line 4: a bad EAN on a
    // SKU that exists; line 6: a blank... id of a new SKU with a bad character.
    lines.insert(
        2,
        line(serde_json::json!({"kind": "stock", "warehouse": "nope", "sku": "s1", "body": {"quantity": 1}})),
    );
    lines.insert(4, line(serde_json::json!({"kind": "sku", "id": "s1", "body": {"name": "Mug", "ean": "123"}})));
    lines.push(line(serde_json::json!({"kind": "sku", "id": "bad id", "body": {"name": "X"}})));
    let err = e.apply(&import(lines), 0).unwrap_err();
    let DomainError::Import(errors) = err else { panic!("{err:?}") };
    assert_eq!(errors.total, 3);
    let got: Vec<(usize, Option<&str>, &str)> =
        errors.lines.iter().map(|l| (l.index, l.field.as_deref(), l.code)).collect();
    assert_eq!(
        got,
        [(2, Some("warehouse"), "not_found"), (4, Some("ean"), "invalid_field"), (8, Some("id"), "invalid_field")]
    );
    assert_eq!(state(&e), before, "state, numbering and applied count as before");
    e.check_invariants().unwrap();
    // And the next command's events are those a fresh network gives it.
    let mut fresh = network();
    assert_eq!(e.apply(&import(good_lines()), 0).unwrap(), fresh.apply(&import(good_lines()), 0).unwrap());
    assert_eq!(state(&e), state(&fresh));
}

#[test]
fn a_refused_import_over_existing_data_restores_it_exactly() {
    let mut e = network();
    e.apply(&import(good_lines()), 0).unwrap();
    let before = state(&e);
    let offers = e.recompute_offers();
    let lines = vec![
        // Changes to everything that exists, then one bad line at the end.
        line(
            serde_json::json!({"kind": "sku", "id": "s1", "body": {"name": "Cup", "ean": "4006381333931", "ref_id": "r"}}),
        ),
        line(serde_json::json!({"kind": "stock", "warehouse": "w1", "sku": "s1", "body": {"unlimited": true}})),
        line(serde_json::json!({"kind": "warehouse", "id": "w1", "body": {"trade_policies": ["2"]}})),
        line(serde_json::json!({"kind": "trade_policy", "id": "2", "body": {"assortment": ["s1"]}})),
        line(serde_json::json!({"kind": "price", "sku": "s1", "body": {"price": 1}})),
        line(serde_json::json!({"kind": "price", "sku": "s1", "body": {"price": 10, "list_price": 5}})),
    ];
    let DomainError::Import(errors) = e.apply(&import(lines), 0).unwrap_err() else { panic!() };
    assert_eq!((errors.total, errors.lines[0].index, errors.lines[0].field.as_deref()), (1, 5, Some("list_price")));
    assert_eq!(state(&e), before);
    assert_eq!(e.recompute_offers(), offers);
}

#[test]
fn errors_are_listed_up_to_the_limit_and_counted_beyond() {
    let mut e = network();
    let bad = line(serde_json::json!({"kind": "price", "sku": "ghost", "body": {"price": 1}}));
    let n = MAX_IMPORT_ERRORS + 5;
    let DomainError::Import(errors) = e.apply(&import(vec![bad; n]), 0).unwrap_err() else { panic!() };
    assert_eq!((errors.lines.len(), errors.total), (MAX_IMPORT_ERRORS, n));
    assert_eq!(errors.lines[0].field.as_deref(), Some("sku"));
}

#[test]
fn an_unknown_account_names_bad_lines_first_then_the_account() {
    let mut e = network();
    let bad = line(serde_json::json!({"kind": "sku", "id": "x", "body": {"name": " "}}));
    let good = line(serde_json::json!({"kind": "sku", "id": "x", "body": {"name": "X"}}));
    let c = |lines| Command::Import { account: "nobody".into(), lines };
    let DomainError::Import(errors) = e.apply(&c(vec![good.clone(), bad]), 0).unwrap_err() else { panic!() };
    assert_eq!((errors.total, errors.lines[0].index), (1, 1));
    let err = e.apply(&c(vec![good]), 0).unwrap_err();
    assert!(matches!(err, DomainError::NotFound { missing: Missing::Account, .. }), "{err:?}");
}

#[test]
fn empty_and_oversized_imports_are_refused() {
    let mut e = network();
    assert_eq!(e.apply(&import(vec![]), 0).unwrap_err().code(), "invalid_field");
    let l = line(serde_json::json!({"kind": "warehouse", "id": "w", "body": {}}));
    let err = e.apply(&import(vec![l; MAX_IMPORT_LINES + 1]), 0).unwrap_err();
    assert!(matches!(err, DomainError::InvalidField { ref field, .. } if field == "lines"), "{err:?}");
}

#[test]
fn an_import_round_trips_through_json_in_the_journal_shape() {
    let c = import(good_lines());
    let text = serde_json::to_string(&c).unwrap();
    assert!(
        text.starts_with(r#"{"type":"import","account":"s","lines":[{"kind":"warehouse","id":"w1","body":{"#),
        "{text}"
    );
    assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), c);
    let unknown = text.replacen(r#""id":"w1""#, r#""id":"w1","x":1"#, 1);
    assert!(serde_json::from_str::<Command>(&unknown).is_err());
    assert_eq!(
        ImportCounts::of(&good_lines()),
        ImportCounts { sku: 1, price: 2, warehouse: 1, stock: 1, trade_policy: 1 }
    );
}
