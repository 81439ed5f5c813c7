//! C2 (vtex-compat.md §2.3): an external seller's `SaveSuggestionRequest` (SUG) as `PutSku` of
//! its own SKU. `Pricing` and `AvailableQuantity` are read and ignored: the simulation (A1) is
//! the only source of price and stock. Pure.

use offernet_core::{DimensionsBody, DomainError, SkuBody};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{VtexError, VtexResult};

/// The fields of `SaveSuggestionRequest` offernet reads (others are ignored). Strings may be
/// empty in what connectors send: an empty one is "not given".
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SuggestionRequest {
    pub product_name: Option<String>,
    /// A string in SUG; some connectors send a number.
    pub product_id: Option<Value>,
    pub product_description: Option<String>,
    pub brand_name: Option<String>,
    pub sku_name: Option<String>,
    pub seller_id: Option<String>,
    pub category_full_path: Option<String>,
    #[serde(rename = "EAN")]
    pub ean: Option<String>,
    pub ref_id: Option<String>,
    pub height: Option<serde_json::Number>,
    pub width: Option<serde_json::Number>,
    pub length: Option<serde_json::Number>,
    pub weight: Option<serde_json::Number>,
    pub images: Option<Vec<Image>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Image {
    #[serde(rename = "imageUrl")]
    pub image_url: Option<String>,
}

fn given(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The SKU body of E's SKU, checked where VTEX's own names must be in the message: `SellerId`
/// must be the path's seller (E), `EAN` a GTIN with a valid check digit, and a name given
/// (`SkuName` or `ProductName`). The engine checks the rest (its field names are translated
/// back by [`vtex_field`]).
pub fn sku_body(seller: &str, req: &SuggestionRequest) -> VtexResult<SkuBody> {
    match req.seller_id.as_deref().map(str::trim) {
        Some(id) if id == seller => {}
        Some(id) => {
            return Err(VtexError::invalid_field(
                "SellerId",
                format!("`{id}` is not the seller of the path (`{seller}`): a seller suggests its own SKUs"),
            ))
        }
        None => return Err(VtexError::invalid_field("SellerId", "required: the seller's id at this marketplace")),
    }
    let ean = given(&req.ean);
    if let Some(e) = &ean {
        offernet_core::gtin::parse_gtin(e).map_err(|why| VtexError::invalid_field("EAN", format!("`{e}`: {why}")))?;
    }
    let name = given(&req.sku_name)
        .or_else(|| given(&req.product_name))
        .ok_or_else(|| VtexError::invalid_field("SkuName", "required (or ProductName): the SKU's name"))?;
    let product_id = match &req.product_id {
        Some(Value::String(s)) => given(&Some(s.clone())),
        Some(Value::Number(n)) => Some(n.to_string()),
        None | Some(Value::Null) => None,
        Some(_) => return Err(VtexError::invalid_field("ProductId", "a string")),
    };
    let category = given(&req.category_full_path).map(|c| c.trim_matches('/').to_string()).filter(|c| !c.is_empty());
    let images: Vec<String> = req.images.iter().flatten().filter_map(|i| given(&i.image_url)).collect();
    let dimensions =
        [&req.height, &req.width, &req.length, &req.weight].iter().any(|d| d.is_some()).then(|| DimensionsBody {
            height_cm: req.height.clone(),
            width_cm: req.width.clone(),
            length_cm: req.length.clone(),
            weight_g: req.weight.clone(),
        });
    Ok(SkuBody {
        name: Some(name),
        product_id,
        brand: given(&req.brand_name),
        category,
        ean,
        ref_id: given(&req.ref_id),
        active: None,
        description: given(&req.product_description),
        images: (!images.is_empty()).then_some(images),
        dimensions,
    })
}

/// The VTEX field of an engine's field name in a refused `PutSku` (`images[1]` →
/// `Images[1].imageUrl`); others unchanged.
pub fn vtex_field(field: &str) -> String {
    let plain = [
        ("name", "SkuName"),
        ("product_id", "ProductId"),
        ("brand", "BrandName"),
        ("category", "CategoryFullPath"),
        ("ean", "EAN"),
        ("ref_id", "RefId"),
        ("description", "ProductDescription"),
        ("images", "Images"),
        ("dimensions.height_cm", "Height"),
        ("dimensions.width_cm", "Width"),
        ("dimensions.length_cm", "Length"),
        ("dimensions.weight_g", "Weight"),
    ];
    if let Some((_, v)) = plain.iter().find(|(f, _)| *f == field) {
        return v.to_string();
    }
    match field.strip_prefix("images[") {
        Some(rest) => format!("Images[{rest}.imageUrl"),
        None => field.to_string(),
    }
}

/// A refused `PutSku` in VTEX's words: a field error names the VTEX field.
pub fn refusal(e: DomainError) -> VtexError {
    match e {
        DomainError::InvalidField { field, reason } => VtexError::invalid_field(&vtex_field(&field), reason),
        other => VtexError::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> SuggestionRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_sug_example_with_this_seller_and_a_gtin_maps_every_field() {
        let v = json!({"ProductId": 321, "ProductName": "Product sample", "NameComplete": "x", "ProductDescription": "sample",
            "BrandName": "Brand 1", "SkuName": "Sku sample", "SellerId": "e", "Height": 1, "Width": 2, "Length": 3,
            "Weight": 1.5, "Updated": null, "RefId": "REFID123", "SellerStockKeepingUnitId": 567,
            "CategoryFullPath": "/Dept/Category/", "EAN": "4006381333931",
            "Images": [{"imageName": "Principal", "imageUrl": "https://i.example/a.jpg"}],
            "Pricing": {"Currency": "BRL", "SalePrice": 399}, "AvailableQuantity": 111});
        let b = sku_body("e", &req(v)).unwrap();
        assert_eq!(b.name.as_deref(), Some("Sku sample"));
        assert_eq!(b.product_id.as_deref(), Some("321"));
        assert_eq!((b.brand.as_deref(), b.category.as_deref()), (Some("Brand 1"), Some("Dept/Category")));
        assert_eq!((b.ean.as_deref(), b.ref_id.as_deref()), (Some("4006381333931"), Some("REFID123")));
        assert_eq!(b.description.as_deref(), Some("sample"));
        assert_eq!(b.images, Some(vec!["https://i.example/a.jpg".to_string()]));
        let d = b.dimensions.unwrap();
        assert_eq!((d.height_cm.unwrap().to_string(), d.weight_g.unwrap().to_string()), ("1".into(), "1.5".into()));
    }

    #[test]
    fn the_originals_are_refused_naming_vtex_fields() {
        let e = sku_body("e", &req(json!({"SellerId": "string", "SkuName": "a", "EAN": "4006381333931"}))).unwrap_err();
        assert!(e.code == "invalid_field" && e.message.contains("`SellerId`"), "{}", e.message);
        let e = sku_body("e", &req(json!({"SellerId": "e", "SkuName": "a", "EAN": "EAN123"}))).unwrap_err();
        assert!(e.message.contains("`EAN`"), "{}", e.message);
        let e = sku_body("e", &req(json!({"SellerId": "e", "SkuName": "a", "EAN": "4006381333932"}))).unwrap_err();
        assert!(e.message.contains("`EAN`") && e.message.contains("check digit"), "{}", e.message);
        let e = sku_body("e", &req(json!({"SellerId": "e"}))).unwrap_err();
        assert!(e.message.contains("`SkuName`"), "{}", e.message);
        // A product name stands in for the SKU name; empty strings are "not given".
        let b = sku_body("e", &req(json!({"SellerId": "e", "SkuName": "", "ProductName": "P", "EAN": ""}))).unwrap();
        assert_eq!((b.name.as_deref(), b.ean), (Some("P"), None));
    }

    #[test]
    fn engine_fields_are_named_as_vtex_names_them() {
        assert_eq!(vtex_field("images[2]"), "Images[2].imageUrl");
        assert_eq!(vtex_field("dimensions.weight_g"), "Weight");
        assert_eq!(vtex_field("name"), "SkuName");
        let e = refusal(DomainError::invalid("brand", "too long"));
        assert!(e.message.contains("`BrandName`"), "{}", e.message);
    }
}
