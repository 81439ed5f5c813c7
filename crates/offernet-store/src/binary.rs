//! The compact binary form of the commands that dominate a journal (stock, prices, orders),
//! stored beside the readable JSON (column `bin`) so that replay decodes a few bytes instead of
//! parsing JSON. Any command kind without a binary form here (new kinds from other work
//! included: the match below ends with `_ => None`) is stored as JSON only and replayed from it.
//!
//! Layout of a stored value: the CRC-32 of the rest (4 bytes, little-endian), [`BIN_FORMAT`]
//! (1 byte), the kind's tag (1 byte), then its fields in declaration order: a string is a
//! varint length and its UTF-8 bytes; an `Option` is a byte 0 (none) or 1 then the value; a
//! `bool` a byte; an `i64` a zigzag varint; a list a varint count then the items. Decoding
//! refuses a bad checksum, an unknown format or tag, bytes left over or missing, and invalid
//! UTF-8; it allocates only the command's own strings and lists.
//!
//! Each encoder destructures its command and bodies without `..`: a field added to a body
//! fails to compile here instead of being dropped silently from the binary form.

use offernet_core::orders::{ExternalRef, InvoiceBody, OrderBody, OrderItemBody};
use offernet_core::{Command, PriceBody, StockBody};

use crate::crc::crc32;

/// The version of the binary layout. A build meeting another version replays that entry from
/// its JSON (see `replay.rs`). 2: `PlaceOrder` carries `reservation_minutes`, `max_prices`,
/// `external_ref` and `document_sha256` after its items (format-1 entries replay from JSON).
/// 3: `InvoiceOrder` carries its optional `invoice` after the order id.
pub const BIN_FORMAT: u8 = 3;

const PUT_STOCK: u8 = 1;
const PUT_PRICE: u8 = 2;
const DELETE_PRICE: u8 = 3;
const PLACE_ORDER: u8 = 4;
const AUTHORIZE_ORDER: u8 = 5;
const CANCEL_ORDER: u8 = 6;
const INVOICE_ORDER: u8 = 7;
const EXPIRE_ORDERS: u8 = 8;

/// Why a binary value was not decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BinError {
    /// Written by another layout version or with a tag this build does not know: use the JSON.
    Unknown(String),
    /// Damaged (checksum, truncation, bad UTF-8, bytes left over).
    Damaged(String),
}

/// The binary form of `cmd` (checksum included), or `None` when its kind has none. Long: one
/// arm per kind, each writing its fields in order.
pub fn encode(cmd: &Command) -> Option<Vec<u8>> {
    let mut w = W(Vec::with_capacity(64));
    w.0.extend_from_slice(&[0, 0, 0, 0, BIN_FORMAT]);
    match cmd {
        Command::PutStock { account, warehouse, sku, body: StockBody { quantity, unlimited } } => {
            w.tag(PUT_STOCK).str(account).str(warehouse).str(sku).opt_i64(*quantity).opt_bool(*unlimited);
        }
        Command::PutPrice { account, sku, body: PriceBody { price, list_price, trade_policy } } => {
            w.tag(PUT_PRICE).str(account).str(sku).opt_i64(*price).opt_i64(*list_price).opt_str(trade_policy);
        }
        Command::DeletePrice { account, sku, trade_policy } => {
            w.tag(DELETE_PRICE).str(account).str(sku).opt_str(trade_policy);
        }
        Command::PlaceOrder {
            marketplace,
            body: OrderBody { id, items, reservation_minutes, max_prices, external_ref, document_sha256 },
        } => {
            w.tag(PLACE_ORDER).str(marketplace).opt_str(id);
            match items {
                None => {
                    w.byte(0);
                }
                Some(items) => {
                    w.byte(1).varint(items.len() as u64);
                    for OrderItemBody { sku, quantity, seller } in items {
                        w.opt_str(sku).opt_i64(*quantity).opt_str(seller);
                    }
                }
            }
            w.opt_i64(*reservation_minutes);
            match max_prices {
                None => {
                    w.byte(0);
                }
                Some(prices) => {
                    w.byte(1).varint(prices.len() as u64);
                    for &p in prices {
                        w.opt_i64(Some(p));
                    }
                }
            }
            match external_ref {
                None => {
                    w.byte(0);
                }
                Some(x) => {
                    let ExternalRef { marketplace_order_id, services_endpoint } = &**x;
                    w.byte(1).opt_str(marketplace_order_id).opt_str(services_endpoint);
                }
            }
            w.opt_str(document_sha256);
        }
        Command::AuthorizeOrder { marketplace, id } => {
            w.tag(AUTHORIZE_ORDER).str(marketplace).str(id);
        }
        Command::CancelOrder { account, id } => {
            w.tag(CANCEL_ORDER).str(account).str(id);
        }
        Command::InvoiceOrder { account, id, invoice } => {
            w.tag(INVOICE_ORDER).str(account).str(id);
            match invoice.as_deref() {
                None => {
                    w.byte(0);
                }
                Some(InvoiceBody { number, value, issued_ms, courier, tracking_number, tracking_url }) => {
                    w.byte(1).opt_str(number).opt_i64(*value).opt_u64(*issued_ms);
                    w.opt_str(courier).opt_str(tracking_number).opt_str(tracking_url);
                }
            }
        }
        Command::ExpireOrders {} => {
            w.tag(EXPIRE_ORDERS);
        }
        // Every other kind, today's and those added later, is journaled as JSON only.
        _ => return None,
    }
    let crc = crc32(&w.0[4..]);
    w.0[..4].copy_from_slice(&crc.to_le_bytes());
    Some(w.0)
}

/// Whether `bytes` claim this build's layout and a kind it knows (damage aside, which
/// [`decode`] finds): when not, the entry is to be read from its JSON.
pub fn known(bytes: &[u8]) -> bool {
    bytes.len() < 6 || (bytes[4] == BIN_FORMAT && (PUT_STOCK..=EXPIRE_ORDERS).contains(&bytes[5]))
}

/// Decodes a stored binary value (see the module's documentation for what it refuses).
pub fn decode(bytes: &[u8]) -> Result<Command, BinError> {
    if bytes.len() < 6 {
        return Err(BinError::Damaged(format!("binary command of {} bytes", bytes.len())));
    }
    let stored = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if crc32(&bytes[4..]) != stored {
        return Err(BinError::Damaged("binary command checksum mismatch".into()));
    }
    if bytes[4] != BIN_FORMAT {
        return Err(BinError::Unknown(format!("binary command format {}", bytes[4])));
    }
    let mut r = R { b: bytes, at: 6 };
    let cmd = match bytes[5] {
        PUT_STOCK => Command::PutStock {
            account: r.string()?,
            warehouse: r.string()?,
            sku: r.string()?,
            body: StockBody { quantity: r.opt_i64()?, unlimited: r.opt_bool()? },
        },
        PUT_PRICE => Command::PutPrice {
            account: r.string()?,
            sku: r.string()?,
            body: PriceBody { price: r.opt_i64()?, list_price: r.opt_i64()?, trade_policy: r.opt_string()? },
        },
        DELETE_PRICE => Command::DeletePrice { account: r.string()?, sku: r.string()?, trade_policy: r.opt_string()? },
        PLACE_ORDER => Command::PlaceOrder { marketplace: r.string()?, body: r.order_body()? },
        AUTHORIZE_ORDER => Command::AuthorizeOrder { marketplace: r.string()?, id: r.string()? },
        CANCEL_ORDER => Command::CancelOrder { account: r.string()?, id: r.string()? },
        INVOICE_ORDER => Command::InvoiceOrder { account: r.string()?, id: r.string()?, invoice: r.invoice()? },
        EXPIRE_ORDERS => Command::ExpireOrders {},
        tag => return Err(BinError::Unknown(format!("binary command tag {tag}"))),
    };
    if r.at != bytes.len() {
        return Err(BinError::Damaged(format!("{} bytes after the binary command", bytes.len() - r.at)));
    }
    Ok(cmd)
}

struct W(Vec<u8>);

impl W {
    fn byte(&mut self, b: u8) -> &mut Self {
        self.0.push(b);
        self
    }
    fn tag(&mut self, t: u8) -> &mut Self {
        self.byte(t)
    }
    fn varint(&mut self, mut v: u64) -> &mut Self {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.byte(v as u8)
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.varint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    fn opt_str(&mut self, s: &Option<String>) -> &mut Self {
        match s {
            None => self.byte(0),
            Some(s) => self.byte(1).str(s),
        }
    }
    fn opt_i64(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            None => self.byte(0),
            Some(v) => self.byte(1).varint(((v << 1) ^ (v >> 63)) as u64),
        }
    }
    fn opt_u64(&mut self, v: Option<u64>) -> &mut Self {
        match v {
            None => self.byte(0),
            Some(v) => self.byte(1).varint(v),
        }
    }
    fn opt_bool(&mut self, v: Option<bool>) -> &mut Self {
        self.byte(match v {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        })
    }
}

struct R<'a> {
    b: &'a [u8],
    at: usize,
}

fn short() -> BinError {
    BinError::Damaged("binary command ends early".into())
}

impl R<'_> {
    fn byte(&mut self) -> Result<u8, BinError> {
        let b = *self.b.get(self.at).ok_or_else(short)?;
        self.at += 1;
        Ok(b)
    }
    fn varint(&mut self) -> Result<u64, BinError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(BinError::Damaged("varint longer than 64 bits".into()))
    }
    fn string(&mut self) -> Result<String, BinError> {
        let len = self.varint()? as usize;
        let end = self.at.checked_add(len).filter(|e| *e <= self.b.len()).ok_or_else(short)?;
        let s = std::str::from_utf8(&self.b[self.at..end]).map_err(|e| BinError::Damaged(e.to_string()))?;
        self.at = end;
        Ok(s.to_owned())
    }
    fn flag(&mut self) -> Result<bool, BinError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(BinError::Damaged(format!("option byte {b}"))),
        }
    }
    fn opt_string(&mut self) -> Result<Option<String>, BinError> {
        Ok(if self.flag()? { Some(self.string()?) } else { None })
    }
    fn opt_i64(&mut self) -> Result<Option<i64>, BinError> {
        if !self.flag()? {
            return Ok(None);
        }
        let z = self.varint()?;
        Ok(Some(((z >> 1) as i64) ^ -((z & 1) as i64)))
    }
    fn opt_u64(&mut self) -> Result<Option<u64>, BinError> {
        Ok(if self.flag()? { Some(self.varint()?) } else { None })
    }
    fn invoice(&mut self) -> Result<Option<Box<InvoiceBody>>, BinError> {
        if !self.flag()? {
            return Ok(None);
        }
        Ok(Some(Box::new(InvoiceBody {
            number: self.opt_string()?,
            value: self.opt_i64()?,
            issued_ms: self.opt_u64()?,
            courier: self.opt_string()?,
            tracking_number: self.opt_string()?,
            tracking_url: self.opt_string()?,
        })))
    }
    fn opt_bool(&mut self) -> Result<Option<bool>, BinError> {
        match self.byte()? {
            0 => Ok(None),
            1 => Ok(Some(false)),
            2 => Ok(Some(true)),
            b => Err(BinError::Damaged(format!("boolean byte {b}"))),
        }
    }
    /// A count of items of at least `min_bytes` each: a count beyond the bytes left is damage,
    /// not a reason to allocate.
    fn count(&mut self, min_bytes: usize) -> Result<usize, BinError> {
        let n = self.varint()? as usize;
        if n > (self.b.len() - self.at) / min_bytes {
            return Err(short());
        }
        Ok(n)
    }
    fn order_body(&mut self) -> Result<OrderBody, BinError> {
        let id = self.opt_string()?;
        let items = match self.flag()? {
            false => None,
            true => {
                let n = self.count(3)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(OrderItemBody {
                        sku: self.opt_string()?,
                        quantity: self.opt_i64()?,
                        seller: self.opt_string()?,
                    });
                }
                Some(items)
            }
        };
        let reservation_minutes = self.opt_i64()?;
        let max_prices = match self.flag()? {
            false => None,
            true => {
                let n = self.count(2)?;
                let mut prices = Vec::with_capacity(n);
                for _ in 0..n {
                    prices.push(self.opt_i64()?.ok_or_else(|| BinError::Damaged("a max price is missing".into()))?);
                }
                Some(prices)
            }
        };
        let external_ref = match self.flag()? {
            false => None,
            true => {
                let (marketplace_order_id, services_endpoint) = (self.opt_string()?, self.opt_string()?);
                Some(Box::new(ExternalRef { marketplace_order_id, services_endpoint }))
            }
        };
        let document_sha256 = self.opt_string()?;
        Ok(OrderBody { id, items, reservation_minutes, max_prices, external_ref, document_sha256 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One command of each kind with a binary form, some in several shapes: long, a flat list.
    fn samples() -> Vec<Command> {
        let s = |v: &str| v.to_string();
        vec![
            Command::PutStock {
                account: s("s1"),
                warehouse: s("w"),
                sku: s("k-ü"),
                body: StockBody { quantity: Some(1_000_000_000_000), unlimited: None },
            },
            Command::PutStock { account: s("a"), warehouse: s("b"), sku: s("c"), body: StockBody::default() },
            Command::PutStock {
                account: s("a"),
                warehouse: s(""),
                sku: s("c"),
                body: StockBody { quantity: Some(-5), unlimited: Some(true) },
            },
            Command::PutPrice {
                account: s("a"),
                sku: s("k"),
                body: PriceBody { price: Some(i64::MAX), list_price: Some(i64::MIN), trade_policy: Some(s("2")) },
            },
            Command::PutPrice { account: s("a"), sku: s("k"), body: PriceBody::default() },
            Command::DeletePrice { account: s("a"), sku: s("k"), trade_policy: None },
            Command::DeletePrice { account: s("a"), sku: s("k"), trade_policy: Some(s("tp")) },
            Command::PlaceOrder { marketplace: s("m"), body: OrderBody::default() },
            Command::PlaceOrder {
                marketplace: s("v"),
                body: OrderBody {
                    id: Some(s("1138342255777-01")),
                    items: Some(vec![OrderItemBody { sku: Some(s("s-1")), quantity: Some(2), seller: Some(s("s")) }]),
                    reservation_minutes: Some(11_520),
                    max_prices: Some(vec![9_900]),
                    external_ref: Some(Box::new(ExternalRef {
                        marketplace_order_id: Some(s("1138342255777-01")),
                        services_endpoint: Some(s("https://v.example/api/oms")),
                    })),
                    document_sha256: Some("ab".repeat(32)),
                },
            },
            Command::PlaceOrder {
                marketplace: s("m"),
                body: OrderBody {
                    id: Some(s("o1")),
                    items: Some(vec![
                        OrderItemBody { sku: Some(s("s-k")), quantity: Some(3), seller: Some(s("s")) },
                        OrderItemBody::default(),
                    ]),
                    ..OrderBody::default()
                },
            },
            Command::PlaceOrder {
                marketplace: s("m"),
                body: OrderBody { id: Some(s("o2")), items: Some(vec![]), ..OrderBody::default() },
            },
            Command::AuthorizeOrder { marketplace: s("m"), id: s("o1") },
            Command::CancelOrder { account: s("m"), id: s("o1") },
            Command::InvoiceOrder { account: s("s"), id: s("m.o1"), invoice: None },
            Command::InvoiceOrder {
                account: s("s"),
                id: s("m.o2"),
                invoice: Some(Box::new(InvoiceBody {
                    number: Some(s("NFe-00002")),
                    value: Some(5500),
                    issued_ms: Some(1_764_590_400_123),
                    courier: Some(s("Correios")),
                    tracking_number: None,
                    tracking_url: Some(s("https://track.example/1")),
                })),
            },
            Command::ExpireOrders {},
        ]
    }

    #[test]
    fn every_binary_kind_decodes_to_the_same_command() {
        for c in samples() {
            let b = encode(&c).unwrap_or_else(|| panic!("{c:?} has a binary form"));
            assert_eq!(decode(&b), Ok(c.clone()));
            // Every byte matters: a flipped bit anywhere is refused, never misread.
            for i in 0..b.len() {
                let mut bad = b.clone();
                bad[i] ^= 0x10;
                assert!(decode(&bad).is_err(), "{c:?}, byte {i}");
            }
            assert!(decode(&b[..b.len() - 1]).is_err());
        }
    }

    #[test]
    fn other_kinds_have_no_binary_form() {
        let c = Command::CreateAccount { id: "a".into(), name: "A".into(), currency: "BRL".into(), token_hash: None };
        assert_eq!(encode(&c), None);
        let c = Command::SkipEventSeq { seq: 3 };
        assert_eq!(encode(&c), None);
    }

    #[test]
    fn another_layout_version_or_tag_is_unknown_not_damage() {
        let mut b = encode(&Command::ExpireOrders {}).unwrap();
        b[5] = 200;
        let crc = crc32(&b[4..]);
        b[..4].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(decode(&b), Err(BinError::Unknown(_))));
        b[4] = BIN_FORMAT + 1;
        let crc = crc32(&b[4..]);
        b[..4].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(decode(&b), Err(BinError::Unknown(_))));
    }
}
