//! The tab-separated form of Google's text feeds: a header line of attribute names, then one
//! line per item. A value can hold neither a tab nor a line break, so both become a space;
//! several additional images are one value, separated by commas, so a comma inside an image
//! URL is written `%2C` (Google's rule for text feeds).

use offernet_core::FeedItem;

use super::xml::clean;

/// The columns, in the order of the XML writer's elements.
pub const COLUMNS: [&str; 16] = [
    "id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_link",
    "availability",
    "price",
    "sale_price",
    "brand",
    "gtin",
    "mpn",
    "identifier_exists",
    "condition",
    "product_type",
    "item_group_id",
];

pub fn head() -> String {
    let mut s = COLUMNS.join("\t");
    s.push('\n');
    s
}

/// A value as one TSV field: cleaned like XML text, tabs and line breaks as spaces.
fn field(out: &mut String, v: &str) {
    for c in clean(v).chars() {
        out.push(if matches!(c, '\t' | '\n' | '\r') { ' ' } else { c });
    }
}

pub fn item(out: &mut String, it: &FeedItem) {
    let images: Vec<String> = it.additional_image_link.iter().map(|u| u.replace(',', "%2C")).collect();
    let values: [&str; 16] = [
        &it.id,
        &it.title,
        &it.description,
        &it.link,
        &it.image_link,
        &images.join(","),
        it.availability.as_str(),
        &it.price.to_string(),
        &it.sale_price.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        it.brand.as_deref().unwrap_or(""),
        it.gtin.as_deref().unwrap_or(""),
        it.mpn.as_deref().unwrap_or(""),
        it.identifier_exists.unwrap_or(""),
        it.condition,
        it.product_type.as_deref().unwrap_or(""),
        it.item_group_id.as_deref().unwrap_or(""),
    ];
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        field(out, v);
    }
    out.push('\n');
}
