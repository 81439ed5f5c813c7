//! CSV files as import lines: a header row names the columns, each later record is one line.
//!
//! - A `kind` column is required (`sku`, `price`, `warehouse`, `stock`, `trade_policy`); every
//!   other column is a field of the line under its own name (`id`, `sku`, `warehouse`, `name`,
//!   `ean`, `price`, `quantity`, …), so one file may mix kinds, each record leaving the other
//!   kinds' columns empty.
//! - An empty cell is an absent field.
//! - A dotted column is a nested field: `dimensions.height_cm` → `{"dimensions": {"height_cm": …}}`.
//! - Numbers: whole in the columns named in [`NUMBER_COLUMNS`], decimal in [`DECIMAL_COLUMNS`]
//!   (by their last part); booleans (`true`/
//!   `false`): [`BOOL_COLUMNS`]; lists, `;`-separated: [`LIST_COLUMNS`] (an `assortment` of
//!   `all` stays the word). Every other column is text, so an EAN keeps its leading zeros.
//!   A cell that is not what its column says is sent as text: the server names the line and
//!   the field.

use serde_json::{Map, Value};

/// Columns read as whole numbers (minor units, units).
pub const NUMBER_COLUMNS: &[&str] = &["price", "list_price", "quantity"];
/// Columns read as decimal numbers (the SKU's `dimensions`: cm and g).
pub const DECIMAL_COLUMNS: &[&str] = &["height_cm", "width_cm", "length_cm", "weight_g"];
/// Columns read as `true`/`false`.
pub const BOOL_COLUMNS: &[&str] = &["active", "unlimited"];
/// Columns read as `;`-separated lists.
pub const LIST_COLUMNS: &[&str] = &["trade_policies", "images", "assortment"];

/// The records of a CSV file as NDJSON lines.
pub struct CsvLines<R: std::io::Read> {
    reader: csv::Reader<R>,
    /// The header, each column split at its dots.
    columns: Vec<Vec<String>>,
    record: csv::StringRecord,
}

impl<R: std::io::Read> CsvLines<R> {
    /// Reads the header row; it must name a `kind` column.
    pub fn new(input: R) -> Result<Self, String> {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(input);
        let header = reader.headers().map_err(|e| format!("the CSV header: {e}"))?;
        let columns: Vec<Vec<String>> =
            header.iter().map(|h| h.trim().split('.').map(str::to_string).collect()).collect();
        if !columns.iter().any(|c| c.len() == 1 && c[0] == "kind") {
            return Err("the CSV header has no `kind` column (sku, price, warehouse, stock, trade_policy)".into());
        }
        if let Some(c) = columns.iter().find(|c| c.iter().any(String::is_empty)) {
            return Err(format!("the CSV header has an empty column name (`{}`)", c.join(".")));
        }
        Ok(CsvLines { reader, columns, record: csv::StringRecord::new() })
    }

    /// The next record as (its line in the file, from 1; the JSON line; bytes read so far).
    pub fn next_line(&mut self) -> Option<Result<(u64, String, u64), String>> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Err(e) => Some(Err(format!("the CSV file: {e}"))),
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                let object = record_object(&self.columns, &self.record);
                Some(Ok((line, Value::Object(object).to_string(), self.reader.position().byte())))
            }
        }
    }
}

/// One record as a line's JSON object.
pub fn record_object(columns: &[Vec<String>], record: &csv::StringRecord) -> Map<String, Value> {
    let mut out = Map::new();
    for (path, cell) in columns.iter().zip(record.iter()) {
        if cell.is_empty() {
            continue;
        }
        let leaf = path.last().map_or("", String::as_str);
        let mut at = &mut out;
        for part in &path[..path.len() - 1] {
            let next = at.entry(part.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !next.is_object() {
                *next = Value::Object(Map::new());
            }
            at = next.as_object_mut().expect("an object");
        }
        at.insert(leaf.to_string(), cell_value(leaf, cell));
    }
    out
}

/// A cell as the JSON its column takes (see the module's documentation).
fn cell_value(column: &str, cell: &str) -> Value {
    let text = || Value::String(cell.to_string());
    if NUMBER_COLUMNS.contains(&column) {
        return cell.trim().parse::<i64>().map_or_else(|_| text(), Value::from);
    }
    if DECIMAL_COLUMNS.contains(&column) {
        let number = cell.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64);
        return number.map_or_else(text, Value::Number);
    }
    if BOOL_COLUMNS.contains(&column) {
        return match cell.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => text(),
        };
    }
    if LIST_COLUMNS.contains(&column) && !(column == "assortment" && cell.trim() == "all") {
        return Value::Array(cell.split(';').map(|x| Value::String(x.trim().to_string())).collect());
    }
    text()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(u64, String)> {
        let mut r = CsvLines::new(text.as_bytes()).unwrap();
        let mut out = Vec::new();
        while let Some(x) = r.next_line() {
            let (n, l, _) = x.unwrap();
            out.push((n, l));
        }
        out
    }

    #[test]
    fn records_become_lines_with_types_lists_and_nested_fields() {
        let text =
            "kind,id,sku,warehouse,name,ean,price,quantity,active,trade_policies,assortment,dimensions.height_cm\n\
                    sku,s1,,,\"Mug, large\",0789123456785,,,false,,,12.5\n\
                    warehouse,w1,,,,,,,,1;2,,\n\
                    trade_policy,2,,,,,,,,,all,\n\
                    trade_policy,3,,,,,,,,,s1;s2,\n\
                    stock,,s1,w1,,,,7,,,,\n\
                    price,,s1,,,,12x,,,,,\n";
        let got = lines(text);
        let expect = [
            (
                2,
                r#"{"active":false,"dimensions":{"height_cm":12.5},"ean":"0789123456785","id":"s1","kind":"sku","name":"Mug, large"}"#,
            ),
            (3, r#"{"id":"w1","kind":"warehouse","trade_policies":["1","2"]}"#),
            (4, r#"{"assortment":"all","id":"2","kind":"trade_policy"}"#),
            (5, r#"{"assortment":["s1","s2"],"id":"3","kind":"trade_policy"}"#),
            (6, r#"{"kind":"stock","quantity":7,"sku":"s1","warehouse":"w1"}"#),
            // Not a number: sent as text, for the server to name.
            (7, r#"{"kind":"price","price":"12x","sku":"s1"}"#),
        ];
        let got: Vec<(u64, &str)> = got.iter().map(|(n, l)| (*n, l.as_str())).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn a_quoted_newline_keeps_the_line_numbers_of_the_file() {
        let got = lines("kind,id,name\nsku,a,\"two\nlines\"\nsku,b,B\n");
        assert_eq!(got[0].0, 2);
        assert_eq!(got[1].0, 4);
    }

    #[test]
    fn a_header_without_kind_is_refused() {
        assert!(CsvLines::new("id,name\n".as_bytes()).err().unwrap().contains("kind"));
        assert!(CsvLines::new("kind,,name\n".as_bytes()).err().unwrap().contains("empty column"));
    }
}
