//! The RSS 2.0 document with Google's `g:` namespace, written piece by piece: the head, each
//! chunk's items, the tail. Text goes through `clean` (characters XML 1.0 cannot carry are
//! dropped) and quick-xml's escaping (`&`, `<`, `>`, quotes).

use offernet_core::{FeedChannel, FeedItem};
use quick_xml::escape::escape;

/// The namespace of Google's product attributes.
pub const G_NAMESPACE: &str = "http://base.google.com/ns/1.0";

/// `s` without the characters XML 1.0 does not allow (C0 controls other than tab, line feed
/// and carriage return; U+FFFE and U+FFFF). The engine refuses control characters in text
/// since rules version 2, but a journal written before holds whatever was accepted then.
pub fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}');
    if s.chars().any(bad) {
        s.chars().filter(|&c| !bad(c)).collect::<String>().into()
    } else {
        s.into()
    }
}

fn element(out: &mut String, name: &str, text: &str) {
    out.push_str("<g:");
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(clean(text).as_ref()));
    out.push_str("</g:");
    out.push_str(name);
    out.push_str(">\n");
}

/// The XML declaration, `<rss>` and the channel's title, link and description.
pub fn head(ch: &FeedChannel) -> String {
    let tp = ch.trade_policy_name.as_deref().unwrap_or(&ch.trade_policy);
    let title = format!("{} ({})", ch.account_name, tp);
    let description =
        format!("Products of {} sold in trade policy {}, from offernet", ch.account_name, ch.trade_policy);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"{G_NAMESPACE}\">\n<channel>\n<title>{}</title>\n<link>{}</link>\n<description>{}</description>\n",
        escape(clean(&title).as_ref()),
        escape(clean(&ch.link).as_ref()),
        escape(clean(&description).as_ref()),
    )
}

/// One `<item>`, its attributes in the order of Google's specification.
pub fn item(out: &mut String, it: &FeedItem) {
    out.push_str("<item>\n");
    element(out, "id", &it.id);
    element(out, "title", &it.title);
    element(out, "description", &it.description);
    element(out, "link", &it.link);
    element(out, "image_link", &it.image_link);
    for u in &it.additional_image_link {
        element(out, "additional_image_link", u);
    }
    element(out, "availability", it.availability.as_str());
    element(out, "price", &it.price.to_string());
    if let Some(p) = &it.sale_price {
        element(out, "sale_price", &p.to_string());
    }
    let optional = [
        ("brand", it.brand.as_deref()),
        ("gtin", it.gtin.as_deref()),
        ("mpn", it.mpn.as_deref()),
        ("identifier_exists", it.identifier_exists),
        ("condition", Some(it.condition)),
        ("product_type", it.product_type.as_deref()),
        ("item_group_id", it.item_group_id.as_deref()),
    ];
    for (name, v) in optional {
        if let Some(v) = v {
            element(out, name, v);
        }
    }
    out.push_str("</item>\n");
}

pub const TAIL: &str = "</channel>\n</rss>\n";
