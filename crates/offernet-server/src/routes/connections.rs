//! Both halves of a connection: the seller's (`affiliations`) and the marketplace's
//! (`sellers`), each with PUT (replace), PATCH (given fields), DELETE (end) and GET.

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use axum::routing::{delete, get, patch, put, MethodRouter};
use offernet_core::*;

use super::{doc, ok, write_no_content, write_then, RouteDoc, St};
use crate::error::ApiResult;
use crate::extract::{ActsFor, PatchJson, Reads, StrictJson};
use crate::AppState;

pub(super) fn routes() -> Vec<(RouteDoc, MethodRouter<Arc<AppState>>)> {
    const AFF: &str = "/v1/accounts/{s}/affiliations/{m}";
    const SEL: &str = "/v1/accounts/{m}/sellers/{s}";
    let (a, r) = (Some("AffiliationBody"), Some("SellerBody"));
    vec![
        (doc("PUT", AFF, "s", "The seller's half of a connection", a, "Affiliation", 200), put(put_affiliation)),
        (
            doc("PATCH", AFF, "s", "Change given fields of the seller's half", a, "Affiliation", 200),
            patch(patch_affiliation),
        ),
        (doc("DELETE", AFF, "s", "End the seller's half", None, "", 204), delete(delete_affiliation)),
        (doc("GET", AFF, "s", "The seller's half", None, "Affiliation", 200), get(get_affiliation)),
        (doc("PUT", SEL, "m", "The marketplace's half of a connection", r, "Registration", 200), put(put_seller)),
        (
            doc("PATCH", SEL, "m", "Change given fields of the marketplace's half", r, "Registration", 200),
            patch(patch_seller),
        ),
        (doc("DELETE", SEL, "m", "End the marketplace's half", None, "", 204), delete(delete_seller)),
        (doc("GET", SEL, "m", "The marketplace's half", None, "Registration", 200), get(get_seller)),
    ]
}

type Two = Path<(String, String)>;

async fn put_affiliation(
    st: St,
    Path((s, m)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<AffiliationBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutAffiliation { seller: s.clone(), marketplace: m.clone(), body };
    write_then(&st, cmd, |e| e.affiliation(&s, &m)).await
}

async fn patch_affiliation(
    st: St,
    Path((s, m)): Two,
    _: ActsFor,
    PatchJson(body): PatchJson<AffiliationBody>,
) -> ApiResult<Response> {
    let cmd = Command::PatchAffiliation { seller: s.clone(), marketplace: m.clone(), body };
    write_then(&st, cmd, |e| e.affiliation(&s, &m)).await
}

async fn delete_affiliation(st: St, Path((s, m)): Two, _: ActsFor) -> ApiResult<Response> {
    write_no_content(&st, Command::DeleteAffiliation { seller: s, marketplace: m }).await
}

async fn get_affiliation(st: St, Path((s, m)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.affiliation(&s, &m))?))
}

async fn put_seller(
    st: St,
    Path((m, s)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<SellerBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutSeller { marketplace: m.clone(), seller: s.clone(), body };
    write_then(&st, cmd, |e| e.registration(&m, &s)).await
}

async fn patch_seller(
    st: St,
    Path((m, s)): Two,
    _: ActsFor,
    PatchJson(body): PatchJson<SellerBody>,
) -> ApiResult<Response> {
    let cmd = Command::PatchSeller { marketplace: m.clone(), seller: s.clone(), body };
    write_then(&st, cmd, |e| e.registration(&m, &s)).await
}

async fn delete_seller(st: St, Path((m, s)): Two, _: ActsFor) -> ApiResult<Response> {
    write_no_content(&st, Command::DeleteSeller { marketplace: m, seller: s }).await
}

async fn get_seller(st: St, Path((m, s)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.registration(&m, &s))?))
}
