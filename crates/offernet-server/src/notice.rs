//! The lines the server prints outside `tracing`: the journal it opened, where the operator
//! token comes from, the address it listens on, shutdown. They are always printed (whatever
//! `OFFERNET_LOG` filters), as plain text, or with `--log-format json` as JSON lines in the
//! shape of tracing-subscriber's JSON formatter (`timestamp`, `level`, `fields.message`,
//! `target`), so that a log collector reads every line of the process the same way.

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a notice goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum To {
    Stdout,
    Stderr,
}

/// Prints `message` on `to`: as it is in text mode, as one JSON line in JSON mode (`level`:
/// `INFO`, `WARN` or `ERROR`; `extra` fields go beside the message).
pub fn notice(json: bool, to: To, level: &str, message: &str, extra: &[(&str, &str)]) {
    let line = if json { json_line(level, message, extra) } else { message.to_string() };
    match to {
        To::Stdout => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        To::Stderr => {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }
}

/// One JSON log line, as tracing-subscriber's JSON formatter writes an event.
pub fn json_line(level: &str, message: &str, extra: &[(&str, &str)]) -> String {
    let mut fields = serde_json::Map::new();
    fields.insert("message".into(), message.into());
    for (k, v) in extra {
        fields.insert((*k).into(), (*v).into());
    }
    serde_json::json!({
        "timestamp": timestamp(SystemTime::now()),
        "level": level,
        "fields": fields,
        "target": "offernet",
    })
    .to_string()
}

/// RFC 3339 in UTC with microseconds (`2026-12-01T04:36:44.123456Z`).
fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z", rem / 3600, rem % 3600 / 60, rem % 60, d.subsec_micros())
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_micros(1_796_099_804_123_456);
        assert_eq!(timestamp(t), "2026-12-01T04:36:44.123456Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(timestamp(leap), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn json_lines_carry_the_message_and_fields() {
        let v: serde_json::Value = serde_json::from_str(&json_line("INFO", "a \"b\"\n", &[("addr", "x")])).unwrap();
        assert_eq!(v["fields"]["message"], "a \"b\"\n");
        assert_eq!(v["fields"]["addr"], "x");
        assert_eq!(v["level"], "INFO");
    }
}
