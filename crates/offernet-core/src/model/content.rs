//! A SKU's content for channels: description, images and dimensions. Stored and shown, never
//! read by derivation (offers do not change when only content changes). Kept out of `Sku`'s
//! hot fields, behind one box that is `None` when a SKU has no content.

use std::sync::Arc;

/// What a channel shows of a SKU besides its catalog fields. Never all empty: a SKU without
/// content holds `None` instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkuContent {
    /// Free text, several lines allowed (`validate::MAX_DESCRIPTION_CHARS`).
    pub description: Option<Arc<str>>,
    /// https URLs of images, in the order given (the first is the main one).
    pub images: Box<[Arc<str>]>,
    /// Measures of the packed item; `None` when none was given.
    pub dimensions: Option<Dimensions>,
}

/// Measures of a packed item, each in hundredths of its unit (`Centi`), each optional.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dimensions {
    pub height_cm: Option<Centi>,
    pub width_cm: Option<Centi>,
    pub length_cm: Option<Centi>,
    pub weight_g: Option<Centi>,
}

impl Dimensions {
    pub fn is_empty(&self) -> bool {
        *self == Dimensions::default()
    }
}

/// A non-negative measure in hundredths of its unit (0.01 cm, 0.01 g): decimals given in JSON
/// are kept to two places, and integers keep equality and deterministic snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Centi(pub u64);

impl Centi {
    /// The JSON number: a whole number when it is one (`12`), else a decimal (`12.5`).
    pub fn number(self) -> serde_json::Number {
        if self.0.is_multiple_of(100) {
            serde_json::Number::from(self.0 / 100)
        } else {
            // Finite by construction: at most `MAX_WEIGHT_G` hundredths.
            serde_json::Number::from_f64(self.0 as f64 / 100.0).expect("a finite measure")
        }
    }
}
