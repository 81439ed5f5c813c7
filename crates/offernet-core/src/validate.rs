//! Input checks shared by every command: ids, names, limits. Each limit is a named
//! constant with the reason it exists.

use crate::error::{DomainError, Result};

/// Account ids: short, lowercase, URL-safe, and immutable (they appear in SKU ids created
/// from suggestions, `{S}-{s}`, so they must stay small).
pub const MAX_ACCOUNT_ID_LEN: usize = 50;
/// SKU, trade policy and warehouse ids (domain rule 1): fit in a URL path segment.
pub const MAX_ITEM_ID_LEN: usize = 64;
/// Free text (names, brands, categories, product and ref ids): long enough for any real
/// catalog, short enough that one request cannot balloon memory.
pub const MAX_TEXT_LEN: usize = 1_000;
/// Largest stock quantity of one warehouse and SKU: 10^12 units. Sums over many chains
/// stay far from u64 overflow, and no real stock comes near it.
pub const MAX_QUANTITY: i64 = 1_000_000_000_000;
/// Largest price in minor units (10^15, i.e. 10 trillion in a two-decimal currency).
pub const MAX_PRICE: i64 = 1_000_000_000_000_000;
/// Entries of an assortment list: a trade policy that lists more should use `all`.
pub const MAX_ASSORTMENT_LEN: usize = 100_000;
/// Accounts named in a resale list, and trade policies in a registration.
pub const MAX_LIST_LEN: usize = 1_000;
/// Ids held in all of one account's lists together (assortments and resale lists). Each id
/// costs about 70 bytes in memory by estimate (the shared string, its slot in the list and in
/// the lookup set), so this bounds one account's lists at about 15 MB; without it the per-list
/// limits allowed about 7 GB per account (the review that found it measured about 7 MB per
/// 100,000-id list) (1,000 trade policies of 100,000 ids). Trade-policy lists of
/// warehouses and registrations hold 4-byte indices, deduplicated, and are not counted.
pub const MAX_ACCOUNT_LIST_IDS: usize = 200_000;
/// Basis points: 10,000 is 100 %.
pub const MAX_COMMISSION_BP: i64 = 10_000;
/// Trade policies and warehouses per account: the engine keeps them in small vectors.
pub const MAX_TRADE_POLICIES: usize = 1_000;
pub const MAX_WAREHOUSES: usize = 1_000;
/// A SKU's description, in characters (the OpenAPI `maxLength`): a long product text, about
/// 40 KB at most in memory, so that a page of 1,000 SKUs stays a few tens of megabytes.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Images of one SKU: what a channel's product page shows.
pub const MAX_IMAGES: usize = 10;
/// An image URL or a product URL template, in characters (ASCII only, so also bytes): the
/// length browsers and CDNs accept everywhere.
pub const MAX_URL_LEN: usize = 2_048;
/// Largest height, width or length of a packed item: 10,000 cm (100 m).
pub const MAX_SIZE_CM: u64 = 10_000;
/// Largest weight of a packed item: 100,000,000 g (100 t).
pub const MAX_WEIGHT_G: u64 = 100_000_000;

pub fn account_id(field: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_ACCOUNT_ID_LEN {
        return Err(DomainError::invalid(field, format!("an account id has 1 to {MAX_ACCOUNT_ID_LEN} characters")));
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(DomainError::invalid(field, "an account id has only a-z, 0-9 and -"));
    }
    Ok(())
}

/// Longest seller id at an external (VTEX) marketplace (VTEX seller ids are short; 50 is the
/// design's bound, vtex-compat.md §2.1).
pub const MAX_REMOTE_SELLER_ID_LEN: usize = 50;

/// A seller's id at an external marketplace: 1 to 50 of `A-Z a-z 0-9 _ -`.
pub fn remote_seller_id(field: &str, s: &str) -> Result<()> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-');
    if s.is_empty() || s.len() > MAX_REMOTE_SELLER_ID_LEN || !s.bytes().all(ok) {
        return Err(DomainError::invalid(
            field,
            format!("1 to {MAX_REMOTE_SELLER_ID_LEN} of A-Z, a-z, 0-9, '_' and '-'"),
        ));
    }
    Ok(())
}

/// SKU, trade policy and warehouse ids: 1 to 64 of `A-Z a-z 0-9 . _ -`, not dots only.
pub fn item_id(field: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_ITEM_ID_LEN {
        return Err(DomainError::invalid(field, format!("an id has 1 to {MAX_ITEM_ID_LEN} characters")));
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return Err(DomainError::invalid(field, "an id has only A-Z, a-z, 0-9, '.', '_' and '-'"));
    }
    if s.bytes().all(|b| b == b'.') {
        return Err(DomainError::invalid(field, "an id is not made of dots only"));
    }
    Ok(())
}

/// Characters that change how other text is shown rather than being text: C0 and C1
/// controls (NUL, CR/LF, tab, the ESC of ANSI sequences) and the bidirectional embeddings,
/// overrides and isolates that reorder what a reader sees (`U+202A`..`U+202E`,
/// `U+2066`..`U+2069`). Names are one line of plain text shown to people and written to logs.
fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: zero-width spaces and joiners, marks, the byte-order mark,
/// the soft hyphen, fillers, variation selectors, tag characters. Text made only of these
/// (and spaces) looks empty. (Text of combining marks alone is not caught: telling them apart
/// needs the Unicode tables, which the core does without.)
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
                | '\u{180B}'..='\u{180D}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}'
        )
}

/// Free text: present, bounded, one line of visible text (no control characters, no
/// bidirectional overrides, not blank or invisible-only).
pub fn text(field: &str, s: &str) -> Result<()> {
    if s.chars().all(is_invisible) {
        return Err(DomainError::invalid(field, "must not be empty, blank or invisible"));
    }
    if s.len() > MAX_TEXT_LEN {
        return Err(DomainError::invalid(field, format!("at most {MAX_TEXT_LEN} bytes")));
    }
    if let Some(c) = s.chars().find(|&c| is_control(c)) {
        return Err(DomainError::invalid(
            field,
            format!("control and bidirectional-override characters are not allowed (found U+{:04X})", c as u32),
        ));
    }
    Ok(())
}

/// A description: like `text`, but several lines (line feeds, carriage returns and tabs are
/// allowed) and up to `MAX_DESCRIPTION_CHARS` characters.
pub fn description(field: &str, s: &str) -> Result<()> {
    if s.chars().all(is_invisible) {
        return Err(DomainError::invalid(field, "must not be empty, blank or invisible"));
    }
    if s.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(DomainError::invalid(field, format!("at most {MAX_DESCRIPTION_CHARS} characters")));
    }
    if let Some(c) = s.chars().find(|&c| is_control(c) && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(DomainError::invalid(
            field,
            format!("control characters other than line breaks and tabs are not allowed (found U+{:04X})", c as u32),
        ));
    }
    Ok(())
}

/// An `https://` URL with a host: DNS labels (letters, digits and inner hyphens, at most 63
/// each) joined by dots, an optional port (0 to 65535), then nothing or a path, query or
/// fragment of printable ASCII. No user or password, no IPv6 literal. Exactly what the
/// OpenAPI pattern of `HttpsUrl` (`command.rs`) accepts. Answers the part after the host.
pub fn https_url<'a>(field: &str, s: &'a str) -> Result<&'a str> {
    if s.len() > MAX_URL_LEN {
        return Err(DomainError::invalid(field, format!("a URL has at most {MAX_URL_LEN} characters")));
    }
    https_url_shape(field, s)
}

/// [`https_url`] without the length limit: for a caller that checked the length of the URL it
/// was given before rewriting it (a webhook's `http://` URL is checked as `https://`).
pub fn https_url_shape<'a>(field: &str, s: &'a str) -> Result<&'a str> {
    let Some(rest) = s.strip_prefix("https://") else {
        return Err(DomainError::invalid(field, "an https URL, starting with `https://`"));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !host.split('.').all(label_ok) {
        return Err(DomainError::invalid(
            field,
            "a URL's host is a name like `shop.example` (letters, digits, inner hyphens; no user or password)",
        ));
    }
    if let Some(p) = port {
        if p.is_empty()
            || p.len() > 5
            || !p.bytes().all(|b| b.is_ascii_digit())
            || p.parse::<u32>().unwrap_or(0) > 65_535
        {
            return Err(DomainError::invalid(field, "a URL's port is a number from 0 to 65535"));
        }
    }
    if !tail.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid(
            field,
            "a URL is printable ASCII without spaces: percent-encode other characters",
        ));
    }
    Ok(tail)
}

/// A product URL template: an `https_url` with `{sku}` after the host.
pub fn url_template(field: &str, s: &str) -> Result<()> {
    if !https_url(field, s)?.contains("{sku}") {
        return Err(DomainError::invalid(field, "a product URL has `{sku}` after the host, where the SKU id goes"));
    }
    Ok(())
}

/// A measure in hundredths of its unit: a non-negative number up to `max` units, rounded to
/// two decimal places.
pub fn measure(field: &str, n: &serde_json::Number, max: u64) -> Result<crate::model::Centi> {
    let x = n.as_f64().filter(|x| x.is_finite()).ok_or_else(|| DomainError::invalid(field, "a number"))?;
    if x < 0.0 {
        return Err(DomainError::invalid(field, "a measure is never negative"));
    }
    if x > max as f64 {
        return Err(DomainError::invalid(field, format!("at most {max}")));
    }
    Ok(crate::model::Centi((x * 100.0).round() as u64))
}

pub fn category(field: &str, s: &str) -> Result<()> {
    text(field, s)?;
    if s.split('/').any(|seg| seg.chars().all(is_invisible)) {
        return Err(DomainError::invalid(field, "a category is a path of non-empty segments, like a/b/c"));
    }
    Ok(())
}

pub fn currency(field: &str, s: &str) -> Result<()> {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(DomainError::invalid(field, "a currency is three capital letters (ISO 4217), like BRL"));
    }
    Ok(())
}

pub fn quantity(field: &str, q: i64) -> Result<u64> {
    if q < 0 {
        return Err(DomainError::invalid(field, "a quantity is never negative"));
    }
    if q > MAX_QUANTITY {
        return Err(DomainError::invalid(field, format!("a quantity is at most {MAX_QUANTITY}")));
    }
    Ok(q as u64)
}

pub fn price(field: &str, p: i64) -> Result<i64> {
    if p < 0 {
        return Err(DomainError::invalid(field, "a price is never below zero"));
    }
    if p > MAX_PRICE {
        return Err(DomainError::invalid(field, format!("a price is at most {MAX_PRICE} minor units")));
    }
    Ok(p)
}

pub fn list_len(field: &str, len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(DomainError::invalid(field, format!("at most {max} entries")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(account_id("id", "seller-a1").is_ok());
        assert!(account_id("id", "Seller").is_err());
        assert!(account_id("id", "").is_err());
        assert!(account_id("id", &"a".repeat(51)).is_err());
        assert!(item_id("sku", "A.b_c-1").is_ok());
        assert!(item_id("sku", "..").is_err());
        assert!(item_id("sku", "a/b").is_err());
        assert!(item_id("sku", &"a".repeat(65)).is_err());
    }

    #[test]
    fn numbers_and_text() {
        assert!(quantity("q", -1).is_err());
        assert!(quantity("q", MAX_QUANTITY + 1).is_err());
        assert!(price("p", -1).is_err());
        assert!(text("name", "  ").is_err());
        assert!(category("c", "a//b").is_err());
        assert!(category("c", "a/b/c").is_ok());
        assert!(category("c", "a/\u{200B}/c").is_err());
        assert!(currency("c", "BRL").is_ok());
        assert!(currency("c", "brl").is_err());
    }

    #[test]
    fn descriptions_have_lines_but_no_other_controls() {
        assert!(description("description", "Line one\nline two\r\n\tindented").is_ok());
        assert!(description("description", &"é".repeat(MAX_DESCRIPTION_CHARS)).is_ok(), "characters, not bytes");
        for bad in ["", " \n\t ", "\u{200B}", "a\0b", "\u{1b}[31m", "evil\u{202E}x"] {
            let e = description("description", bad).unwrap_err();
            assert!(e.to_string().contains("`description`"), "{bad:?}: {e}");
        }
        assert!(description("description", &"x".repeat(MAX_DESCRIPTION_CHARS + 1)).is_err());
    }

    #[test]
    fn urls_are_https_with_a_host() {
        let ok = [
            "https://shop.example",
            "https://shop.example/",
            "https://cdn-1.shop.example:8443/img/a%20b.jpg?w=200#top",
            "https://192.168.0.1/x",
            "https://a:65535",
            "https://a:0",
            "https://a?q",
        ];
        for u in ok {
            assert!(https_url("images[0]", u).is_ok(), "{u}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_LEN));
        let refused = [
            "http://shop.example/a.jpg",
            "HTTPS://shop.example",
            "https://",
            "https:///path",
            "https://user:pw@shop.example/",
            "https://-a.example/",
            "https://a-.example/",
            "https://a..b/",
            "https://a.example./",
            "https://[::1]/",
            "https://a:65536/",
            "https://a:/",
            "https://a:123456/",
            "https://a/b c",
            "https://a/é",
            "https://a/\n",
            "https://ex_ample.com/",
            "ftp://a/",
            long.as_str(),
        ];
        for u in refused {
            let e = https_url("images[3]", u).unwrap_err();
            assert!(e.to_string().contains("`images[3]`"), "{u}: {e}");
        }
        assert!(https_url("u", &format!("https://a/{}", "x".repeat(MAX_URL_LEN - 10))).is_ok());
    }

    #[test]
    fn product_urls_have_the_sku_after_the_host() {
        assert!(url_template("product_url", "https://shop.example/p/{sku}").is_ok());
        assert!(url_template("product_url", "https://shop.example/p?id={sku}&x=1").is_ok());
        for bad in ["https://shop.example/p/", "https://{sku}.shop.example/", "http://shop.example/{sku}", "{sku}"] {
            let e = url_template("product_url", bad).unwrap_err();
            assert!(e.to_string().contains("`product_url`"), "{bad}: {e}");
        }
    }

    #[test]
    fn measures_are_non_negative_and_kept_to_hundredths() {
        let n = |s: &str| serde_json::from_str::<serde_json::Number>(s).unwrap();
        assert_eq!(measure("m", &n("12"), MAX_SIZE_CM).unwrap().0, 1200);
        assert_eq!(measure("m", &n("12.345"), MAX_SIZE_CM).unwrap().0, 1235);
        assert_eq!(measure("m", &n("0.29"), MAX_SIZE_CM).unwrap().0, 29);
        assert_eq!(measure("m", &n("0"), MAX_SIZE_CM).unwrap().0, 0);
        assert_eq!(measure("m", &n("10000"), MAX_SIZE_CM).unwrap().0, 1_000_000);
        assert!(measure("dimensions.height_cm", &n("-0.5"), MAX_SIZE_CM)
            .unwrap_err()
            .to_string()
            .contains("height_cm"));
        assert!(measure("m", &n("10000.01"), MAX_SIZE_CM).is_err());
        assert!(measure("m", &n("100000001"), MAX_WEIGHT_G).is_err());
        for (c, shown) in [(1200, "12"), (1250, "12.5"), (29, "0.29"), (0, "0"), (1, "0.01")] {
            assert_eq!(crate::model::Centi(c).number().to_string(), shown);
        }
    }

    #[test]
    fn text_is_one_line_of_visible_characters() {
        for ok in ["Running shoe", "Tênis de corrida", "鞋", "a\u{200D}b", "שלום", "x y"] {
            assert!(text("name", ok).is_ok(), "{ok:?}");
        }
        let refused = [
            "a\0b",
            "line\r\nInjected: 1",
            "tab\there",
            "\u{1b}[31mred\u{1b}[0m",
            "\u{85}next line",
            "evil\u{202E}gpj.exe",
            "\u{2066}isolate",
            "\u{200B}\u{200B}",
            "\u{FEFF}",
            " \u{3164} ",
            "\u{00AD}",
            "para\u{2029}graph",
            "\u{FE0F}\u{E0041}",
        ];
        for bad in refused {
            assert!(text("name", bad).is_err(), "{bad:?}");
            assert!(category("category", bad).is_err(), "{bad:?}");
        }
    }
}
