//! Google's product data specification (Merchant Center), as it applies to what offernet
//! knows of a SKU: which attributes an item gets, their formats and length limits, and the
//! issues that keep an item out (a required attribute missing or unusable) or change it (an
//! optional attribute shortened or left out). Lengths are in characters, as the specification
//! counts them.
//!
//! Not sent: `shipping` (sellers have no shipping profile yet; set shipping in Merchant
//! Center's account settings instead), `google_product_category` (Google infers it).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::{Availability, FeedChannel, FeedEntry, FeedItem};
use crate::model::{Price, Sku};

/// The specification's limits, in characters (URLs: ASCII characters).
pub struct Limits {
    pub id: usize,
    pub title: usize,
    pub description: usize,
    pub link: usize,
    pub additional_images: usize,
    pub brand: usize,
    pub mpn: usize,
    pub product_type: usize,
    pub item_group_id: usize,
}

pub const LIMITS: Limits = Limits {
    id: 50,
    title: 150,
    description: 5_000,
    link: 2_000,
    additional_images: 10,
    brand: 70,
    mpn: 70,
    product_type: 750,
    item_group_id: 50,
};

/// Why an item is left out or changed, for the merchant to fix (`GET …/feeds/{tp}/issues`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedIssue {
    /// The attribute concerned, as Google names it (`image_link`, `title`).
    pub attribute: &'static str,
    /// A stable code: `id_too_long`, `missing_description`, `missing_image`, `link_too_long`,
    /// `image_link_too_long` keep the item out; `title_truncated`, `description_truncated`,
    /// `product_type_shortened`, `brand_too_long`, `mpn_too_long`, `gtin_restricted`,
    /// `item_group_id_too_long`, `additional_image_link_too_long` change it.
    pub code: &'static str,
    /// Whether this issue keeps the item out of the feed.
    pub excluded: bool,
    pub message: String,
}

fn issue(attribute: &'static str, code: &'static str, excluded: bool, message: String) -> FeedIssue {
    FeedIssue { attribute, code, excluded, message }
}

/// An amount in a currency: integer minor units and the currency's exponent (ISO 4217), shown
/// as Google's price format, `123.45 BRL` (no floats anywhere).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Arc<str>,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = currency_exponent(&self.currency);
        let (sign, abs) = (if self.minor < 0 { "-" } else { "" }, self.minor.unsigned_abs());
        if e == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let unit = 10u64.pow(e);
        write!(f, "{sign}{}.{:0width$} {}", abs / unit, abs % unit, self.currency, width = e as usize)
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Digits after the decimal point of a currency's minor unit (ISO 4217). Accounts may use any
/// three capital letters; a code not listed here is taken to have two, like most currencies.
pub fn currency_exponent(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// `s` cut to at most `max` characters, and whether it was cut.
fn truncate(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((at, _)) => (s[..at].to_string(), true),
        None => (s.to_string(), false),
    }
}

/// Is this GTIN one Google refuses: restricted circulation (GTIN-13 prefixes 20–29, UPC
/// number systems 2 and 4, GTIN-8 starting with 0 or 2) or a coupon (98–99, UPC 5)?
/// `written` is the GTIN as given (its length tells GTIN-8 from a zero-padded longer one).
pub fn gtin_restricted(written: &str, gtin14: u64) -> bool {
    if written.len() == 8 {
        return matches!(written.as_bytes()[0], b'0' | b'2');
    }
    let d = format!("{gtin14:014}");
    d.as_bytes()[1] == b'2' || matches!(&d[1..3], "02" | "04" | "05" | "98" | "99")
}

/// A SKU's entry: its item from the chosen offer, or `None` with the issues keeping it out.
/// Long on purpose: one attribute after another, in the specification's order.
pub(super) fn entry(
    ch: &FeedChannel,
    sku: &Sku,
    availability: Availability,
    price: Price,
    (seller, seller_sku): (Arc<str>, Arc<str>),
) -> FeedEntry {
    let mut issues = Vec::new();
    let id = sku.id.clone();
    if id.chars().count() > LIMITS.id {
        let m = format!("Google allows ids of at most {} characters; this SKU id has {}", LIMITS.id, id.len());
        issues.push(issue("id", "id_too_long", true, m));
    }
    let (title, cut) = truncate(&sku.info.name, LIMITS.title);
    if cut {
        issues.push(issue(
            "title",
            "title_truncated",
            false,
            format!("the name is cut to {} characters", LIMITS.title),
        ));
    }
    let content = sku.info.content.as_deref();
    let description = match content.and_then(|c| c.description.as_deref()) {
        Some(d) => {
            let (d, cut) = truncate(d, LIMITS.description);
            if cut {
                let m = format!("the description is cut to {} characters", LIMITS.description);
                issues.push(issue("description", "description_truncated", false, m));
            }
            d
        }
        None => {
            let m = "Google requires a description: set the SKU's `description`".to_string();
            issues.push(issue("description", "missing_description", true, m));
            String::new()
        }
    };
    let link = ch.product_url.replace("{sku}", &id);
    if link.len() > LIMITS.link {
        let m = format!("the product URL for this SKU has {} characters; Google allows {}", link.len(), LIMITS.link);
        issues.push(issue("link", "link_too_long", true, m));
    }
    let images: &[Arc<str>] = content.map(|c| &c.images[..]).unwrap_or(&[]);
    let image_link = images.first().cloned();
    match &image_link {
        None => {
            let m = "Google requires an image: set the SKU's `images`".to_string();
            issues.push(issue("image_link", "missing_image", true, m));
        }
        Some(u) if u.len() > LIMITS.link => {
            let m = format!("the first image's URL has {} characters; Google allows {}", u.len(), LIMITS.link);
            issues.push(issue("image_link", "image_link_too_long", true, m));
        }
        Some(_) => {}
    }
    let mut additional_image_link = Vec::new();
    for u in images.iter().skip(1).take(LIMITS.additional_images) {
        if u.len() > LIMITS.link {
            let m = format!("an image URL of {} characters is left out; Google allows {}", u.len(), LIMITS.link);
            issues.push(issue("additional_image_link", "additional_image_link_too_long", false, m));
        } else {
            additional_image_link.push(u.clone());
        }
    }
    let brand = bounded(&mut issues, sku.info.brand.as_ref(), "brand", "brand_too_long", LIMITS.brand);
    let mpn = bounded(&mut issues, sku.info.ref_id.as_ref(), "mpn", "mpn_too_long", LIMITS.mpn);
    let gtin = match &sku.info.ean {
        Some((written, g14)) if gtin_restricted(written, *g14) => {
            let m = "restricted-circulation and coupon GTINs are refused by Google; the GTIN is left out".to_string();
            issues.push(issue("gtin", "gtin_restricted", false, m));
            None
        }
        Some((written, _)) => Some(written.clone()),
        None => None,
    };
    let identifiers = gtin.is_some() || (brand.is_some() && mpn.is_some());
    let product_type = sku.info.category.as_deref().map(|c| product_type(&mut issues, c));
    let item_group_id =
        bounded(&mut issues, sku.product_id.as_ref(), "item_group_id", "item_group_id_too_long", LIMITS.item_group_id);
    let money = |minor: i64| Money { minor, currency: ch.currency.clone() };
    let offer_price = price;
    let (price, sale_price) = match price.list_price {
        Some(list) if list > price.price => (money(list), Some(money(price.price))),
        _ => (money(price.price), None),
    };
    let item = FeedItem {
        id: id.clone(),
        title,
        description,
        link,
        image_link: image_link.unwrap_or_else(|| Arc::from("")),
        additional_image_link,
        availability,
        price,
        sale_price,
        brand,
        gtin,
        mpn,
        identifier_exists: (!identifiers).then_some("no"),
        condition: "new",
        product_type,
        item_group_id,
        seller,
        seller_sku,
    };
    let excluded = issues.iter().any(|i| i.excluded);
    let seller = item.seller.clone();
    FeedEntry { sku: id, availability, seller, price: offer_price, item: (!excluded).then_some(item), issues }
}

/// An optional identifier within `max` characters, or left out with an issue.
fn bounded(
    issues: &mut Vec<FeedIssue>,
    v: Option<&Arc<str>>,
    attribute: &'static str,
    code: &'static str,
    max: usize,
) -> Option<Arc<str>> {
    let v = v?;
    if v.chars().count() <= max {
        return Some(v.clone());
    }
    issues.push(issue(attribute, code, false, format!("longer than Google's {max} characters: left out")));
    None
}

/// The category path `a/b/c` as Google's `a > b > c`, its deepest segments dropped while it
/// is longer than the limit.
fn product_type(issues: &mut Vec<FeedIssue>, category: &str) -> String {
    let mut parts: Vec<&str> = category.split('/').collect();
    let mut s = parts.join(" > ");
    while s.chars().count() > LIMITS.product_type && parts.len() > 1 {
        parts.pop();
        s = parts.join(" > ");
    }
    if s.chars().count() > LIMITS.product_type {
        s = truncate(&s, LIMITS.product_type).0;
    }
    if parts.len() < category.split('/').count() || s.len() < category.len() {
        let m = format!("the category path is shortened to Google's {} characters", LIMITS.product_type);
        issues.push(issue("product_type", "product_type_shortened", false, m));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(minor: i64, c: &str) -> String {
        Money { minor, currency: Arc::from(c) }.to_string()
    }

    #[test]
    fn prices_use_the_currency_exponent() {
        assert_eq!(money(12345, "BRL"), "123.45 BRL");
        assert_eq!(money(5, "USD"), "0.05 USD");
        assert_eq!(money(0, "EUR"), "0.00 EUR");
        assert_eq!(money(12345, "JPY"), "12345 JPY");
        assert_eq!(money(12345, "KWD"), "12.345 KWD");
        assert_eq!(money(i64::MAX, "BRL"), "92233720368547758.07 BRL");
    }

    #[test]
    fn restricted_gtins_are_recognised() {
        let g = |s: &str| gtin_restricted(s, crate::gtin::parse_gtin(s).unwrap());
        assert!(!g("4006381333931"), "an ordinary EAN-13");
        assert!(!g("036000291452"), "an ordinary UPC");
        assert!(!g("9780306406157"), "an ISBN");
        assert!(g("2000000000008"), "GTIN-13 restricted circulation");
        assert!(g("200000000004"), "UPC number system 2");
        assert!(g("9900000000004"), "a coupon");
        assert!(g("02345673"), "GTIN-8 velocity code");
        assert!(!g("96385074"), "an ordinary GTIN-8");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("ééé", 2), ("éé".to_string(), true));
        assert_eq!(truncate("ab", 2), ("ab".to_string(), false));
        let mut issues = Vec::new();
        let long = vec!["x".repeat(300); 4].join("/");
        let t = product_type(&mut issues, &long);
        assert_eq!(t, vec!["x".repeat(300); 2].join(" > "));
        assert_eq!(issues[0].code, "product_type_shortened");
        assert_eq!(product_type(&mut Vec::new(), "a/b"), "a > b");
    }
}
