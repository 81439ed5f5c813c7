//! B3 fulfil and B4 cancel (ESF `requestOrderId` → `repsonseOrderId`, vtex-compat.md §2.2):
//! `AuthorizeOrder` / `CancelOrder` of V's order, answered with dates and receipts derived from
//! stored state, so that a retry gets the same bytes.

use offernet_core::{Engine, OrderAnswer, OrderStatus};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{VtexError, VtexResult};
use crate::hex;

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
    hex(&Sha256::digest(format!("{}{seller_order_id}", action.prefix()).as_bytes()))[..32].to_string()
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

/// A Unix time in milliseconds from `YYYY-MM-DD` or `YYYY-MM-DDThh:mm[:ss[.fff…]]` with `Z`,
/// `±hh:mm` or nothing (UTC) after it: what VTEX sends as `issuanceDate`. `None` when not
/// such a date (or before 1970).
pub fn parse_iso_date(s: &str) -> Option<u64> {
    let num = |t: &str| -> Option<i64> { t.bytes().all(|b| b.is_ascii_digit()).then(|| t.parse().ok())? };
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00"));
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    if d.next().is_some() || date.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, offset_min) = match time.find(['Z', '+', '-']) {
        None => (time, 0),
        Some(i) if &time[i..] == "Z" => (&time[..i], 0),
        Some(i) => {
            let (h, mi) = time[i + 1..].split_once(':')?;
            let off = num(h)? * 60 + num(mi)?;
            (&time[..i], if time.as_bytes()[i] == b'+' { off } else { -off })
        }
    };
    let mut c = clock.split(':');
    let (h, mi) = (num(c.next()?)?, num(c.next()?)?);
    let (sec, milli) = match c.next() {
        None => (0, 0),
        Some(x) => {
            let (whole, frac) = x.split_once('.').unwrap_or((x, ""));
            if !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let frac3: String = frac.chars().chain("000".chars()).take(3).collect();
            (num(whole)?, num(&frac3)?)
        }
    };
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Days since the epoch of the civil date (Howard Hinnant's algorithm, as `iso_date`).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = ((days * 24 + h) * 60 + mi - offset_min) * 60_000 + sec * 1000 + milli;
    u64::try_from(ms).ok()
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
