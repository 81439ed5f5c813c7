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

pub fn account_id(field: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_ACCOUNT_ID_LEN {
        return Err(DomainError::invalid(field, format!("an account id has 1 to {MAX_ACCOUNT_ID_LEN} characters")));
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(DomainError::invalid(field, "an account id has only a-z, 0-9 and -"));
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
