use crate::command::Command;
use crate::engine::{Engine, EngineConfig};

fn one_account() -> Engine {
    let mut e = Engine::default();
    let cmd = Command::CreateAccount { id: "a".into(), name: "A".into(), currency: "EUR".into(), token_hash: None };
    e.apply(&cmd, 0).unwrap();
    e
}

/// Byte 61 of a one-account snapshot is the code of trade policy `1`'s assortment: header
/// (8 magic + 4 format + 1 max_chain + 8 seq + 8 applied + 4 accounts), the account's id, name
/// and currency (4 + 1, 4 + 1, 4 + 3), no token (1), 1 trade policy (4), its id (4 + 1), no
/// name (1).
const ASSORTMENT_AT: usize = 61;

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
    // An option's code (the account's token hash) is refused the same way.
    let mut bytes = one_account().snapshot_bytes();
    let token_at = ASSORTMENT_AT - 1 - 5 - 4 - 1;
    bytes[token_at] = 2;
    let err = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap_err();
    assert_eq!(err, format!("unknown option code 2 at byte {token_at}"));
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

#[test]
fn a_snapshot_of_another_format_is_refused() {
    let mut bytes = one_account().snapshot_bytes();
    bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
    let err = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap_err();
    assert_eq!(err, format!("snapshot format 1, this build reads {}", super::SNAPSHOT_FORMAT));
}
