//! Bulk import: many catalog lines of one account (SKUs, prices, warehouses, stock, trade
//! policies) as ONE command, [`Command::Import`](crate::Command::Import): one journal entry, one
//! settle, and either every line applies or none does.
//!
//! Each line goes through the same handler as its single `PUT` (`catalog.rs`), in file order,
//! so a line sees what earlier lines of the same import created (a stock line may name a
//! warehouse and a SKU created above it), and a field added to a body is imported without a
//! change here. The engine has no rollback, and the handlers change nothing when they refuse a
//! line, so an import takes a copy of the account's state first and puts it back when any line
//! was refused: the state, the event numbering and the applied count are then exactly as before.
//! The lines only ever change that one account's ground state (the handlers read other accounts'
//! data only to mark what settling must recompute), which is why the copy of one account is
//! enough. The copy costs time and memory in proportion to the account (not measured yet: the
//! import benchmark imports into new accounts); the settle runs once, after the last line
//! (`apply.rs`).

use serde::{Deserialize, Serialize};

// Through the crate root: the bodies' module names this one (`Command::Import`).
use crate::{DomainError, Missing, PriceBody, SkuBody, StockBody, TradePolicyBody, WarehouseBody};

/// Applying an import (`impl Engine`).
mod apply;

/// Most lines in one import command. One import is applied under the engine's write lock and
/// journaled as one entry: a million lines is about ten seconds of that lock and a few hundred
/// MB of journal entry, which bounds both. Larger catalogs are imported in several commands
/// (`offernet import` splits a file by itself).
pub const MAX_IMPORT_LINES: usize = 1_000_000;

/// Bad lines listed in a refusal; beyond them they are only counted: a file with a systematic
/// mistake (a wrong column) would otherwise answer a million errors.
pub const MAX_IMPORT_ERRORS: usize = 1_000;

/// One line of an import: a body of the single routes plus the ids their path gives.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ImportLine {
    /// `PUT /v1/accounts/{a}/skus/{id}`.
    Sku { id: String, body: SkuBody },
    /// `PUT /v1/accounts/{a}/prices/{sku}`.
    Price { sku: String, body: PriceBody },
    /// `PUT /v1/accounts/{a}/warehouses/{id}`.
    Warehouse { id: String, body: WarehouseBody },
    /// `PUT /v1/accounts/{a}/warehouses/{warehouse}/stock/{sku}`.
    Stock { warehouse: String, sku: String, body: StockBody },
    /// `PUT /v1/accounts/{a}/trade-policies/{id}`.
    TradePolicy { id: String, body: TradePolicyBody },
}

impl ImportLine {
    /// The line's `kind`, as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            ImportLine::Sku { .. } => "sku",
            ImportLine::Price { .. } => "price",
            ImportLine::Warehouse { .. } => "warehouse",
            ImportLine::Stock { .. } => "stock",
            ImportLine::TradePolicy { .. } => "trade_policy",
        }
    }

    /// The name a handler gives this line's own id when it refuses it (`sku` for a SKU's id),
    /// and the line's name for it (`id`).
    pub(crate) fn own_id_field(&self) -> Option<&'static str> {
        match self {
            ImportLine::Sku { .. } => Some("sku"),
            ImportLine::Warehouse { .. } => Some("warehouse"),
            ImportLine::TradePolicy { .. } => Some("trade_policy"),
            ImportLine::Price { .. } | ImportLine::Stock { .. } => None,
        }
    }
}

/// Lines per kind: what an import applied.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub sku: usize,
    pub price: usize,
    pub warehouse: usize,
    pub stock: usize,
    pub trade_policy: usize,
}

impl std::ops::AddAssign for ImportCounts {
    fn add_assign(&mut self, o: Self) {
        self.sku += o.sku;
        self.price += o.price;
        self.warehouse += o.warehouse;
        self.stock += o.stock;
        self.trade_policy += o.trade_policy;
    }
}

impl ImportCounts {
    pub fn of(lines: &[ImportLine]) -> Self {
        let mut c = ImportCounts::default();
        for l in lines {
            match l {
                ImportLine::Sku { .. } => c.sku += 1,
                ImportLine::Price { .. } => c.price += 1,
                ImportLine::Warehouse { .. } => c.warehouse += 1,
                ImportLine::Stock { .. } => c.stock += 1,
                ImportLine::TradePolicy { .. } => c.trade_policy += 1,
            }
        }
        c
    }
}

/// One refused line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// The line's position in the command's lines, from 0 (the server turns it into the line
    /// number of the request body).
    pub index: usize,
    /// The line's field at fault, as the line names it (`id`, `ean`, `warehouse`, …), when
    /// one is.
    pub field: Option<String>,
    /// The stable code the single route would answer (`invalid_field`, `not_found`,
    /// `conflict`).
    pub code: &'static str,
    pub reason: String,
}

/// Why an import was refused: the first [`MAX_IMPORT_ERRORS`] bad lines, in order, and how
/// many there were in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportErrors {
    pub lines: Vec<LineError>,
    pub total: usize,
}

impl ImportErrors {
    /// Records a refused line (listed while fewer than [`MAX_IMPORT_ERRORS`] are).
    pub fn push(&mut self, e: LineError) {
        self.total += 1;
        if self.lines.len() < MAX_IMPORT_ERRORS {
            self.lines.push(e);
        }
    }

    /// `e`, the handler's refusal of `line`, as a line error.
    pub(crate) fn line(index: usize, line: &ImportLine, e: DomainError) -> LineError {
        let code = e.code();
        let (field, reason) = match e {
            DomainError::InvalidField { field, reason } => {
                let own = line.own_id_field().is_some_and(|f| f == field);
                (Some(if own { "id".to_string() } else { field }), reason)
            }
            DomainError::NotFound { what, missing, .. } => {
                let field = match missing {
                    Missing::Warehouse => Some("warehouse"),
                    Missing::Sku => Some("sku"),
                    _ => None,
                };
                (field.map(String::from), format!("{what} not found"))
            }
            other => (None, other.to_string()),
        };
        LineError { index, field, code, reason }
    }
}

#[cfg(test)]
mod tests;
