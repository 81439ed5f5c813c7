//! Product feeds as documents: the documents' example (Seller A -> Marketplace A ->
//! Marketplace B) rendered as Google's XML and TSV and compared with golden files
//! (`tests/golden/`; `OFFERNET_UPDATE_GOLDEN=1` rewrites them), every XML document parsed with
//! a real XML parser (roxmltree) and each item checked against the product data
//! specification's required attributes and formats, and hostile text (`&`, `<`, control
//! characters, long strings) kept well-formed and within the limits.

use std::path::PathBuf;

use offernet_core::{Command, Engine, EngineConfig};
use offernet_server::feeds::{document, xml::G_NAMESPACE, Format};
use serde_json::{json, Value};

fn apply(e: &mut Engine, cmd: Value) {
    let c: Command = serde_json::from_value(cmd.clone()).unwrap_or_else(|err| panic!("{cmd}: {err}"));
    e.apply(&c, 0).unwrap_or_else(|err| panic!("{cmd}: {err}"));
}

/// The documents' example up to stage 3 (B sees Marketplace A's stock and Seller A's), with
/// content on the seller's SKU and product URLs on both marketplaces' trade policy 1.
fn example() -> Engine {
    let mut e = Engine::new(EngineConfig::default());
    for (id, name) in [("seller-a", "Seller A"), ("marketplace-a", "Marketplace A"), ("marketplace-b", "Marketplace B")]
    {
        apply(&mut e, json!({"type": "create_account", "id": id, "name": name, "currency": "BRL"}));
    }
    let shoe = json!({"name": "Running shoe", "brand": "Acme", "ean": "4006381333931", "ref_id": "RS-1",
        "product_id": "shoe", "category": "Shoes/Running",
        "description": "Light running shoe & <cushioned> sole.\nSizes 38-44.",
        "images": ["https://cdn.example/shoe/front.jpg", "https://cdn.example/shoe/side,left.jpg"]});
    apply(&mut e, json!({"type": "put_sku", "account": "seller-a", "sku": "shoe-1", "body": shoe}));
    apply(
        &mut e,
        json!({"type": "put_price", "account": "seller-a", "sku": "shoe-1", "body": {"price": 10000, "list_price": 12000}}),
    );
    apply(
        &mut e,
        json!({"type": "put_warehouse", "account": "seller-a", "warehouse": "main", "body": {"trade_policies": ["1"]}}),
    );
    apply(
        &mut e,
        json!({"type": "put_stock", "account": "seller-a", "warehouse": "main", "sku": "shoe-1", "body": {"quantity": 10}}),
    );
    for m in ["marketplace-a", "marketplace-b"] {
        let url = format!("https://{m}.example/p/{{sku}}?src=feed&tp=1");
        apply(
            &mut e,
            json!({"type": "put_trade_policy", "account": m, "trade_policy": "1", "body": {"name": "Web", "assortment": "all", "product_url": url}}),
        );
    }
    apply(
        &mut e,
        json!({"type": "put_affiliation", "seller": "seller-a", "marketplace": "marketplace-a", "body": {"trade_policy": "1", "resale": ["marketplace-b"]}}),
    );
    apply(&mut e, json!({"type": "put_seller", "marketplace": "marketplace-a", "seller": "seller-a", "body": {}}));
    apply(
        &mut e,
        json!({"type": "put_affiliation", "seller": "marketplace-a", "marketplace": "marketplace-b", "body": {"trade_policy": "1"}}),
    );
    apply(&mut e, json!({"type": "put_seller", "marketplace": "marketplace-b", "seller": "marketplace-a", "body": {}}));
    apply(
        &mut e,
        json!({"type": "put_price", "account": "marketplace-a", "sku": "seller-a-shoe-1", "body": {"price": 11000}}),
    );
    apply(&mut e, json!({"type": "put_warehouse", "account": "marketplace-a", "warehouse": "store", "body": {}}));
    apply(
        &mut e,
        json!({"type": "put_stock", "account": "marketplace-a", "warehouse": "store", "sku": "seller-a-shoe-1", "body": {"quantity": 3}}),
    );
    e
}

fn golden(name: &str, got: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("OFFERNET_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(got, want, "{name} differs from its golden file (OFFERNET_UPDATE_GOLDEN=1 rewrites it)");
}

/// Parses `xml` and checks every item against the specification; answers the items as
/// (attribute → values) maps.
fn items(xml: &str) -> Vec<Vec<(String, String)>> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{xml}"));
    let rss = doc.root_element();
    assert_eq!((rss.tag_name().name(), rss.attribute("version")), ("rss", Some("2.0")));
    let channel = rss.children().find(|n| n.has_tag_name("channel")).expect("a channel");
    for required in ["title", "link", "description"] {
        assert!(channel.children().any(|n| n.has_tag_name(required)), "channel {required}");
    }
    let mut all = Vec::new();
    for item in channel.children().filter(|n| n.has_tag_name("item")) {
        let attrs: Vec<(String, String)> = item
            .children()
            .filter(|n| n.is_element())
            .map(|n| {
                assert_eq!(n.tag_name().namespace(), Some(G_NAMESPACE), "every attribute in the g: namespace");
                (n.tag_name().name().to_string(), n.text().unwrap_or("").to_string())
            })
            .collect();
        check_item(&attrs);
        all.push(attrs);
    }
    all
}

fn one<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut it = attrs.iter().filter(|(k, _)| k == name);
    let v = it.next().map(|(_, v)| v.as_str());
    assert!(name == "additional_image_link" || it.next().is_none(), "{name} given twice");
    v
}

/// The specification's required attributes, formats and limits.
fn check_item(attrs: &[(String, String)]) {
    let chars = |name: &str| one(attrs, name).map_or(0, |v| v.chars().count());
    for required in ["id", "title", "description", "link", "image_link", "availability", "price", "condition"] {
        assert!(one(attrs, required).is_some_and(|v| !v.trim().is_empty()), "{required} missing in {attrs:?}");
    }
    assert!(chars("id") <= 50 && chars("title") <= 150 && chars("description") <= 5000);
    assert!(chars("brand") <= 70 && chars("mpn") <= 70 && chars("product_type") <= 750 && chars("item_group_id") <= 50);
    for (k, v) in attrs.iter().filter(|(k, _)| k.ends_with("link")) {
        assert!(v.starts_with("https://") && v.len() <= 2000 && v.is_ascii() && !v.contains(' '), "{k}: {v}");
    }
    assert!(attrs.iter().filter(|(k, _)| k == "additional_image_link").count() <= 10);
    assert!(matches!(one(attrs, "availability"), Some("in_stock" | "out_of_stock")));
    assert_eq!(one(attrs, "condition"), Some("new"));
    let price_ok = |p: &str| {
        let (n, cur) = p.split_once(' ').expect("`amount CUR`");
        let (whole, frac) = n.split_once('.').unwrap_or((n, ""));
        cur.len() == 3
            && cur.bytes().all(|b| b.is_ascii_uppercase())
            && !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
    };
    assert!(price_ok(one(attrs, "price").unwrap()), "{attrs:?}");
    if let Some(sale) = one(attrs, "sale_price") {
        assert!(price_ok(sale));
        let minor = |p: &str| p.split(' ').next().unwrap().replace('.', "").parse::<u64>().unwrap();
        assert!(minor(sale) < minor(one(attrs, "price").unwrap()), "a sale price is below the price");
    }
    if let Some(g) = one(attrs, "gtin") {
        assert!(matches!(g.len(), 8 | 12 | 13 | 14) && g.bytes().all(|b| b.is_ascii_digit()));
    }
    let identifiers = one(attrs, "gtin").is_some() || (one(attrs, "brand").is_some() && one(attrs, "mpn").is_some());
    assert_eq!(one(attrs, "identifier_exists") == Some("no"), !identifiers, "identifier_exists: {attrs:?}");
}

#[test]
fn the_documents_example_matches_its_golden_feeds() {
    let mut e = example();
    let a = document(&e, "marketplace-a", "1", Format::Xml).unwrap();
    golden("marketplace-a.xml", &a);
    let got = items(&a);
    assert_eq!(got.len(), 1);
    assert_eq!(one(&got[0], "price"), Some("120.00 BRL"), "the list price is Google's price");
    assert_eq!(one(&got[0], "sale_price"), Some("100.00 BRL"));
    golden("marketplace-a.tsv", &document(&e, "marketplace-a", "1", Format::Tsv).unwrap());
    let b = document(&e, "marketplace-b", "1", Format::Xml).unwrap();
    let got = items(&b);
    assert_eq!((one(&got[0], "availability"), one(&got[0], "price")), (Some("in_stock"), Some("110.00 BRL")));

    // The stock rule holds in the feed: Marketplace A sells out, its gate closes, and B's item
    // is out of stock (Seller A's units are not listed as B's).
    let cmd = json!({"type": "put_stock", "account": "marketplace-a", "warehouse": "store", "sku": "seller-a-shoe-1", "body": {"quantity": 0}});
    apply(&mut e, cmd);
    let b = document(&e, "marketplace-b", "1", Format::Xml).unwrap();
    golden("marketplace-b-gated.xml", &b);
    assert_eq!(one(&items(&b)[0], "availability"), Some("out_of_stock"));
}

#[test]
fn hostile_text_stays_well_formed_and_within_limits() {
    let mut e = example();
    // Control characters are refused by the engine since rules version 2 (older journals may
    // hold them: `control_characters_from_old_journals_are_dropped`); the rest goes through.
    let hostile = "Tom & Jerry <script>alert(\"x\")</script> ]]> é ☕ \u{202f}'quoted'";
    let long_name = format!("{hostile} {}", "ж".repeat(400));
    let long_description = format!("{hostile}\n\t{}", "word ".repeat(1900));
    let body = json!({"name": long_name, "brand": "B".repeat(80), "ean": "4006381333931",
        "ref_id": "M".repeat(64), "category": vec!["Cat & <Dog>"; 70].join("/"),
        "description": long_description,
        "images": ["https://cdn.example/a.jpg?x=1&y=<2>", "https://cdn.example/b,c.jpg"]});
    apply(&mut e, json!({"type": "put_sku", "account": "marketplace-a", "sku": "seller-a-shoe-1", "body": body}));
    let xml = document(&e, "marketplace-a", "1", Format::Xml).unwrap();
    let got = items(&xml);
    let title = one(&got[0], "title").unwrap();
    assert!(title.starts_with("Tom & Jerry <script>") && title.chars().count() == 150, "{title}");
    assert_eq!(one(&got[0], "brand"), None, "a brand over 70 characters is left out");
    assert_eq!(one(&got[0], "gtin"), Some("4006381333931"));
    assert!(one(&got[0], "description").unwrap().chars().count() == 5000);
    let tsv = document(&e, "marketplace-a", "1", Format::Tsv).unwrap();
    let lines: Vec<&str> = tsv.lines().collect();
    assert_eq!(lines.len(), 2, "one header, one item: no line break inside a value");
    assert!(lines.iter().all(|l| l.split('\t').count() == 16));
    assert!(lines[1].contains("https://cdn.example/b%2Cc.jpg"), "a comma in an image URL is encoded");
    let jsonl = document(&e, "marketplace-a", "1", Format::JsonLines).unwrap();
    let line: Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    let codes: Vec<&str> = line["issues"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["title_truncated", "description_truncated", "brand_too_long", "product_type_shortened"]);
}

#[test]
fn control_characters_from_old_journals_are_dropped() {
    use offernet_server::feeds::xml::clean;
    assert_eq!(clean("a\u{1}b\u{8}c\td\ne\u{fffe}f"), "abc\td\nef");
    let xml = format!("<a>{}</a>", quick_xml::escape::escape(clean("x\u{1}<&>\"'").as_ref()));
    assert_eq!(roxmltree::Document::parse(&xml).unwrap().root_element().text(), Some("x<&>\"'"));
}

#[test]
fn items_missing_what_google_requires_are_left_out_with_their_issues() {
    let mut e = example();
    let body = json!({"name": "Bare", "brand": "Acme"});
    apply(&mut e, json!({"type": "put_sku", "account": "marketplace-a", "sku": "seller-a-shoe-1", "body": body}));
    assert!(items(&document(&e, "marketplace-a", "1", Format::Xml).unwrap()).is_empty());
    let jsonl = document(&e, "marketplace-a", "1", Format::JsonLines).unwrap();
    let line: Value = serde_json::from_str(jsonl.trim()).unwrap();
    assert_eq!(line["item"], Value::Null);
    let codes: Vec<&str> = line["issues"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["missing_description", "missing_image"]);
    // Without a product URL there is no feed at all: 409 naming what to set.
    let cmd = json!({"type": "put_trade_policy", "account": "marketplace-a", "trade_policy": "1", "body": {"assortment": "all"}});
    apply(&mut e, cmd);
    let err = document(&e, "marketplace-a", "1", Format::Xml).unwrap_err();
    assert!(err.to_string().contains("product_url"), "{err}");
}
