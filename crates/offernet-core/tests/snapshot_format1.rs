//! A REAL format-1 snapshot (written at commit 8c86313, see tests/fixtures/README.md) still
//! loads: `journal compact` may have deleted the entries it covers, so it cannot be replaced by
//! a replay. Loaded, it is the state today's code reaches by applying the same commands.

use offernet_core::snapshot::{FORMAT_1_TOKEN_CREATED_MS, SNAPSHOT_FORMAT};
use offernet_core::*;

const SNAPSHOT: &[u8] = include_bytes!("fixtures/format1.snapshot");
const COMMANDS: &str = include_str!("fixtures/format1.commands.json");
const ACCOUNTS: [&str; 3] = ["mkt", "sel", "quiet"];
const ALL: Window = Window { limit: 1000, offset: 0 };

#[derive(serde::Deserialize)]
struct Logged {
    now_ms: u64,
    command: Command,
}

fn commands() -> Vec<Logged> {
    serde_json::from_str(COMMANDS).unwrap()
}

/// Today's engine after the fixture's commands; `account_ms` replaces the time of every
/// `CreateAccount` when given.
fn replayed(account_ms: Option<u64>) -> Engine {
    let mut e = Engine::default();
    for (i, l) in commands().iter().enumerate() {
        let at = match (&l.command, account_ms) {
            (Command::CreateAccount { .. }, Some(ms)) => ms,
            _ => l.now_ms,
        };
        e.apply(&l.command, at).unwrap_or_else(|err| panic!("command {i}: {err:?}"));
    }
    e
}

fn loaded() -> Engine {
    Engine::from_snapshot_bytes(EngineConfig::default(), SNAPSHOT).unwrap()
}

/// Everything a client can read, as text (the views are `Debug`), account by account.
fn views(e: &Engine) -> Vec<String> {
    let mut out = vec![format!("{:?}", e.list_accounts(ALL).unwrap().items), format!("{}", e.offer_count())];
    for a in ACCOUNTS {
        out.push(format!("{:?}", e.account(a).unwrap()));
        out.push(format!("{:?}", e.list_tokens(a, ALL).unwrap().items));
        out.push(format!("{:?}", e.list_trade_policies(a, ALL).unwrap().items));
        out.push(format!("{:?}", e.list_warehouses(a, ALL).unwrap().items));
        out.push(format!("{:?}", e.list_skus(a, &SkuFilter::default(), ALL).unwrap().items));
        out.push(format!("{:?}", e.list_prices(a, ALL).unwrap().items));
        out.push(format!("{:?}", e.list_affiliations(a, ALL).unwrap().items));
        out.push(format!("{:?}", e.list_sellers(a, ALL).unwrap().items));
        // Format 1 did not keep when orders were authorised or closed (format 4 does).
        let mut orders = serde_json::to_value(e.list_orders(a, &OrderFilter::default(), ALL).unwrap().items).unwrap();
        for o in orders.as_array_mut().unwrap() {
            o.as_object_mut().unwrap().retain(|k, _| k != "authorized_ms" && k != "closed_ms");
        }
        out.push(orders.to_string());
        out.push(format!("{:?}", e.offers(a, &OfferFilter::default()).unwrap()));
        out.push(format!("{:?}", e.suggestions(a, None).unwrap()));
        out.push(format!("{:?}", e.sent_offers(a, None).unwrap()));
    }
    for wh in ["w1", "w2"] {
        out.push(format!("{:?}", e.list_warehouse_stock("sel", wh, ALL).unwrap().items));
    }
    out
}

#[test]
fn the_fixture_is_format_1_and_covers_every_part() {
    assert_eq!(&SNAPSHOT[8..12], &1u32.to_le_bytes(), "the fixture must stay a format-1 snapshot");
    let e = loaded();
    assert!(e.list_tokens("sel", ALL).unwrap().items.len() == 1);
    assert!(e.list_tokens("quiet", ALL).unwrap().items.is_empty());
    assert_eq!(e.list_trade_policies("sel", ALL).unwrap().items.len(), 2);
    assert_eq!(e.list_warehouses("sel", ALL).unwrap().items.len(), 2);
    assert_eq!(e.list_skus("sel", &SkuFilter::default(), ALL).unwrap().items.len(), 2);
    assert_eq!(e.list_sellers("mkt", ALL).unwrap().items.len(), 1);
    assert_eq!(e.suggestions("mkt", None).unwrap().len(), 2);
    assert_eq!(e.list_orders("mkt", &OrderFilter::default(), ALL).unwrap().items.len(), 2);
    assert!(e.offer_count() > 0, "the approved suggestion gives an offer");
}

/// The loaded snapshot is the replayed state, byte for byte and view for view, once the one
/// time format 1 did not keep (when the initial token was made) is taken as unknown.
#[test]
fn a_format_1_snapshot_loads_as_the_replayed_state() {
    let from_snapshot = loaded();
    let replay = replayed(Some(FORMAT_1_TOKEN_CREATED_MS));
    let bytes = from_snapshot.snapshot_bytes();
    assert_eq!(&bytes[8..12], &SNAPSHOT_FORMAT.to_le_bytes(), "the encoder writes only the current format");
    assert_eq!(from_snapshot.snapshot_bytes_kept_by(1), replay.snapshot_bytes_kept_by(1));
    assert_eq!(views(&from_snapshot), views(&replay));
    // And the re-encoded state loads as itself.
    let again = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(again.snapshot_bytes(), bytes);
}

/// The initial token is token `initial` with the same hash and name as replaying
/// `CreateAccount` gives; only its time differs, and the token still authenticates.
#[test]
fn the_format_1_token_is_the_initial_token_with_an_unknown_time() {
    let from_snapshot = loaded();
    let replay = replayed(None);
    for a in ["mkt", "sel"] {
        let loaded_tokens = from_snapshot.list_tokens(a, ALL).unwrap().items;
        let replayed_tokens = replay.list_tokens(a, ALL).unwrap().items;
        assert_eq!(loaded_tokens.len(), 1);
        let (l, r) = (&loaded_tokens[0], &replayed_tokens[0]);
        assert_eq!((&*l.id, &l.name), (INITIAL_TOKEN_ID, &r.name));
        assert_eq!(l.created_ms, FORMAT_1_TOKEN_CREATED_MS);
        assert_ne!(r.created_ms, FORMAT_1_TOKEN_CREATED_MS, "the fixture's commands carry real times");
        assert_eq!(from_snapshot.token_hash(a, INITIAL_TOKEN_ID), replay.token_hash(a, INITIAL_TOKEN_ID));
        assert!(from_snapshot.token_hash(a, INITIAL_TOKEN_ID).is_some());
    }
    assert_ne!(from_snapshot.snapshot_bytes(), replay.snapshot_bytes(), "the token time shows in the bytes");
}

/// After loading, the engine goes on exactly as the replayed one: the same commands give the
/// same answers and the same state (new content and product URLs included).
#[test]
fn a_loaded_format_1_engine_goes_on_like_the_replayed_one() {
    let mut from_snapshot = loaded();
    let mut replay = replayed(Some(FORMAT_1_TOKEN_CREATED_MS));
    let orders = serde_json::to_value(from_snapshot.list_orders("mkt", &OrderFilter::default(), ALL).unwrap().items);
    let orders = orders.unwrap();
    let o1 = orders.as_array().unwrap().iter().find(|o| o["id"] == "o1").unwrap();
    let seller_o1 = o1["seller_orders"][0]["id"].as_str().unwrap();
    let more: Vec<Command> = serde_json::from_value(serde_json::json!([
        {"type": "invoice_order", "account": "sel", "id": seller_o1},
        {"type": "cancel_order", "account": "mkt", "id": "o2"},
        {"type": "put_sku", "account": "sel", "sku": "k1", "body": {"name": "Kettle 2", "description": "Steel", "images": ["https://cdn.example/k1.jpg"]}},
        {"type": "put_trade_policy", "account": "sel", "trade_policy": "b2b", "body": {"assortment": "all", "product_url": "https://shop.example/p/{sku}"}},
        {"type": "create_token", "account": "sel", "id": "t2", "name": "ci", "token_hash": "c".repeat(64)},
        {"type": "place_order", "marketplace": "mkt", "body": {"id": "o3", "items": [{"sku": "m1", "quantity": 2, "seller": "sel"}]}},
        {"type": "expire_orders"}
    ]))
    .unwrap();
    for (i, c) in more.iter().enumerate() {
        let now_ms = 1_764_100_000_000 + i as u64;
        let answer = from_snapshot.apply(c, now_ms).unwrap_or_else(|err| panic!("command {i}: {err:?}"));
        assert_eq!(format!("{answer:?}"), format!("{:?}", replay.apply(c, now_ms).unwrap()), "command {i}");
    }
    assert_eq!(from_snapshot.snapshot_bytes_kept_by(1), replay.snapshot_bytes_kept_by(1));
    assert_eq!(views(&from_snapshot), views(&replay));
}

/// A format this build does not read is still refused with its number (the store then skips
/// the snapshot and replays the journal).
#[test]
fn an_unknown_format_is_refused() {
    let mut bytes = SNAPSHOT.to_vec();
    bytes[8..12].copy_from_slice(&(SNAPSHOT_FORMAT + 1).to_le_bytes());
    let err = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap_err();
    assert!(err.contains(&format!("snapshot format {}", SNAPSHOT_FORMAT + 1)), "{err}");
}

/// `journal verify` compares every snapshot the replay reaches: the format-1 snapshot matches
/// the replayed state (with its real token times), and stops matching when one command of the
/// same sequence differs, also by something format 1 cannot hold (the sequence keeps its
/// length, so the counters alone do not tell).
#[test]
fn a_format_1_snapshot_matches_the_replayed_state_and_only_it() {
    let replay = replayed(None);
    assert!(replay.snapshot_matches(SNAPSHOT));
    assert!(replay.snapshot_matches(&replay.snapshot_bytes()));
    assert!(!replay.snapshot_matches(&loaded().snapshot_bytes()), "format 2 keeps token times: compared");
    let changes = [
        (
            2,
            serde_json::json!({"type": "create_account", "id": "quiet", "name": "No Token", "currency": "USD", "token_hash": "d".repeat(64)}),
        ),
        (
            3,
            serde_json::json!({"type": "put_trade_policy", "account": "sel", "trade_policy": "b2b", "body": {"name": "Wholesale", "assortment": ["k1", "k2"], "product_url": "https://s.example/{sku}"}}),
        ),
        (
            8,
            serde_json::json!({"type": "put_sku", "account": "sel", "sku": "k2", "body": {"name": "Toaster", "product_id": "p2", "description": "Hot"}}),
        ),
        (15, serde_json::json!({"type": "put_price", "account": "sel", "sku": "k2", "body": {"price": 3001}})),
    ];
    for (at, change) in changes {
        let mut log = commands();
        log[at].command = serde_json::from_value(change).unwrap();
        let mut changed = Engine::default();
        for (i, l) in log.iter().enumerate() {
            changed.apply(&l.command, l.now_ms).unwrap_or_else(|err| panic!("command {i}: {err:?}"));
        }
        assert!(!changed.snapshot_matches(SNAPSHOT), "the change of command {at} goes unseen");
    }
    let mut damaged = SNAPSHOT.to_vec();
    damaged.truncate(SNAPSHOT.len() - 1);
    assert!(!replay.snapshot_matches(&damaged));
}
