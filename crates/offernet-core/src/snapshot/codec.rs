//! The byte codec of snapshots: little-endian integers, length-prefixed strings, one-byte
//! codes. The reader refuses a code it does not know, naming it and its byte position.

use std::sync::Arc;

use crate::model::*;

pub(super) type DResult<T> = Result<T, String>;

/// Writes snapshot bytes.
pub(super) struct W(pub(super) Vec<u8>);

impl W {
    pub(super) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(super) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }
    pub(super) fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    /// An option: code 0 (none) or 1 followed by the value.
    pub(super) fn opt<T>(&mut self, v: Option<T>, f: impl FnOnce(&mut W, T)) {
        match v {
            None => self.u8(0),
            Some(x) => {
                self.u8(1);
                f(self, x);
            }
        }
    }
    pub(super) fn opt_str(&mut self, s: &Option<Arc<str>>) {
        self.opt(s.as_deref(), |w, s| w.str(s));
    }
    pub(super) fn price(&mut self, p: &Price) {
        self.i64(p.price);
        self.opt(p.list_price, |w, v| w.i64(v));
    }
    pub(super) fn account(&mut self, a: AccountIdx) {
        self.u32(a.0);
    }
    pub(super) fn sku(&mut self, s: SkuIdx) {
        self.u32(s.0);
    }
    pub(super) fn tp(&mut self, t: TpIdx) {
        self.u32(t.0 as u32);
    }
    pub(super) fn wh(&mut self, w: WhIdx) {
        self.u32(w.0 as u32);
    }
    /// (account, SKU) pairs: bindings and sources.
    pub(super) fn pairs(&mut self, v: &[(AccountIdx, SkuIdx)]) {
        self.u32(v.len() as u32);
        for &(a, s) in v {
            self.account(a);
            self.sku(s);
        }
    }
}

/// Reads snapshot bytes from position `at`.
pub(super) struct R<'a> {
    pub(super) b: &'a [u8],
    pub(super) at: usize,
}

impl<'a> R<'a> {
    /// `n` counted items of at least `min_bytes` each, capped at what the bytes left could
    /// hold: what to reserve, so that a corrupt count cannot ask for more memory than that.
    pub(super) fn room(&self, n: usize, min_bytes: usize) -> usize {
        n.min(self.b.len().saturating_sub(self.at) / min_bytes)
    }
    pub(super) fn take(&mut self, n: usize) -> DResult<&'a [u8]> {
        if self.at + n > self.b.len() {
            return Err(format!("snapshot truncated at byte {}", self.at));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    pub(super) fn u8(&mut self) -> DResult<u8> {
        Ok(self.take(1)?[0])
    }
    pub(super) fn u32(&mut self) -> DResult<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    pub(super) fn u64(&mut self) -> DResult<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    pub(super) fn i64(&mut self) -> DResult<i64> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    /// A one-byte code of `what` that `decode` maps to a value; any other byte is refused,
    /// naming the code and its position (never mapped to a default).
    pub(super) fn code<T>(&mut self, what: &str, decode: impl FnOnce(u8) -> Option<T>) -> DResult<T> {
        let at = self.at;
        let c = self.u8()?;
        decode(c).ok_or_else(|| format!("unknown {what} code {c} at byte {at}"))
    }
    pub(super) fn bool(&mut self) -> DResult<bool> {
        self.bool_of("boolean")
    }
    /// An option written by `W::opt`.
    pub(super) fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> DResult<T>) -> DResult<Option<T>> {
        Ok(if self.bool_of("option")? { Some(f(self)?) } else { None })
    }
    fn bool_of(&mut self, what: &str) -> DResult<bool> {
        self.code(what, |c| match c {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        })
    }
    pub(super) fn str(&mut self) -> DResult<Arc<str>> {
        Ok(Arc::from(self.str_ref()?))
    }
    /// A string read in place (no copy): for text the caller shares instead of owning.
    pub(super) fn str_ref(&mut self) -> DResult<&'a str> {
        let n = self.u32()? as usize;
        let at = self.at;
        std::str::from_utf8(self.take(n)?).map_err(|_| format!("invalid UTF-8 at byte {at}"))
    }
    pub(super) fn opt_str(&mut self) -> DResult<Option<Arc<str>>> {
        self.opt(|r| r.str())
    }
    pub(super) fn price(&mut self) -> DResult<Price> {
        Ok(Price { price: self.i64()?, list_price: self.opt(|r| r.i64())? })
    }
    pub(super) fn account(&mut self) -> DResult<AccountIdx> {
        Ok(AccountIdx(self.u32()?))
    }
    pub(super) fn sku(&mut self) -> DResult<SkuIdx> {
        Ok(SkuIdx(self.u32()?))
    }
    /// A trade policy or warehouse index, written as a u32 and held as a u16.
    fn u16_index(&mut self, what: &str) -> DResult<u16> {
        let at = self.at;
        let v = self.u32()?;
        u16::try_from(v).map_err(|_| format!("{what} index {v} out of range at byte {at}"))
    }
    pub(super) fn tp(&mut self) -> DResult<TpIdx> {
        Ok(TpIdx(self.u16_index("trade policy")?))
    }
    pub(super) fn wh(&mut self) -> DResult<WhIdx> {
        Ok(WhIdx(self.u16_index("warehouse")?))
    }
    pub(super) fn pairs(&mut self) -> DResult<Few<(AccountIdx, SkuIdx)>> {
        self.few(|r| Ok((r.account()?, r.sku()?)))
    }
    /// A counted list read straight into a `Few`: one element is held in place without the
    /// heap block a `Vec` would take (and free) first, as most SKUs have.
    pub(super) fn few<T>(&mut self, mut f: impl FnMut(&mut Self) -> DResult<T>) -> DResult<Few<T>> {
        let n = self.u32()? as usize;
        if n == 1 {
            return Ok(Few::One(f(self)?));
        }
        let mut v = Vec::with_capacity(self.room(n, 8));
        for _ in 0..n {
            v.push(f(self)?);
        }
        Ok(Few::from(v))
    }
}
