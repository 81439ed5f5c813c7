//! B3 fulfil and B4 cancel (ESF `requestOrderId` → `repsonseOrderId`, vtex-compat.md §2.2):
//! `AuthorizeOrder` / `CancelOrder` of V's order, answered with dates and receipts derived from
//! stored state, so that a retry gets the same bytes.

use offernet_core::{Engine, OrderAnswer, OrderStatus};
use serde::{Deserialize, Serialize};

use crate::error::{VtexError, VtexResult};

/// The body of fulfil and cancel; the fulfil body carries only `marketplaceOrderId` (the
/// connector guide), the cancel body more, read and ignored (`cancellationRequestId`, `reason`,
/// `requestedByUser`, `paymentData`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderIdRequest {
    pub marketplace_order_id: Option<String>,
}

/// `repsonseOrderId` (VTEX's spelling of the schema's name).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = VtexOrderIdResponse)]
#[serde(rename_all = "camelCase")]
pub struct OrderIdResponse {
    /// When the order was authorised (fulfil) or cancelled (cancel), `YYYY-MM-DDThh:mm:ss.sssZ`.
    pub date: String,
    pub marketplace_order_id: String,
    /// The seller's order id, `{marketplace}.{order}`.
    pub order_id: String,
    /// The same on every retry.
    #[schema(required = true)]
    pub receipt: Option<String>,
}

/// Which action a route asks of V's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Fulfill,
    Cancel,
}

impl Action {
    fn prefix(self) -> &'static str {
        match self {
            Action::Fulfill => "authorize:",
            Action::Cancel => "cancel:",
        }
    }
}

/// The receipt of an action on seller order `seller_order_id`: the first 32 hex digits of
/// SHA-256(prefix + id), the same on every retry.
pub fn receipt(action: Action, seller_order_id: &str) -> String {
    crate::digest32(&format!("{}{seller_order_id}", action.prefix()))
}

/// `YYYY-MM-DDThh:mm:ss.sssZ` of a Unix time in milliseconds (UTC; the civil calendar from
/// days since the epoch, Howard Hinnant's algorithm).
pub fn iso_date(ms: u64) -> String {
    let (days, rem) = ((ms / 86_400_000) as i64, ms % 86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, min, s, milli) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// A Unix time in milliseconds from `YYYY-MM-DD`, or from a date and time as
/// [`parse_iso_ms`] reads it, the seconds optional (`YYYY-MM-DDThh:mm[Z|±hh:mm]`): what VTEX
/// sends as `issuanceDate`. `None` when not such a date (or before 1970).
pub fn parse_iso_date(s: &str) -> Option<u64> {
    match s.len() {
        10 => parse_iso_ms(&format!("{s}T00:00:00")),
        n if n >= 16 && s.is_char_boundary(16) && s.as_bytes().get(16) != Some(&b':') => {
            parse_iso_ms(&format!("{}:00{}", &s[..16], &s[16..]))
        }
        _ => parse_iso_ms(s),
    }
}

/// Milliseconds since the Unix epoch of an ISO 8601 date and time as VTEX writes them:
/// `YYYY-MM-DDThh:mm:ss[.fff…][Z|±hh:mm]` (no zone: UTC); `None` for anything else or a date
/// before 1970.
pub fn parse_iso_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| std::str::from_utf8(part).ok()?.parse().ok())?
    };
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if b.len() < 19 || seps.iter().any(|&(i, c)| b[i] != c) || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let first3 = format!("{:0<3}", &frac[..digits.min(3)]);
        millis = first3.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset_min = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let r = rest.as_bytes();
            let sign = match r.first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            if r.len() != 6 || r[3] != b':' {
                return None;
            }
            let oh: i64 = rest[1..3].parse().ok()?;
            let om: i64 = rest[4..6].parse().ok()?;
            sign * (oh * 60 + om)
        }
    };
    let days = days_from_civil(y, mo, d);
    let ms = ((days * 24 + h) * 60 + mi - offset_min) * 60_000 + sec * 1_000 + millis;
    u64::try_from(ms).ok()
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm, the inverse of
/// [`iso_date`]'s).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// V's order id of seller S's order `seller_order_id` (`{V}.{id}`), checked: it must be S's
/// seller order at V, and `marketplaceOrderId` (when sent) must be the order's external
/// reference.
pub fn order_of(
    engine: &Engine,
    (seller, marketplace): (&str, &str),
    seller_order_id: &str,
    req: &OrderIdRequest,
) -> VtexResult<String> {
    let not_found = || VtexError::not_found(format!("order `{seller_order_id}` of this seller at this marketplace"));
    let id = seller_order_id.strip_prefix(marketplace).and_then(|r| r.strip_prefix('.')).ok_or_else(not_found)?;
    match engine.order_view(seller, seller_order_id) {
        Ok(OrderAnswer::Seller(s)) if &*s.buyer == marketplace => {}
        _ => return Err(not_found()),
    }
    let Ok(OrderAnswer::Marketplace(o)) = engine.order_view(marketplace, id) else { return Err(not_found()) };
    let external = o.external_ref.as_ref().and_then(|x| x.marketplace_order_id.as_deref());
    if let Some(sent) = req.marketplace_order_id.as_deref() {
        if Some(sent) != external && sent != id {
            return Err(VtexError::invalid_field(
                "marketplaceOrderId",
                format!("`{sent}` is not the marketplace order of `{seller_order_id}`"),
            ));
        }
    }
    Ok(id.to_string())
}

/// The answer once the action is applied: dates from the order's stored times.
pub fn answer(engine: &Engine, marketplace: &str, id: &str, action: Action) -> VtexResult<OrderIdResponse> {
    let Ok(OrderAnswer::Marketplace(o)) = engine.order_view(marketplace, id) else {
        return Err(VtexError::internal("the order just acted on is not readable"));
    };
    let ms = match action {
        Action::Fulfill => o.authorized_ms,
        Action::Cancel if o.status == OrderStatus::Cancelled => o.closed_ms,
        Action::Cancel => None,
    };
    let ms = ms.ok_or_else(|| VtexError::conflict(format!("the order is {}", o.status.as_str())))?;
    let seller_order_id = format!("{marketplace}.{id}");
    let external = o.external_ref.as_ref().and_then(|x| x.marketplace_order_id.clone());
    Ok(OrderIdResponse {
        date: iso_date(ms),
        marketplace_order_id: external.unwrap_or_else(|| id.to_string()),
        receipt: Some(receipt(action, &seller_order_id)),
        order_id: seller_order_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_vtex_shaped_utc() {
        assert_eq!(iso_date(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_date(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_date(1_764_590_400_123), "2025-12-01T12:00:00.123Z");
        assert_eq!(iso_date(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn vtex_dates_parse_back() {
        for ms in [0, 951_782_400_000, 1_764_590_400_123, 4_102_444_799_999] {
            assert_eq!(parse_iso_date(&iso_date(ms)), Some(ms));
        }
        assert_eq!(parse_iso_date("2025-12-01"), Some(1_764_547_200_000));
        assert_eq!(parse_iso_date("2025-12-01T12:00:00-03:00"), Some(1_764_601_200_000));
        assert_eq!(parse_iso_date("2025-12-01T12:00:00.5+00:00"), Some(1_764_590_400_500));
        for bad in ["", "2025-13-01", "2025-12-01T25:00", "12/01/2025", "2025-12-01Tnoon", "1969-12-31"] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn receipts_are_stable_and_differ_by_action() {
        let a = receipt(Action::Fulfill, "v.1");
        assert_eq!(a.len(), 32);
        assert_eq!(a, receipt(Action::Fulfill, "v.1"));
        assert_ne!(a, receipt(Action::Cancel, "v.1"));
        assert_ne!(a, receipt(Action::Fulfill, "v.2"));
    }
}
