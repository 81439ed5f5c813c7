//! The integration commands' unit tests: bodies, the mirror warehouse, quotes and their
//! staleness as offers and explain show it, and snapshots (format 4 and 3).

use super::*;
use crate::command::*;
use crate::error::Missing;
use crate::event::EventBody;
use crate::orders::{ExternalOutcome, OrderBody, OrderItemBody};
use crate::state::{Engine, EngineConfig};

const MIN: u64 = 60_000;
const T0: u64 = 1_800_000_000_000;

fn account(id: &str, currency: &str) -> Command {
    Command::CreateAccount { id: id.into(), name: id.into(), currency: currency.into(), token_hash: None }
}

fn seller_body() -> IntegrationBody {
    IntegrationBody {
        protocol: Some("vtex".into()),
        role: Some("seller".into()),
        fulfillment_endpoint: Some("https://e.example/api/fulfillment".into()),
        ..Default::default()
    }
}

fn marketplace_body() -> IntegrationBody {
    IntegrationBody {
        protocol: Some("vtex".into()),
        role: Some("marketplace".into()),
        api_base: Some("https://v.vtexcommercestable.com.br/api".into()),
        suggestions_base: Some("https://api.vtex.com/v".into()),
        ..Default::default()
    }
}

fn put(account: &str, body: IntegrationBody) -> Command {
    Command::PutIntegration { account: account.into(), body: Box::new(body) }
}

fn quote(sku: &str, price: Option<i64>, available: i64) -> QuoteBody {
    QuoteBody { sku: sku.into(), price, list_price: None, available, valid_until_ms: None }
}

fn quotes(fetched_ms: u64, q: Vec<QuoteBody>) -> Command {
    Command::ApplySellerQuotes { seller: "e".into(), fetched_ms, quotes: q }
}

/// External seller `e` with SKU `k` bound at marketplace `m` (as `e-k`), its integration made.
fn network() -> Engine {
    let mut e = Engine::default();
    let cmds = [
        account("e", "BRL"),
        account("m", "BRL"),
        Command::PutSku {
            account: "e".into(),
            sku: "k".into(),
            body: Box::new(SkuBody { name: Some("K".into()), ..Default::default() }),
        },
        Command::PutAffiliation {
            seller: "e".into(),
            marketplace: "m".into(),
            body: Box::new(AffiliationBody { trade_policy: Some("1".into()), ..Default::default() }),
        },
        Command::PutSeller { marketplace: "m".into(), seller: "e".into(), body: SellerBody::default() },
        put("e", seller_body()),
    ];
    for c in cmds {
        e.apply(&c, T0).unwrap();
    }
    e
}

fn offer(e: &Engine) -> crate::views::OfferView {
    e.offers_for_sku("m", "e-k").unwrap().into_iter().next().unwrap()
}

fn field_of(e: DomainError) -> String {
    match e {
        DomainError::InvalidField { field, .. } => field,
        other => panic!("not a field error: {other}"),
    }
}

#[test]
fn a_seller_integration_makes_warehouse_vtex_and_shows_its_defaults() {
    let e = network();
    assert_eq!(e.warehouse("e", VTEX_WAREHOUSE).unwrap().trade_policies, vec![std::sync::Arc::from("1")]);
    let v = serde_json::to_value(e.integration("e").unwrap()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": "https://e.example/api/fulfillment",
            "sales_channel": "1", "affiliate_id": null, "quote_ttl_minutes": 60, "refresh_minutes": 15,
            "follow_up_email": null, "warehouse": "vtex"})
    );
    let err = e.integration("m").unwrap_err();
    assert!(matches!(err, DomainError::NotFound { missing: Missing::Integration, .. }), "{err}");
    assert!(e.managed_externally("e", None) && e.managed_externally("e", Some("vtex")));
    assert!(!e.managed_externally("e", Some("w0")) && !e.managed_externally("m", None));
}

#[test]
fn a_marketplace_integration_keeps_its_urls_and_dimensions() {
    let mut e = network();
    let n = |x: &str| Some(serde_json::from_str::<serde_json::Number>(x).unwrap());
    let dims = DefaultDimensionsBody { height: n("1"), width: n("2.5"), length: n("1"), weight_g: n("100") };
    e.apply(&put("m", IntegrationBody { default_dimensions: Some(dims), ..marketplace_body() }), T0).unwrap();
    let v = serde_json::to_value(e.integration("m").unwrap()).unwrap();
    assert_eq!(v["default_dimensions"], serde_json::json!({"height": 1, "width": 2.5, "length": 1, "weight_g": 100}));
    assert_eq!(v["api_base"], "https://v.vtexcommercestable.com.br/api");
    assert!(v.get("fulfillment_endpoint").is_none() && e.warehouse("m", VTEX_WAREHOUSE).is_err());
}

#[test]
fn bad_bodies_name_their_field_before_the_account() {
    let mut e = network();
    let cases: Vec<(IntegrationBody, &str)> = vec![
        (IntegrationBody { protocol: None, ..seller_body() }, "protocol"),
        (IntegrationBody { protocol: Some("ucp".into()), ..seller_body() }, "protocol"),
        (IntegrationBody { role: None, ..seller_body() }, "role"),
        (IntegrationBody { role: Some("buyer".into()), ..seller_body() }, "role"),
        (IntegrationBody { fulfillment_endpoint: None, ..seller_body() }, "fulfillment_endpoint"),
        (
            IntegrationBody { fulfillment_endpoint: Some("ftp://e.example".into()), ..seller_body() },
            "fulfillment_endpoint",
        ),
        (
            IntegrationBody { fulfillment_endpoint: Some("https://e.example/api/".into()), ..seller_body() },
            "fulfillment_endpoint",
        ),
        (
            IntegrationBody { fulfillment_endpoint: Some("https://e.example/a?sc=1".into()), ..seller_body() },
            "fulfillment_endpoint",
        ),
        (IntegrationBody { sales_channel: Some("a/b".into()), ..seller_body() }, "sales_channel"),
        (IntegrationBody { affiliate_id: Some("ofn".into()), ..seller_body() }, "affiliate_id"),
        (IntegrationBody { affiliate_id: Some("OFNX".into()), ..seller_body() }, "affiliate_id"),
        (IntegrationBody { quote_ttl_minutes: Some(0), ..seller_body() }, "quote_ttl_minutes"),
        (IntegrationBody { quote_ttl_minutes: Some(10_081), ..seller_body() }, "quote_ttl_minutes"),
        (IntegrationBody { refresh_minutes: Some(1_441), ..seller_body() }, "refresh_minutes"),
        (
            IntegrationBody { quote_ttl_minutes: Some(10), refresh_minutes: Some(11), ..seller_body() },
            "refresh_minutes",
        ),
        (IntegrationBody { follow_up_email: Some("no at sign".into()), ..seller_body() }, "follow_up_email"),
        (
            IntegrationBody { follow_up_email: Some(format!("{}@x.example", "a".repeat(250))), ..seller_body() },
            "follow_up_email",
        ),
        (IntegrationBody { api_base: Some("https://v.example".into()), ..seller_body() }, "api_base"),
        (
            IntegrationBody { fulfillment_endpoint: Some("https://e.example".into()), ..marketplace_body() },
            "fulfillment_endpoint",
        ),
        (IntegrationBody { suggestions_base: None, ..marketplace_body() }, "suggestions_base"),
        (
            IntegrationBody { default_dimensions: Some(DefaultDimensionsBody::default()), ..marketplace_body() },
            "default_dimensions.height",
        ),
    ];
    for (b, field) in cases {
        assert_eq!(field_of(e.apply(&put("nobody", b.clone()), T0).unwrap_err()), field, "{b:?}");
    }
    let missing = e.apply(&put("nobody", seller_body()), T0).unwrap_err();
    assert!(matches!(missing, DomainError::NotFound { missing: Missing::Account, .. }), "{missing}");
    assert!(e.apply(&put("e", IntegrationBody { affiliate_id: Some("OFN".into()), ..seller_body() }), T0).is_ok());
}

#[test]
fn a_currency_without_two_decimals_is_refused() {
    let mut e = Engine::default();
    e.apply(&account("j", "JPY"), 0).unwrap();
    e.apply(&account("k", "KWD"), 0).unwrap();
    for a in ["j", "k"] {
        assert_eq!(field_of(e.apply(&put(a, seller_body()), 0).unwrap_err()), "currency");
        assert_eq!(field_of(e.apply(&put(a, marketplace_body()), 0).unwrap_err()), "currency");
    }
    assert!(e.warehouse("j", VTEX_WAREHOUSE).is_err(), "a refused command makes nothing");
}

#[test]
fn a_warehouse_vtex_that_does_not_serve_trade_policy_1_is_refused() {
    let mut e = Engine::default();
    e.apply(&account("e", "BRL"), 0).unwrap();
    let tp = TradePolicyBody { assortment: Some(WordOrList::Word("all".into())), ..Default::default() };
    e.apply(&Command::PutTradePolicy { account: "e".into(), trade_policy: "t2".into(), body: tp }, 0).unwrap();
    let wh = WarehouseBody { trade_policies: Some(vec!["t2".into()]) };
    e.apply(&Command::PutWarehouse { account: "e".into(), warehouse: "vtex".into(), body: wh }, 0).unwrap();
    let err = e.apply(&put("e", seller_body()), 0).unwrap_err();
    assert!(err.to_string().contains("does not serve trade policy `1`"), "{err}");
}

#[test]
fn quotes_set_price_and_stock_and_settle_the_offer_in_the_same_command() {
    let mut e = network();
    assert_eq!(offer(&e).reasons, vec!["no_price", "out_of_stock"]);
    let q = QuoteBody { list_price: Some(9_000), valid_until_ms: Some(5), ..quote("k", Some(6_720), 7) };
    let events = e.apply(&quotes(T0 + MIN, vec![q]), T0 + MIN).unwrap();
    let o = offer(&e);
    assert_eq!((o.price, o.list_price, o.quantity, o.sellable), (Some(6_720), Some(9_000), Some(7), true));
    assert!(events.iter().any(|ev| ev.account.as_ref() == "m" && matches!(ev.body, EventBody::OfferChanged { .. })));
    let qs = e.seller_quotes("e").unwrap();
    assert_eq!((qs[0].fetched_ms, qs[0].valid_until_ms, qs[0].stale), (T0 + MIN, Some(5), false));
    assert_eq!(e.next_quote_expiry_ms(), Some(T0 + MIN + 60 * MIN));
    // Without a price the price is kept; the stock follows.
    e.apply(&quotes(T0 + 2 * MIN, vec![quote("k", None, 0)]), T0 + 2 * MIN).unwrap();
    let o = offer(&e);
    assert_eq!((o.price, o.quantity), (Some(6_720), Some(0)));
    assert_eq!(o.reasons, vec!["out_of_stock"]);
    e.check_invariants().unwrap();
}

#[test]
fn placed_orders_keep_their_units_at_warehouse_vtex() {
    let mut e = network();
    e.apply(&quotes(T0, vec![quote("k", Some(100), 5)]), T0).unwrap();
    e.apply(
        &Command::PutPrice {
            account: "m".into(),
            sku: "e-k".into(),
            body: PriceBody { price: Some(1), ..Default::default() },
        },
        T0,
    )
    .unwrap();
    let item = OrderItemBody { sku: Some("e-k".into()), quantity: Some(2), seller: Some("e".into()) };
    let order = OrderBody {
        id: Some("o1".into()),
        items: Some(vec![item]),
        document_sha256: Some("ab".repeat(32)),
        ..OrderBody::default()
    };
    e.apply(&Command::PlaceOrder { marketplace: "m".into(), body: order }, T0).unwrap();
    assert_eq!(offer(&e).quantity, Some(3));
    // Not placed at E yet: E still answers 5, and the 2 reserved reduce what others see.
    e.apply(&quotes(T0 + MIN, vec![quote("k", Some(100), 5)]), T0 + MIN).unwrap();
    let stock = e.sku("e", "k").unwrap().stock;
    assert_eq!((stock[0].quantity, stock[0].reserved), (Some(5), 2));
    assert_eq!(offer(&e).quantity, Some(3));
    // E has fewer than the pending orders hold: never below what is reserved, others see 0.
    e.apply(&quotes(T0 + 2 * MIN, vec![quote("k", Some(100), 1)]), T0 + 2 * MIN).unwrap();
    let stock = e.sku("e", "k").unwrap().stock;
    assert_eq!((stock[0].quantity, stock[0].reserved), (Some(2), 2));
    assert_eq!(offer(&e).quantity, Some(0));
    // Placed at E: E now answers 4 available (it knows of the 2 sold): offernet holds 4 + the
    // 2 placed (R).
    let outcome = ExternalOutcome::Placed { order_id: "E-1".into() };
    e.apply(&Command::RecordExternalOrder { seller: "e".into(), id: "m.o1".into(), outcome }, T0 + 3 * MIN).unwrap();
    e.apply(&quotes(T0 + 3 * MIN, vec![quote("k", Some(100), 4)]), T0 + 3 * MIN).unwrap();
    let stock = e.sku("e", "k").unwrap().stock;
    assert_eq!((stock[0].quantity, stock[0].reserved), (Some(6), 2));
    assert_eq!(offer(&e).quantity, Some(4));
    // Cancelled: the placed units count no more (E gets them back with its cancel).
    e.apply(&Command::CancelOrder { account: "m".into(), id: "o1".into() }, T0 + 4 * MIN).unwrap();
    e.apply(&quotes(T0 + 4 * MIN, vec![quote("k", Some(100), 6)]), T0 + 4 * MIN).unwrap();
    assert_eq!(e.sku("e", "k").unwrap().stock[0].quantity, Some(6));
    e.check_invariants().unwrap();
}

#[test]
fn a_quote_past_its_ttl_is_stale_at_its_source_only() {
    let mut e = network();
    // A second marketplace `n` sells `m`'s SKU on, with `e`'s stock authorised for resale.
    for c in [
        account("n", "BRL"),
        Command::PatchAffiliation {
            seller: "e".into(),
            marketplace: "m".into(),
            body: Box::new(AffiliationBody {
                resale: Some(WordOrList::Word("all".into())),
                require_own_stock: Some(false),
                ..Default::default()
            }),
        },
        Command::PutAffiliation {
            seller: "m".into(),
            marketplace: "n".into(),
            body: Box::new(AffiliationBody {
                trade_policy: Some("1".into()),
                require_own_stock: Some(false),
                ..Default::default()
            }),
        },
        Command::PutSeller { marketplace: "n".into(), seller: "m".into(), body: SellerBody::default() },
        Command::PutPrice {
            account: "m".into(),
            sku: "e-k".into(),
            body: PriceBody { price: Some(150), ..Default::default() },
        },
    ] {
        e.apply(&c, T0).unwrap();
    }
    e.apply(&quotes(T0, vec![quote("k", Some(100), 5)]), T0).unwrap();
    let at_n = |e: &Engine| e.offers_for_sku("n", "m-e-k").unwrap()[0].clone();
    assert!(offer(&e).sellable && at_n(&e).sellable && at_n(&e).quantity == Some(5));
    let due = e.next_quote_expiry_ms().unwrap();
    assert!(e.apply(&Command::ExpireQuotes {}, due - 1).unwrap().is_empty(), "not yet");
    let events = e.apply(&Command::ExpireQuotes {}, due).unwrap();
    assert!(events.iter().any(|ev| matches!(ev.body, EventBody::OfferChanged { .. })));
    assert_eq!(offer(&e).reasons, vec!["quote_stale"]);
    assert_eq!(e.next_quote_expiry_ms(), None);
    // Downstream, `e` no longer counts: out of stock at `n`, and no `quote_stale` there.
    assert_eq!(at_n(&e).reasons, vec!["out_of_stock"]);
    let x = e.explain("n", "m-e-k").unwrap();
    let source = &x.offers[0].path.sources[0];
    assert_eq!((source.account.as_ref(), source.included), ("e", false));
    assert!(source.reasons.iter().any(|r| r == "quote_stale"), "{:?}", source.reasons);
    // A later quote clears it; no price keeps both reasons in the stable order.
    e.apply(&quotes(due + 1, vec![quote("k", Some(100), 5)]), due + 1).unwrap();
    assert!(offer(&e).sellable && at_n(&e).sellable);
    e.check_invariants().unwrap();
}

#[test]
fn quote_stale_comes_after_no_price() {
    let mut e = network();
    e.apply(&quotes(T0, vec![quote("k", None, 0)]), T0).unwrap();
    e.apply(&Command::ExpireQuotes {}, T0 + 60 * MIN).unwrap();
    assert_eq!(offer(&e).reasons, vec!["no_price", "quote_stale", "out_of_stock"]);
}

#[test]
fn an_older_answer_does_not_replace_a_newer_quote_and_an_old_fetch_is_stale_at_once() {
    let mut e = network();
    e.apply(&quotes(T0 + 5 * MIN, vec![quote("k", Some(200), 2)]), T0 + 5 * MIN).unwrap();
    e.apply(&quotes(T0 + MIN, vec![quote("k", Some(100), 9)]), T0 + 6 * MIN).unwrap();
    let o = offer(&e);
    assert_eq!((o.price, o.quantity), (Some(200), Some(2)));
    // Fetched more than the TTL before it is applied: stored, and stale from the start.
    let late = T0 + 5 * MIN + 61 * MIN;
    e.apply(&quotes(T0 + 5 * MIN, vec![quote("k", Some(300), 1)]), late).unwrap();
    assert_eq!(offer(&e).reasons, vec!["quote_stale"]);
    assert_eq!(e.next_quote_expiry_ms(), None);
    e.check_invariants().unwrap();
}

#[test]
fn quotes_are_checked_whole_and_only_for_external_sellers() {
    let mut e = network();
    let bad = [
        (quotes(T0, vec![]), "quotes"),
        (quotes(T0, vec![quote("k", Some(1), 1), quote("k", Some(1), 1)]), "quotes[1].sku"),
        (quotes(T0, vec![quote("a/b", Some(1), 1)]), "quotes[0].sku"),
        (quotes(T0, vec![quote("k", Some(-1), 1)]), "quotes[0].price"),
        (quotes(T0, vec![quote("k", Some(1), -1)]), "quotes[0].available"),
        (quotes(T0, vec![QuoteBody { list_price: Some(5), ..quote("k", None, 1) }]), "quotes[0].list_price"),
        (quotes(T0, vec![QuoteBody { list_price: Some(5), ..quote("k", Some(6), 1) }]), "quotes[0].list_price"),
        (quotes(T0 + 2 * MIN, vec![quote("k", Some(1), 1)]), "fetched_ms"),
    ];
    for (c, field) in bad {
        assert_eq!(field_of(e.apply(&c, T0).unwrap_err()), field, "{c:?}");
    }
    let unknown = e.apply(&quotes(T0, vec![quote("k", Some(1), 1), quote("zz", Some(1), 1)]), T0).unwrap_err();
    assert!(matches!(unknown, DomainError::NotFound { missing: Missing::Sku, .. }), "{unknown}");
    assert_eq!(e.sku("e", "k").unwrap().price, None, "nothing of a refused command applies");
    let not_seller =
        Command::ApplySellerQuotes { seller: "m".into(), fetched_ms: T0, quotes: vec![quote("e-k", Some(1), 1)] };
    assert!(matches!(e.apply(&not_seller, T0).unwrap_err(), DomainError::Conflict { .. }));
}

#[test]
fn a_new_ttl_reconsiders_every_quote_and_deleting_forgets_them() {
    let mut e = network();
    e.apply(&quotes(T0, vec![quote("k", Some(100), 5)]), T0).unwrap();
    e.apply(&put("e", IntegrationBody { quote_ttl_minutes: Some(20), ..seller_body() }), T0 + 30 * MIN).unwrap();
    assert_eq!(offer(&e).reasons, vec!["quote_stale"], "past the shorter TTL at once");
    e.apply(&put("e", IntegrationBody { quote_ttl_minutes: Some(120), ..seller_body() }), T0 + 31 * MIN).unwrap();
    assert!(offer(&e).sellable);
    assert_eq!(e.next_quote_expiry_ms(), Some(T0 + 120 * MIN));
    e.apply(&Command::ExpireQuotes {}, T0 + 120 * MIN).unwrap();
    e.apply(&Command::DeleteIntegration { account: "e".into() }, T0 + 121 * MIN).unwrap();
    assert!(offer(&e).sellable, "no integration, no stale quote");
    assert!(!e.managed_externally("e", None));
    let again = e.apply(&Command::DeleteIntegration { account: "e".into() }, 0).unwrap_err();
    assert!(matches!(again, DomainError::NotFound { missing: Missing::Integration, .. }));
    assert!(e.warehouse("e", VTEX_WAREHOUSE).is_ok(), "the warehouse stays");
    e.check_invariants().unwrap();
}

#[test]
fn integrations_and_quotes_survive_a_snapshot_and_a_format_3_snapshot_still_reads() {
    let mut e = network();
    e.apply(&put("m", marketplace_body()), T0).unwrap();
    e.apply(&quotes(T0, vec![QuoteBody { valid_until_ms: Some(9), ..quote("k", Some(100), 5) }]), T0).unwrap();
    let bytes = e.snapshot_bytes();
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.integration("e").unwrap(), e.integration("e").unwrap());
    assert_eq!(copy.integration("m").unwrap(), e.integration("m").unwrap());
    assert_eq!(copy.seller_quotes("e").unwrap(), e.seller_quotes("e").unwrap());
    assert_eq!(copy.next_quote_expiry_ms(), e.next_quote_expiry_ms());
    assert!(copy.snapshot_matches(&bytes));
    copy.check_invariants().unwrap();
    // A format-3 snapshot is a format-6 one without the integration, VTEX, external order,
    // outbound, conflicts and follow-up e-mails sections (their counts, 4 + 12 + 4 + 12 + 4 + 4
    // bytes, all 0 here).
    let mut plain = Engine::default();
    plain.apply(&account("a", "BRL"), 0).unwrap();
    let mut v3 = plain.snapshot_bytes_kept_by(3);
    assert_eq!(v3.split_off(v3.len() - 40), [0u8; 40]);
    v3[8..12].copy_from_slice(&3u32.to_le_bytes());
    assert!(Engine::from_snapshot_bytes(EngineConfig::default(), &v3).is_ok());
    assert!(plain.snapshot_matches(&v3), "a format-3 snapshot of the same state matches");
    assert!(!e.snapshot_matches(&v3), "a state with an integration differs from it");
    let mut bad = bytes.clone();
    // The marketplace's role code comes before its two URLs (length-prefixed) and its dimensions,
    // then the VTEX, external orders, outbound, conflicts and follow-up e-mails sections (their
    // nine counts, 0 here: 36 bytes).
    let urls = ["https://v.vtexcommercestable.com.br/api", "https://api.vtex.com/v"].map(|u| 4 + u.len());
    assert_eq!(bad[bad.len() - 36..], [0u8; 36]);
    let role_at = bad.len() - 36 - 1 - urls[0] - urls[1] - 1;
    assert_eq!(bad[role_at], 1);
    bad[role_at] = 7;
    let err = Engine::from_snapshot_bytes(EngineConfig::default(), &bad).unwrap_err();
    assert!(err.contains("integration role"), "{err}");
}

#[test]
fn the_quote_worker_reads_external_sellers_and_bound_seller_skus() {
    let mut e = network();
    let ids = |e: &Engine| e.external_sellers().iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(ids(&e), ["e"]);
    assert!(e.seller_sku_bound("m", "e", "k"));
    assert!(!e.seller_sku_bound("m", "e", "ghost") && !e.seller_sku_bound("nobody", "e", "k"));
    assert!(!e.seller_sku_bound("e", "m", "k"), "m sells nothing at e");
    e.apply(&put("m", marketplace_body()), T0).unwrap();
    assert_eq!(ids(&e), ["e"], "a marketplace mirror is not asked for quotes");
    let deny = Command::DenySuggestion { marketplace: "m".into(), seller: "e".into(), seller_sku: "k".into() };
    e.apply(&deny, T0).unwrap();
    assert!(!e.seller_sku_bound("m", "e", "k"), "denied after approval: unbound");
    e.apply(&Command::DeleteIntegration { account: "e".into() }, T0).unwrap();
    assert!(ids(&e).is_empty());
}
