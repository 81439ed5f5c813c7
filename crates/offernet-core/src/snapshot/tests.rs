use crate::command::Command;
use crate::state::{Engine, EngineConfig};

fn one_account() -> Engine {
    let mut e = Engine::default();
    let cmd = Command::CreateAccount { id: "a".into(), name: "A".into(), currency: "EUR".into(), token_hash: None };
    e.apply(&cmd, 0).unwrap();
    e
}

/// Where a one-account snapshot's account begins its frame (its length, 8 bytes): after the
/// header (8 magic + 4 format + 1 max_chain + 8 seq + 8 applied), no brands or categories (4)
/// and 1 account (4).
const FRAME_AT: usize = 37;

/// Byte 76 of a one-account snapshot is the code of trade policy `1`'s assortment: the frame
/// (8), the account's id, name and currency (4 + 1, 4 + 1, 4 + 3), no tokens (4), 1 trade
/// policy (4), its id (4 + 1), no name (1).
const ASSORTMENT_AT: usize = FRAME_AT + 39;

#[test]
fn a_snapshot_round_trips() {
    let e = one_account();
    let bytes = e.snapshot_bytes();
    assert_eq!(bytes[ASSORTMENT_AT], super::ASSORTMENT_ALL);
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.snapshot_bytes(), bytes);
}

#[test]
fn an_unknown_code_is_refused_naming_code_and_position() {
    let mut bytes = one_account().snapshot_bytes();
    bytes[ASSORTMENT_AT] = 7;
    let err = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap_err();
    assert_eq!(err, format!("unknown assortment code 7 at byte {ASSORTMENT_AT}"));
    // An option's code (the trade policy's name) is refused the same way.
    let mut bytes = one_account().snapshot_bytes();
    let name_at = ASSORTMENT_AT - 1;
    bytes[name_at] = 2;
    let err = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap_err();
    assert_eq!(err, format!("unknown option code 2 at byte {name_at}"));
}

/// An account's tokens (the initial one, named ones, a revoked one gone) and its changed name
/// survive a snapshot: the copy answers the same and encodes to the same bytes.
#[test]
fn tokens_and_the_account_name_round_trip() {
    let hash = |c: char| c.to_string().repeat(64);
    let mut e = Engine::default();
    let cmds = [
        Command::CreateAccount {
            id: "a".into(),
            name: "A".into(),
            currency: "EUR".into(),
            token_hash: Some(hash('a')),
        },
        Command::CreateToken { account: "a".into(), id: "t1".into(), name: "ci".into(), token_hash: hash('b') },
        Command::CreateToken { account: "a".into(), id: "t2".into(), name: "shop 2026".into(), token_hash: hash('c') },
        Command::DeleteToken { account: "a".into(), id: "t1".into() },
        Command::PatchAccount {
            account: "a".into(),
            body: crate::AccountPatchBody { name: Some("Acme Store".into()) },
        },
    ];
    for (i, c) in cmds.iter().enumerate() {
        e.apply(c, 1_000 + i as u64).unwrap();
    }
    let bytes = e.snapshot_bytes();
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.snapshot_bytes(), bytes);
    let all = crate::Window { limit: 10, offset: 0 };
    assert_eq!(copy.list_tokens("a", all).unwrap().items, e.list_tokens("a", all).unwrap().items);
    let ids: Vec<_> = copy.list_tokens("a", all).unwrap().items.into_iter().map(|t| (t.id, t.created_ms)).collect();
    assert_eq!(ids, [("initial".into(), 1_000), ("t2".into(), 1_002)]);
    assert_eq!(copy.token_hash("a", "t2").as_deref(), Some(&*hash('c')));
    assert_eq!(copy.token_hash("a", "t1"), None);
    assert_eq!(&*copy.account("a").unwrap().name, "Acme Store");
}

/// SKU content (description, images, dimensions, with a measure left out) and a trade
/// policy's product URL survive a snapshot: the same bytes again, and the same reads.
#[test]
fn content_round_trips() {
    use crate::command::*;
    let mut e = one_account();
    let n = |s: &str| serde_json::from_str::<serde_json::Number>(s).unwrap();
    let body = SkuBody {
        name: Some("Kettle".into()),
        description: Some("Two lines\nof text".into()),
        images: Some(vec!["https://cdn.example/k1.jpg".into(), "https://cdn.example/k1b.jpg".into()]),
        dimensions: Some(DimensionsBody {
            height_cm: Some(n("20.5")),
            width_cm: None,
            length_cm: Some(n("30")),
            weight_g: Some(n("1250.25")),
        }),
        ..Default::default()
    };
    e.apply(&Command::PutSku { account: "a".into(), sku: "k1".into(), body: Box::new(body) }, 0).unwrap();
    let plain = SkuBody { name: Some("Plain".into()), ..Default::default() };
    e.apply(&Command::PutSku { account: "a".into(), sku: "k2".into(), body: Box::new(plain) }, 0).unwrap();
    let images_only =
        SkuBody { name: Some("Pic".into()), images: Some(vec!["https://a/1".into()]), ..Default::default() };
    e.apply(&Command::PutSku { account: "a".into(), sku: "k3".into(), body: Box::new(images_only) }, 0).unwrap();
    let tp = TradePolicyBody {
        assortment: Some(WordOrList::Word("all".into())),
        product_url: Some("https://shop.example/p/{sku}".into()),
        ..Default::default()
    };
    e.apply(&Command::PutTradePolicy { account: "a".into(), trade_policy: "web".into(), body: tp }, 0).unwrap();

    let bytes = e.snapshot_bytes();
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.snapshot_bytes(), bytes);
    for k in ["k1", "k2", "k3"] {
        assert_eq!(copy.sku("a", k).unwrap(), e.sku("a", k).unwrap());
    }
    let k1 = copy.sku("a", "k1").unwrap();
    assert_eq!(k1.description.as_deref(), Some("Two lines\nof text"));
    assert_eq!(k1.images.len(), 2);
    let d = serde_json::to_value(k1.dimensions.unwrap()).unwrap();
    assert_eq!(d, serde_json::json!({"height_cm": 20.5, "width_cm": null, "length_cm": 30, "weight_g": 1250.25}));
    assert!(copy.sku("a", "k2").unwrap().dimensions.is_none());
    assert_eq!(copy.trade_policy("a", "web").unwrap().product_url.as_deref(), Some("https://shop.example/p/{sku}"));
    assert_eq!(copy.trade_policy("a", "1").unwrap().product_url, None);
}

/// Formats 1 to 8 are read (1, 6 and 7 by `tests/snapshot_format1.rs` and
/// `tests/snapshot_formats.rs`, from real ones); one before or after them is refused, naming
/// it and the formats read.
#[test]
fn a_snapshot_of_another_format_is_refused() {
    for format in [0, super::SNAPSHOT_FORMAT + 1] {
        let mut bytes = one_account().snapshot_bytes();
        bytes[8..12].copy_from_slice(&format.to_le_bytes());
        let err = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap_err();
        assert_eq!(err, format!("snapshot format {format}, this build reads [1, 2, 3, 4, 5, 6, 7, 8]"));
    }
}

/// Format 8 frames each account by its length: a frame that passes the end of the snapshot
/// (naming the account), one that ends inside its account (which then reads as truncated) and
/// one its account does not fill (naming the account) are refused. (One account is decoded on
/// one thread whatever is asked; errors on several threads: the next test.)
#[test]
fn an_account_that_does_not_fill_its_frame_is_refused() {
    let bytes = one_account().snapshot_bytes();
    let len = u64::from_le_bytes(bytes[FRAME_AT..FRAME_AT + 8].try_into().unwrap());
    let framed = |n: u64| {
        let mut b = bytes.clone();
        b[FRAME_AT..FRAME_AT + 8].copy_from_slice(&n.to_le_bytes());
        b
    };
    let load = |b: Vec<u8>| Engine::from_snapshot_bytes(EngineConfig::default(), &b).unwrap_err();
    let past = bytes.len() as u64;
    assert_eq!(load(framed(past)), format!("account 0's frame of {past} bytes at byte 45 passes the end"));
    assert_eq!(load(framed(u64::MAX)), format!("account 0's frame of {} bytes at byte 45 passes the end", u64::MAX));
    assert!(load(framed(len - 1)).starts_with("snapshot truncated at byte "), "an account cut short");
    assert_eq!(load(framed(len + 1)), "account 0 leaves 1 of its frame's bytes unread");
    assert!(Engine::from_snapshot_bytes(EngineConfig::default(), &framed(len)).is_ok());
}

/// The state the commands of the format-6 and format-7 fixtures build (`tests/fixtures/`):
/// three accounts, chains of copies, one copy whose text diverged from its source's.
fn fixture_state() -> Engine {
    #[derive(serde::Deserialize)]
    struct Logged {
        now_ms: u64,
        command: Command,
    }
    let logged: Vec<Logged> = serde_json::from_str(include_str!("../../tests/fixtures/format6.commands.json")).unwrap();
    let mut e = Engine::default();
    for l in &logged {
        e.apply(&l.command, l.now_ms).unwrap();
    }
    e
}

/// Where each account of a format-8 snapshot begins (after its frame's length).
fn account_starts(bytes: &[u8]) -> Vec<usize> {
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let mut at = 8 + 4 + 1 + 8 + 8; // magic, format, max_chain, seq, applied
    let texts = u32_at(at);
    at += 4;
    for _ in 0..texts {
        at += 4 + u32_at(at);
    }
    let accounts = u32_at(at);
    at += 4;
    let mut starts = Vec::new();
    for _ in 0..accounts {
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
        starts.push(at + 8);
        at += 8 + len;
    }
    starts
}

/// Accounts decoded on several threads report the first error in account order: with the
/// assortment codes of the second and third of three accounts broken, the second's, on one
/// thread, two or three.
#[test]
fn the_first_broken_account_in_order_is_reported_whatever_the_threads() {
    let mut bytes = fixture_state().snapshot_bytes();
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    // Each account's first trade policy's assortment code: after its id, name and currency, no
    // tokens, one trade policy, its id `1` and no name.
    let codes: Vec<usize> = account_starts(&bytes)
        .into_iter()
        .map(|mut at| {
            for _ in 0..3 {
                at += 4 + u32_at(&bytes, at);
            }
            assert_eq!((u32_at(&bytes, at), u32_at(&bytes, at + 4)), (0, 1), "no tokens, one trade policy");
            at + 8 + 4 + 1 + 1
        })
        .collect();
    assert_eq!(codes.len(), 3);
    for &at in &codes[1..] {
        assert_eq!(bytes[at], super::ASSORTMENT_ALL);
        bytes[at] = 7;
    }
    for threads in [1, 2, 3] {
        let err = Engine::from_snapshot_bytes_on(EngineConfig::default(), &bytes, Some(threads)).unwrap_err();
        assert_eq!(err, format!("unknown assortment code 7 at byte {}", codes[1]), "{threads} threads");
    }
}

/// Format 4's VTEX section: a shipping profile, an affiliation's `remote_seller_id` and an
/// order's dates, external reference and document hash survive a snapshot; a format-3
/// snapshot (the same without the section) reads with none of them and matches a state that
/// has none.
#[test]
fn the_vtex_section_round_trips_and_format_3_still_reads() {
    use crate::command::{AffiliationBody, PriceBody, SellerBody, SkuBody, StockBody, WarehouseBody};
    use crate::orders::{ExternalRef, OrderBody, OrderItemBody};
    use crate::shipping::{ShippingBody, SlaBody};
    let mut e = Engine::new(EngineConfig::default());
    let s = |x: &str| x.to_string();
    let put = |e: &mut Engine, c: Command| e.apply(&c, 7).unwrap();
    for id in ["v", "s"] {
        put(&mut e, Command::CreateAccount { id: s(id), name: s(id), currency: s("BRL"), token_hash: None });
    }
    let plain = e.snapshot_bytes();
    let plain3 = e.snapshot_bytes_kept_by(3); // what format 3 keeps, laid out as format 3
    let sla = SlaBody {
        id: Some(s("Normal")),
        name: Some(s("Normal")),
        price: Some(1000),
        shipping_estimate: Some(s("3bd")),
    };
    let body = ShippingBody { ships_to: Some(vec![s("BRA")]), slas: Some(vec![sla]) };
    put(&mut e, Command::PutShippingProfile { account: s("s"), body });
    put(
        &mut e,
        Command::PutSku {
            account: s("s"),
            sku: s("k"),
            body: Box::new(SkuBody { name: Some(s("K")), ..Default::default() }),
        },
    );
    put(
        &mut e,
        Command::PutPrice { account: s("s"), sku: s("k"), body: PriceBody { price: Some(100), ..Default::default() } },
    );
    put(&mut e, Command::PutWarehouse { account: s("s"), warehouse: s("w"), body: WarehouseBody::default() });
    let stock = StockBody { quantity: Some(3), unlimited: None };
    put(&mut e, Command::PutStock { account: s("s"), warehouse: s("w"), sku: s("k"), body: stock });
    let aff = AffiliationBody { trade_policy: Some(s("1")), remote_seller_id: Some(s("01")), ..Default::default() };
    put(&mut e, Command::PutAffiliation { seller: s("s"), marketplace: s("v"), body: Box::new(aff) });
    put(&mut e, Command::PutSeller { marketplace: s("v"), seller: s("s"), body: SellerBody::default() });
    let order = OrderBody {
        id: Some(s("o1")),
        items: Some(vec![OrderItemBody { sku: Some(s("s-k")), quantity: Some(1), seller: Some(s("s")) }]),
        reservation_minutes: Some(60),
        max_prices: Some(vec![100]),
        external_ref: Some(Box::new(ExternalRef { marketplace_order_id: Some(s("A.1")), services_endpoint: None })),
        document_sha256: Some("ab".repeat(32)),
    };
    put(&mut e, Command::PlaceOrder { marketplace: s("v"), body: order });
    e.apply(&Command::AuthorizeOrder { marketplace: s("v"), id: s("o1") }, 9).unwrap();
    e.apply(&Command::CancelOrder { account: s("v"), id: s("o1") }, 11).unwrap();
    let bytes = e.snapshot_bytes();
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.snapshot_bytes(), bytes);
    assert_eq!(copy.shipping_profile("s").unwrap(), e.shipping_profile("s").unwrap());
    assert_eq!(copy.affiliation("s", "v").unwrap().remote_seller_id.as_deref(), Some("01"));
    let o = copy.order("v", "o1").unwrap();
    assert_eq!((&o["authorized_ms"], &o["closed_ms"]), (&serde_json::json!(9), &serde_json::json!(11)));
    assert_eq!(o["external_ref"]["marketplace_order_id"], "A.1");
    assert_eq!(o["expires_ms"], 7 + 3_600_000);
    // Format 3: those bytes without the integrations, the VTEX, the external orders, the
    // outbound, the conflicts and the follow-up e-mails sections (ten counts, all 0 for `plain`).
    let mut v3 = plain3.clone();
    assert_eq!(v3.split_off(v3.len() - 40), [0u8; 40]);
    v3[8..12].copy_from_slice(&3u32.to_le_bytes());
    let old = Engine::from_snapshot_bytes(EngineConfig::default(), &v3).unwrap();
    assert_eq!(old.snapshot_bytes(), plain);
    let replayed = Engine::from_snapshot_bytes(EngineConfig::default(), &plain).unwrap();
    assert!(replayed.snapshot_matches(&v3), "a format-3 snapshot of the same state matches");
    assert!(!e.snapshot_matches(&v3), "a state with VTEX data differs from it");
}

/// Loading shares brands and categories as `put_sku` does (one `Arc` per distinct text, taken
/// as each SKU is read): the restored engine holds the same bytes and no more copies of text.
#[test]
fn brands_and_categories_are_shared_again_on_load() {
    use crate::command::*;
    use std::sync::Arc;
    let mut e = one_account();
    for (sku, brand) in [("k1", "Acme"), ("k2", "Acme"), ("k3", "Other")] {
        let body = SkuBody {
            name: Some(sku.into()),
            brand: Some(brand.into()),
            category: Some("Home".into()),
            ..Default::default()
        };
        e.apply(&Command::PutSku { account: "a".into(), sku: sku.into(), body: Box::new(body) }, 0).unwrap();
    }
    let bytes = e.snapshot_bytes();
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.snapshot_bytes(), bytes);
    let skus = &copy.accounts[0].skus;
    let text = |i: usize| (skus[i].info.brand.clone().unwrap(), skus[i].info.category.clone().unwrap());
    let ((b1, c1), (b2, c2), (b3, c3)) = (text(0), text(1), text(2));
    assert!(Arc::ptr_eq(&b1, &b2), "one Acme");
    assert!(!Arc::ptr_eq(&b1, &b3));
    assert!(Arc::ptr_eq(&c1, &c2) && Arc::ptr_eq(&c1, &c3), "one Home");
}

/// Format 7 writes a copy's text once per chain of copies; loaded, every copy whose text is its
/// source's shares it (one block per chain), and a copy whose text diverged keeps its own.
#[test]
fn copies_share_their_source_text_after_a_load() {
    use std::sync::Arc;
    let e = fixture_state();
    let bytes = e.snapshot_bytes();
    for threads in [1, 2] {
        assert_eq!(e.snapshot_bytes_on(Some(threads)), bytes, "encoded on {threads} threads");
        let copy = Engine::from_snapshot_bytes_on(EngineConfig::default(), &bytes, Some(threads)).unwrap();
        assert_eq!(copy.snapshot_bytes(), bytes);
        let mut copies = 0;
        for a in &copy.accounts {
            for k in &a.skus {
                let Some((s, ss)) = k.created_from else { continue };
                copies += 1;
                let src = &copy.accounts[s.ix()].skus[ss.ix()];
                assert_eq!(Arc::ptr_eq(&k.info, &src.info), *k.info == *src.info, "{}", k.id);
            }
        }
        assert_eq!(copies, 6);
        let sku = |a: &str, id: &str| {
            let acct = copy.accounts.iter().find(|x| &*x.id == a).unwrap();
            acct.skus.iter().find(|k| &*k.id == id).unwrap().info.clone()
        };
        assert!(Arc::ptr_eq(&sku("sel", "k1"), &sku("top", "mid-sel-k1")), "one text for the chain");
        assert!(!Arc::ptr_eq(&sku("sel", "k3"), &sku("mid", "sel-k3")), "the renamed source");
        assert!(Arc::ptr_eq(&sku("mid", "sel-k3"), &sku("top", "mid-sel-k3")));
        // The matching indexes hold the copies' GTINs again (built once every SKU has its text).
        assert_eq!(copy.accounts.iter().find(|x| &*x.id == "top").unwrap().gtin_index.len(), 1);
    }
}

/// A brand or category that is not in format 7's table is refused, naming its position.
#[test]
fn a_text_not_in_the_table_is_refused() {
    use crate::command::*;
    let mut e = one_account();
    let body = SkuBody { name: Some("k".into()), brand: Some("Acme".into()), ..Default::default() };
    e.apply(&Command::PutSku { account: "a".into(), sku: "k".into(), body: Box::new(body) }, 0).unwrap();
    let bytes = e.snapshot_bytes();
    // The table holds one text ("Acme"); the SKU (id "k", no product id, its own text, name
    // "k") names it as 1, just after its name. Name it as 2.
    let id = bytes.windows(5).position(|w| w == b"\x01\x00\x00\x00k").unwrap();
    let at = id + 5 + 1 + 1 + 5;
    assert_eq!(bytes[at..at + 4], 1u32.to_le_bytes());
    let mut b = bytes.clone();
    b[at..at + 4].copy_from_slice(&2u32.to_le_bytes());
    let err = Engine::from_snapshot_bytes(EngineConfig::default(), &b).unwrap_err();
    assert_eq!(err, format!("text 2 at byte {at} is not in the table"));
}

/// The load's work is cut into consecutive ranges that cover every account once, in order.
#[test]
fn work_is_split_into_consecutive_ranges_covering_everything() {
    use super::load::split_balanced;
    for weights in [vec![], vec![0, 0], vec![5, 1, 1, 1, 5], vec![1; 10], vec![100, 1, 1], vec![1, 1, 100]] {
        for parts in 1..5 {
            let ranges = split_balanced(weights.iter().copied(), parts);
            assert!(!ranges.is_empty() && ranges.len() <= parts.max(1), "{weights:?} {parts}: {ranges:?}");
            let covered: Vec<usize> = ranges.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(covered, (0..weights.len()).collect::<Vec<_>>(), "{weights:?} {parts}: {ranges:?}");
        }
    }
    assert_eq!(split_balanced([1usize; 10].into_iter(), 2), [0..5, 5..10]);
}

/// A copy with stock of its own sends on like any origin, so chains of copies have no bound: a
/// SKU copied down a line of ten accounts is nine copies deep, all with its text. It loads (every
/// copy shares the one text) and encodes to the same bytes, on one thread and on several.
#[test]
fn a_chain_of_copies_longer_than_any_chain_of_accounts_loads() {
    use crate::command::*;
    use std::sync::Arc;
    let mut e = Engine::default();
    let id = |i: usize| format!("x{i}");
    let apply = |e: &mut Engine, c: Command| e.apply(&c, 0).unwrap_or_else(|err| panic!("{c:?}: {err:?}"));
    for i in 0..10 {
        apply(&mut e, Command::CreateAccount { id: id(i), name: id(i), currency: "EUR".into(), token_hash: None });
        apply(&mut e, Command::PutWarehouse { account: id(i), warehouse: "w".into(), body: Default::default() });
    }
    for i in 0..9 {
        let body = SellerBody { match_mode: Some("auto".into()), ..Default::default() };
        apply(&mut e, Command::PutSeller { marketplace: id(i + 1), seller: id(i), body });
        let aff = AffiliationBody { trade_policy: Some("1".into()), ..Default::default() };
        apply(&mut e, Command::PutAffiliation { seller: id(i), marketplace: id(i + 1), body: Box::new(aff) });
    }
    let body = SkuBody { name: Some("Kettle".into()), brand: Some("Acme".into()), ..Default::default() };
    apply(&mut e, Command::PutSku { account: id(0), sku: "k".into(), body: Box::new(body) });
    // Stock on each copy as it appears makes it an origin: it is sent on and copied again.
    let mut sku = "k".to_string();
    for i in 0..10 {
        let stock = StockBody { quantity: Some(5), unlimited: None };
        apply(&mut e, Command::PutStock { account: id(i), warehouse: "w".into(), sku: sku.clone(), body: stock });
        sku = format!("{}-{sku}", id(i));
    }
    let last = &e.accounts[9];
    let mut depth = 0;
    let mut from = last.skus.iter().find(|k| k.created_from.is_some()).expect("x9 holds a copy").created_from;
    while let Some((s, ss)) = from {
        depth += 1;
        from = e.accounts[s.ix()].skus[ss.ix()].created_from;
    }
    assert_eq!(depth, 9, "copies of copies down the line");
    let bytes = e.snapshot_bytes();
    for threads in [1, 3] {
        let copy = Engine::from_snapshot_bytes_on(EngineConfig::default(), &bytes, Some(threads)).unwrap();
        assert_eq!(copy.snapshot_bytes(), bytes);
        let text = &copy.accounts[0].skus[0].info;
        assert!(copy.accounts.iter().all(|a| a.skus.iter().all(|k| Arc::ptr_eq(&k.info, text))), "one text");
    }
}
