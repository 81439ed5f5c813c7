//! Inbound auth of the VTEX routes (vtex-compat.md §0): `X-VTEX-API-AppKey` = the calling
//! account's id and `X-VTEX-API-AppToken` = its token (the account's existing bearer token),
//! or `Authorization: Bearer <token>` as on `/v1`. Token checking is the server's (SHA-256,
//! constant time, named tokens): it comes in as [`crate::VtexState::tokens`], so this crate
//! never holds a token or its hash. Or the path form `/vtex/{s}/k/{key}/…` (`keyed.rs`): the
//! key was checked before the request reached its route, which finds the connection it opened
//! in the request's extensions ([`Keyed`]), where a client cannot put anything. 401 = missing
//! or bad credentials; 403 = valid credentials of an account the route does not admit.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use crate::error::{VtexError, VtexResult};
use crate::{Caller, VtexState};

pub const APP_KEY: &str = "x-vtex-api-appkey";
pub const APP_TOKEN: &str = "x-vtex-api-apptoken";

/// The one value of header `name`, as visible ASCII; several values are refused (proxies may
/// each pick another).
fn one<'a>(headers: &'a HeaderMap, name: &str) -> VtexResult<Option<&'a str>> {
    let mut all = headers.get_all(name).iter();
    match (all.next(), all.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(VtexError::unauthorized(format!("send one {name} header, not several"))),
        (Some(v), None) => {
            let v = v.to_str().map_err(|_| VtexError::unauthorized(format!("{name} is not visible ASCII")))?;
            Ok(Some(v.trim()))
        }
    }
}

/// A request that came through the path form with a valid connection key: the marketplace of
/// that connection calls, for routes of the seller `seller` only (the path keeps its account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyed {
    pub seller: String,
    pub marketplace: String,
}

/// What a request brings to authenticate with: its headers, and the connection its key opened
/// when it came through the path form.
pub struct Sent {
    pub headers: HeaderMap,
    pub keyed: Option<Keyed>,
}

impl<S: Send + Sync> FromRequestParts<S> for Sent {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Sent, Infallible> {
        Ok(Sent { headers: parts.headers.clone(), keyed: parts.extensions.get::<Keyed>().cloned() })
    }
}

/// Who is calling and, for the operator, which account it acts as (its AppKey): the
/// operator may call anything, but a VTEX route still needs the marketplace it speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    pub caller: Caller,
    /// The account the request speaks for: the caller's own, or the operator's AppKey.
    pub acting: Option<String>,
}

/// Authenticates a request by its connection key (the path form), else by its headers
/// (AppKey/AppToken first, then a bearer token), then takes a token of the caller's rate limit
/// (429 `rate_limited` past it; `limit.rs`).
pub fn authenticate(st: &VtexState, sent: &Sent) -> VtexResult<Authenticated> {
    let a = match &sent.keyed {
        // Exactly as if the marketplace had sent its AppKey and AppToken.
        Some(k) => {
            Authenticated { caller: Caller::Account(k.marketplace.clone()), acting: Some(k.marketplace.clone()) }
        }
        None => credentials(st, &sent.headers)?,
    };
    let caller = match &a.caller {
        Caller::Account(id) => id.as_str(),
        Caller::Operator => "",
    };
    if !st.limiter.admit(caller) {
        return Err(VtexError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests from this caller: wait for Retry-After seconds",
        ));
    }
    Ok(a)
}

fn credentials(st: &VtexState, headers: &HeaderMap) -> VtexResult<Authenticated> {
    let key = one(headers, APP_KEY)?;
    let token = one(headers, APP_TOKEN)?;
    let wrong = || VtexError::unauthorized("the credentials are not valid: not the operator's, nor an account's token");
    if let Some(token) = token {
        let caller = (st.tokens)(token).ok_or_else(wrong)?;
        return match (&caller, key) {
            (Caller::Account(a), Some(k)) if a == k => Ok(Authenticated { acting: Some(a.clone()), caller }),
            (Caller::Account(_), _) => Err(VtexError::unauthorized(
                "X-VTEX-API-AppKey must be the account id of the X-VTEX-API-AppToken's account",
            )),
            (Caller::Operator, k) => Ok(Authenticated { acting: k.map(str::to_string), caller }),
        };
    }
    if key.is_some() {
        return Err(VtexError::unauthorized("X-VTEX-API-AppKey was sent without X-VTEX-API-AppToken"));
    }
    let Some(auth) = one(headers, header::AUTHORIZATION.as_str())? else {
        return Err(VtexError::unauthorized(
            "this route needs X-VTEX-API-AppKey and X-VTEX-API-AppToken headers (or Authorization: Bearer <token>)",
        ));
    };
    let bearer = auth.split_once(' ').filter(|(s, t)| s.eq_ignore_ascii_case("bearer") && !t.trim().is_empty());
    let (_, token) = bearer.ok_or_else(|| VtexError::unauthorized("Authorization is not `Bearer <token>`"))?;
    let caller = (st.tokens)(token.trim()).ok_or_else(wrong)?;
    let acting = match &caller {
        Caller::Account(a) => Some(a.clone()),
        Caller::Operator => None,
    };
    Ok(Authenticated { caller, acting })
}
