//! Scenario tests written as data: each file in `tests/scenarios/` is a list of steps, run
//! by one `check` helper. After every step the engine's invariants are checked (offers equal
//! their recomputation, bindings symmetric, everything sendable sent).
//!
//! Step forms:
//! - `{"do": <command>, "offer_changed": [[marketplace, sku], …]?, "events": [kind, …]?}`:
//!   the command must succeed; `offer_changed` lists offers that must change in that same
//!   command (and only those, when `"only": true`).
//!   `order_events` lists the command's `order.*` events (each a subset match, all of them).
//! - `{"fail": <command>, "code": "invalid_field", "field": "ean"?}`: refused, nothing changed.
//! - `{"offer": [marketplace, sku, seller], "is": {…} | null}`: subset match of the offer.
//! - `{"suggestion": [marketplace, seller, seller_sku], "is": {…} | null}`
//! - `{"sent": [seller, marketplace, seller_sku], "is": {…} | null}`
//! - `{"explain": [marketplace, sku], "is": {…}}`
//! - `{"sku": [account, sku], "is": {…} | null}`
//! - `{"about": "…"}`: a comment for the reader.

use offernet_core::{Command, DomainError, Engine, EngineConfig, EventBody};
use serde_json::{json, Value};

/// `expected` must be contained in `actual`: objects by the keys given, arrays whole.
fn contains(actual: &Value, expected: &Value, path: &str) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                let av = a.get(k).unwrap_or(&Value::Null);
                contains(av, ev, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                return Err(format!("{path}: expected {} elements, got {}: {}", e.len(), a.len(), actual));
            }
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                contains(av, ev, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ if actual == expected => Ok(()),
        _ => Err(format!("{path}: expected {expected}, got {actual}")),
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().expect("an array").iter().map(|x| x.as_str().expect("a string").to_string()).collect()
}

// Long on purpose: the one interpreter of every step form listed at the top of this file, one
// branch per form in the same order, so the list and its meaning read side by side.
fn check(file: &str) {
    let text = std::fs::read_to_string(format!("{}/tests/scenarios/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let scenario: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let max_chain = scenario.get("max_chain").and_then(Value::as_u64).unwrap_or(3) as u8;
    let mut engine = Engine::new(EngineConfig::new(max_chain).unwrap());
    for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        let at = format!("{file} step {i}: {step}");
        if let Some(cmd) = step.get("do") {
            apply_ok(&mut engine, step, cmd, &at);
        } else if let Some(cmd) = step.get("fail") {
            apply_refused(&mut engine, step, cmd, &at);
        } else if step.get("about").is_none() {
            let (what, got) = read(&engine, step, &at);
            match (got, &step["is"]) {
                (None, Value::Null) => {}
                (None, _) => panic!("{at}: no {what}"),
                (Some(g), Value::Null) => panic!("{at}: expected no {what}, got {g}"),
                (Some(g), e) => contains(&g, e, what).unwrap_or_else(|m| panic!("{at}: {m}")),
            }
        }
        engine.check_invariants().unwrap_or_else(|m| panic!("{at}: invariant broken: {m}"));
    }
}

fn command_of(cmd: &Value, at: &str) -> Command {
    serde_json::from_value(cmd.clone()).unwrap_or_else(|e| panic!("{at}: {e}"))
}

/// A `do` step: the command succeeds, with the offer changes and events the step names.
fn apply_ok(engine: &mut Engine, step: &Value, cmd: &Value, at: &str) {
    let now = step.get("at_ms").and_then(Value::as_u64).unwrap_or(0);
    let events = engine.apply(&command_of(cmd, at), now).unwrap_or_else(|e| panic!("{at}: refused: {e}"));
    let changed: Vec<(String, String)> = events
        .iter()
        .filter_map(|ev| match &ev.body {
            EventBody::OfferChanged { marketplace, sku, .. } => Some((marketplace.to_string(), sku.to_string())),
            _ => None,
        })
        .collect();
    if let Some(want) = step.get("offer_changed") {
        for pair in want.as_array().unwrap() {
            let p = strs(pair);
            assert!(
                changed.contains(&(p[0].clone(), p[1].clone())),
                "{at}: expected offer.changed for {p:?} in the same command, got {changed:?}"
            );
        }
        if step.get("only") == Some(&json!(true)) {
            assert_eq!(changed.len(), want.as_array().unwrap().len(), "{at}: other offers changed: {changed:?}");
        }
    }
    if let Some(kinds) = step.get("events") {
        let got: Vec<&str> = events.iter().map(|e| e.body.kind()).collect();
        assert_eq!(got, strs(kinds), "{at}: events");
    }
    if let Some(want) = step.get("order_events") {
        let got: Vec<Value> = events
            .iter()
            .filter(|e| e.body.kind().starts_with("order."))
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        contains(&Value::Array(got), want, "order_events").unwrap_or_else(|m| panic!("{at}: {m}"));
    }
}

/// A `fail` step: the command is refused with the code (and field) named, and nothing changed.
fn apply_refused(engine: &mut Engine, step: &Value, cmd: &Value, at: &str) {
    let cmd = command_of(cmd, at);
    let before = engine.stored_offers();
    let seq = engine.last_seq();
    let now = step.get("at_ms").and_then(Value::as_u64).unwrap_or(0);
    let err = engine.apply(&cmd, now).expect_err(at);
    assert_eq!(err.code(), step["code"].as_str().unwrap(), "{at}: {err}");
    if let Some(f) = step.get("field") {
        match &err {
            DomainError::InvalidField { field, .. } => assert_eq!(field, f.as_str().unwrap(), "{at}"),
            other => panic!("{at}: expected invalid_field, got {other}"),
        }
    }
    assert_eq!(engine.stored_offers(), before, "{at}: a refused command changed offers");
    assert_eq!(engine.last_seq(), seq, "{at}: a refused command emitted events");
}

fn json<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// A reading step: what it reads, and the answer (None when there is none).
fn read(engine: &Engine, step: &Value, at: &str) -> (&'static str, Option<Value>) {
    let key = |k: &str| step.get(k).map(strs);
    if let Some(k) = key("offer") {
        let offers = engine.offers_for_sku(&k[0], &k[1]).unwrap_or_else(|e| panic!("{at}: {e}"));
        ("offer", offers.into_iter().find(|o| *o.seller == *k[2]).map(json))
    } else if let Some(k) = key("suggestion") {
        let all = engine.suggestions(&k[0], None).unwrap();
        ("suggestion", all.into_iter().find(|s| *s.seller == *k[1] && *s.seller_sku == *k[2]).map(json))
    } else if let Some(k) = key("sent") {
        let all = engine.sent_offers(&k[0], Some(&k[1])).unwrap();
        ("sent offer", all.into_iter().find(|s| *s.seller_sku == *k[2]).map(json))
    } else if let Some(k) = key("explain") {
        ("explain", Some(json(engine.explain(&k[0], &k[1]).unwrap_or_else(|e| panic!("{at}: {e}")))))
    } else if let Some(k) = key("sku") {
        ("SKU", engine.sku(&k[0], &k[1]).ok().map(json))
    } else if let Some(k) = key("order") {
        ("order", engine.order(&k[0], &k[1]).ok().map(json))
    } else if let Some(k) = key("stock") {
        // [account, sku, warehouse]: {"quantity", "reserved"}
        let sku = engine.sku(&k[0], &k[1]).unwrap_or_else(|e| panic!("{at}: {e}"));
        ("stock entry", sku.stock.iter().find(|s| *s.warehouse == *k[2]).map(json))
    } else if let Some(k) = key("simulate") {
        let items: Vec<offernet_core::OrderItemBody> = serde_json::from_value(step["items"].clone()).unwrap();
        ("simulation", Some(json(engine.simulate(&k[0], &items).unwrap_or_else(|e| panic!("{at}: {e}")))))
    } else {
        panic!("{at}: unknown step")
    }
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { check(concat!(stringify!($name), ".json")); })*
    };
}

scenarios!(
    documents_example,
    resale_cycle,
    chain_longer_than_max_chain,
    pausing_each_half,
    assortment_removal,
    sku_deactivation,
    trade_policy_price,
    matching_modes,
    bad_input,
    orders_along_a_chain,
    cancel_order_trees,
    fill_by_warehouse_creation,
    sends_before_matching,
);
