//! Bulk import: `POST /v1/accounts/{a}/import`, NDJSON, one catalog line per line, applied as
//! ONE command (`Command::Import`): one journal entry, one settle, every line or none.
//!
//! The body is read whole within [`MAX_IMPORT_BYTES`] (this route's own limit; every other
//! route keeps `body_limit_bytes`), split into lines, and each line is parsed like the body of
//! its single route (`extract.rs`: a key given twice, blank strings, unknown fields, wrong
//! types) into an [`ImportLine`]. Lines that do not parse are all listed (400) before anything
//! is queued; the engine then checks the rest against its state and lists what it refuses the
//! same way. The body's bytes are dropped once parsed: the lines are the only copy queued.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use offernet_core::*;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::respond::{json, St};
use crate::error::{ApiError, ApiResult};
use crate::extract::{body_error, check_values, typed, ActsFor, Nulls};
use crate::state::AppState;

/// The route's template (`track` gives it [`IMPORT_TIMEOUT_MS`]).
pub const IMPORT_ROUTE: &str = "/v1/accounts/{a}/import";
/// The media type of the body; any other is refused with 415.
pub const NDJSON: &str = "application/x-ndjson";
/// Largest import body (256 MiB): a million catalog lines of about 250 bytes. Its journal entry
/// is at most this plus the `null`s of absent fields (< 200 bytes a line), well within SQLite's
/// and PostgreSQL's 1 GB per value.
pub const MAX_IMPORT_BYTES: usize = 256 << 20;
/// Longest line (1 MiB, the default body limit of a single `PUT`): one line is one body.
pub const MAX_IMPORT_LINE_BYTES: usize = 1 << 20;
/// An import may take 5 minutes (instead of `request_timeout_ms`): a million lines are parsed,
/// journaled and applied in about 10 to 20 s on a small machine; the margin is for a slow disk.
pub const IMPORT_TIMEOUT_MS: u64 = 300_000;
/// Its body may take 2 minutes to arrive (instead of `body_timeout_ms`): 256 MiB at about
/// 2 MiB/s.
pub const IMPORT_BODY_TIMEOUT_MS: u64 = 120_000;

/// Whether `path` is an import's (`/v1/accounts/{a}/import`): the body timeout is applied
/// before routing.
pub fn is_import_path(path: &str) -> bool {
    let mut parts = path.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(""), Some("v1"), Some("accounts"), Some(a), Some("import"), None) if !a.is_empty()
    )
}

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(import))
}

/// What an import applied.
#[derive(Serialize, ToSchema)]
struct Imported {
    account: String,
    /// Lines applied (blank lines are skipped).
    lines: usize,
    /// Lines applied per kind.
    counts: ImportCounts,
    /// Events the import's settle emitted (offer changes, suggestions), numbered
    /// `first_seq..=last_seq`.
    events: usize,
    #[schema(required = true)]
    first_seq: Option<u64>,
    #[schema(required = true)]
    last_seq: Option<u64>,
}

/// A refused import: `{"error": {"code": "invalid_import", "message", "lines", "total"}}`.
#[derive(Serialize, ToSchema)]
struct ImportRefused {
    #[schema(inline)]
    error: ImportRefusal,
}

#[derive(Serialize, ToSchema)]
struct ImportRefusal {
    /// `invalid_import`.
    code: &'static str,
    message: String,
    /// The first 1,000 refused lines, in order.
    lines: Vec<LineRefusal>,
    /// Refused lines in all.
    total: usize,
}

/// One refused line.
#[derive(Serialize, ToSchema)]
struct LineRefusal {
    /// Its line number in the request body, from 1.
    line: usize,
    /// The line's field at fault (`kind`, `id`, `ean`, `body.x`, …), when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// What the single route would answer: `invalid_json`, `invalid_field`, `not_found`,
    /// `conflict`.
    code: &'static str,
    reason: String,
}

/// Import SKUs, prices, warehouses, stock and trade policies (NDJSON, all or nothing)
///
/// The body is NDJSON (`Content-Type: application/x-ndjson`): one JSON object a line, each with
/// a `kind` and the fields of the single route's body plus the ids its path gives:
/// `{"kind": "sku", "id", …SkuBody}`, `{"kind": "price", "sku", …PriceBody}`, `{"kind":
/// "warehouse", "id", …WarehouseBody}`, `{"kind": "stock", "warehouse", "sku", …StockBody}`,
/// `{"kind": "trade_policy", "id", …TradePolicyBody}`. Lines apply in order, so a line may name
/// what an earlier line creates; blank lines are skipped. The import is one command: one journal
/// entry and one settle, and either every line applies or none does. A refused import answers
/// 400 `invalid_import` listing each bad line (number, field, reason; the first 1,000, with the
/// total). Limits: 256 MiB, 1,000,000 lines, 1 MiB a line (413); the request may take 5
/// minutes.
// The body's schema (an array of `Import<Kind>Line`, one item a line) is made from the bodies'
// schemas by `openapi_requests::import_lines`, which replaces the `String` given here.
#[utoipa::path(post, path = "/v1/accounts/{a}/import", tag = "catalog", params(params::A),
    request_body(content = String, content_type = "application/x-ndjson",
        description = "One JSON object a line: `{\"kind\": \"sku\"|\"price\"|\"warehouse\"|\"stock\"|\"trade_policy\", …}`"),
    responses((status = 200, description = "every line applied", body = Imported),
        (status = 400, description = "refused lines, each listed (invalid_import), or no line at all (invalid_field `lines`, an `Error`: `openapi_requests::import_lines` says so); nothing applied", body = ImportRefused),
        (status = 413, description = "over 256 MiB (body_too_large), over 1,000,000 lines (too_many_lines) or a line over 1 MiB (line_too_long)", body = crate::error::ErrorBody),
        (status = 415, description = "not application/x-ndjson (unsupported_media_type)", body = crate::error::ErrorBody)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn import(st: St, Path(a): Path<String>, who: ActsFor, headers: HeaderMap, body: Body) -> ApiResult<Response> {
    check_media_type(&headers)?;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_IMPORT_BYTES as u64) {
        return Err(ApiError::body_too_large(MAX_IMPORT_BYTES));
    }
    let bytes = axum::body::to_bytes(body, MAX_IMPORT_BYTES).await.map_err(|e| body_error(e, MAX_IMPORT_BYTES))?;
    // Parsing a million lines takes a second or two of CPU: off the async workers.
    let parsed = tokio::task::spawn_blocking(move || parse_body(&bytes))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))??;
    let Parsed { lines, numbers } = match parsed {
        Ok(p) => p,
        Err(errors) => return Ok(refused(errors, &[])),
    };
    super::integration::refuse_managed_lines(&st, &who.caller, &a, &lines)?;
    let counts = ImportCounts::of(&lines);
    let n = lines.len();
    let events = match st.writer.submit(Command::Import { account: a.clone(), lines }).await? {
        Ok(events) => events,
        Err(DomainError::Import(errors)) => return Ok(refused(*errors, &numbers)),
        Err(e) => return Err(e.into()),
    };
    let answer = Imported {
        account: a,
        lines: n,
        counts,
        events: events.len(),
        first_seq: events.first().map(|e| e.seq),
        last_seq: events.last().map(|e| e.seq),
    };
    Ok(json(StatusCode::OK, answer))
}

fn check_media_type(headers: &HeaderMap) -> ApiResult<()> {
    let given = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = given.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case(NDJSON) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("an import is NDJSON: send `Content-Type: {NDJSON}` (got `{given}`)"),
    ))
}

/// The lines of a body and the line number of each (blank lines skipped).
struct Parsed {
    lines: Vec<ImportLine>,
    numbers: Vec<u32>,
}

/// Splits and parses the body: an `Err` answer for a limit (413), else the lines or every
/// line's error.
fn parse_body(bytes: &[u8]) -> ApiResult<Result<Parsed, ImportErrors>> {
    let text_lines =
        || bytes.split(|&b| b == b'\n').enumerate().filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace));
    let mut count = 0usize;
    for (i, l) in text_lines() {
        count += 1;
        if count > MAX_IMPORT_LINES {
            return Err(too_large(
                "too_many_lines",
                format!("an import has at most {MAX_IMPORT_LINES} lines; split the file (offernet import does)"),
            ));
        }
        if l.len() > MAX_IMPORT_LINE_BYTES {
            return Err(too_large(
                "line_too_long",
                format!("line {} has {} bytes; a line has at most {MAX_IMPORT_LINE_BYTES}", i + 1, l.len()),
            ));
        }
    }
    if count == 0 {
        return Err(ApiError::invalid_field("lines", "an import has at least one line"));
    }
    let mut parsed = Parsed { lines: Vec::with_capacity(count), numbers: Vec::with_capacity(count) };
    let mut errors = ImportErrors::default();
    for (i, l) in text_lines() {
        match parse_line(l) {
            Ok(line) => {
                parsed.lines.push(line);
                parsed.numbers.push((i + 1) as u32);
            }
            // `index` is the line's position in the body here (its number minus one).
            Err((field, code, reason)) => errors.push(LineError { index: i, field, code, reason }),
        }
    }
    Ok(if errors.total > 0 { Err(errors) } else { Ok(parsed) })
}

fn too_large(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
}

type LineFault = (Option<String>, &'static str, String);

/// The kinds of line, as the error for an unknown one lists them.
const KINDS: &str = "sku, price, warehouse, stock or trade_policy";

/// One line as its single route would read its body, plus `kind` and the path's ids.
fn parse_line(text: &[u8]) -> Result<ImportLine, LineFault> {
    let value = serde_json::from_slice::<crate::strict_json::Strict>(text)
        .map_err(|e| (None, "invalid_json", format!("not valid JSON: {e}")))?
        .0;
    check_values(&value, "", Nulls::Allowed).map_err(fault)?;
    let Value::Object(mut map) = value else {
        return Err((None, "invalid_json", "a line is one JSON object".into()));
    };
    let kind = match map.remove("kind") {
        Some(Value::String(k)) => k,
        Some(_) => return Err((Some("kind".into()), "invalid_field", format!("expected text: {KINDS}"))),
        None => return Err((Some("kind".into()), "invalid_field", format!("required: {KINDS}"))),
    };
    fn body<T: serde::de::DeserializeOwned>(map: Map<String, Value>) -> Result<T, LineFault> {
        typed(Value::Object(map)).map_err(fault)
    }
    Ok(match kind.as_str() {
        "sku" => ImportLine::Sku { id: take_id(&mut map, "id")?, body: body(map)? },
        "price" => ImportLine::Price { sku: take_id(&mut map, "sku")?, body: body(map)? },
        "warehouse" => ImportLine::Warehouse { id: take_id(&mut map, "id")?, body: body(map)? },
        "stock" => {
            let warehouse = take_id(&mut map, "warehouse")?;
            ImportLine::Stock { warehouse, sku: take_id(&mut map, "sku")?, body: body(map)? }
        }
        "trade_policy" => ImportLine::TradePolicy { id: take_id(&mut map, "id")?, body: body(map)? },
        other => {
            return Err((Some("kind".into()), "invalid_field", format!("unknown kind `{other}`: {KINDS}")));
        }
    })
}

/// An [`ApiError`] about a line's field as a line fault.
fn fault(e: ApiError) -> LineFault {
    let reason = match &e.field {
        Some(f) => e.message.strip_prefix(&format!("invalid field `{f}`: ")).unwrap_or(&e.message).to_string(),
        None => e.message.clone(),
    };
    (e.field, e.code, reason)
}

/// Takes the required id `key` out of a line.
fn take_id(map: &mut Map<String, Value>, key: &str) -> Result<String, LineFault> {
    match map.remove(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err((Some(key.into()), "invalid_field", "expected an id (text)".into())),
        None => Err((Some(key.into()), "invalid_field", "required".into())),
    }
}

/// A refused import as its 400 answer; `numbers` maps a line's position in the command to its
/// line number (empty: the positions are already the body's).
fn refused(errors: ImportErrors, numbers: &[u32]) -> Response {
    let number = |i: usize| numbers.get(i).map_or(i + 1, |&n| n as usize);
    let lines: Vec<LineRefusal> = errors
        .lines
        .into_iter()
        .map(|e| LineRefusal { line: number(e.index), field: e.field, code: e.code, reason: e.reason })
        .collect();
    let message = format!(
        "{} line(s) refused, nothing was imported{}",
        errors.total,
        if errors.total > lines.len() { format!("; the first {} are listed", lines.len()) } else { String::new() }
    );
    let error = ImportRefusal { code: "invalid_import", message, lines, total: errors.total };
    json(StatusCode::BAD_REQUEST, ImportRefused { error })
}
