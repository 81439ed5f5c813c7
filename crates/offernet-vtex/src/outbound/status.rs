//! What the outbound side knows of each external account, for `GET /v1/accounts/{a}/
//! integration/status` (vtex-compat.md §3.1) and `/metrics` (§3.2): the circuit, the last
//! quote fetch, pending effects by kind, the last 20 errors, and counters per call.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Semaphore;

use super::circuit::Breaker;
use super::{Call, MAX_IN_FLIGHT_PER_ACCOUNT};

/// Errors kept per account.
pub const ERRORS_KEPT: usize = 20;

/// One failed call, as the status shows it (never a secret: URLs are not kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    pub at_ms: u64,
    pub call: Call,
    pub outcome: &'static str,
    pub status: Option<u16>,
    pub message: String,
}

/// One external account's outbound state.
pub struct AccountStatus {
    pub breaker: Breaker,
    pub in_flight: Arc<Semaphore>,
    pub last_quote_fetch_ms: Option<u64>,
    pub pending: BTreeMap<String, u64>,
    pub errors: VecDeque<CallError>,
}

impl Default for AccountStatus {
    fn default() -> Self {
        AccountStatus {
            breaker: Breaker::default(),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT_PER_ACCOUNT)),
            last_quote_fetch_ms: None,
            pending: BTreeMap::new(),
            errors: VecDeque::new(),
        }
    }
}

impl AccountStatus {
    pub fn error(&mut self, e: CallError) {
        if self.errors.len() == ERRORS_KEPT {
            self.errors.pop_front();
        }
        self.errors.push_back(e);
    }

    /// The status document (newest error first).
    pub fn view(&self, now_ms: u64, running: bool) -> StatusView {
        let errors = self
            .errors
            .iter()
            .rev()
            .map(|e| ErrorView {
                at_ms: e.at_ms,
                call: e.call.name(),
                outcome: e.outcome,
                status: e.status,
                message: e.message.clone(),
            })
            .collect();
        StatusView {
            running,
            circuit: CircuitView {
                state: self.breaker.state(now_ms),
                consecutive_failures: self.breaker.consecutive_failures(),
                open_until_ms: self.breaker.open_until_ms(),
            },
            in_flight: (MAX_IN_FLIGHT_PER_ACCOUNT - self.in_flight.available_permits()) as u32,
            last_quote_fetch_ms: self.last_quote_fetch_ms,
            pending_effects: self.pending.clone(),
            errors,
        }
    }
}

/// `GET /v1/accounts/{a}/integration/status`: how the calls to this external party go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    /// Whether the VTEX workers run in this process (`--vtex`); without them nothing is called
    /// and the rest is empty.
    pub running: bool,
    pub circuit: CircuitView,
    /// Calls in flight now (at most 8).
    #[schema(minimum = 0, maximum = 8)]
    pub in_flight: u32,
    /// When the last quote simulation was answered (an external seller), ms since the epoch.
    pub last_quote_fetch_ms: Option<u64>,
    /// Calls waiting to be made, by kind (kinds with none are left out).
    pub pending_effects: BTreeMap<String, u64>,
    /// The last 20 failed calls, newest first.
    pub errors: Vec<ErrorView>,
}

/// The circuit breaker of this party (vtex-compat.md §3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CircuitView {
    /// `closed`, `open` (nothing is sent) or `half_open` (one probe may go).
    #[schema(pattern = "^(closed|open|half_open)$")]
    pub state: &'static str,
    pub consecutive_failures: u32,
    /// While open: when the next probe may go, ms since the epoch.
    pub open_until_ms: Option<u64>,
}

/// One failed call (no URL or secret is kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErrorView {
    pub at_ms: u64,
    /// The call (`quote_simulation`, `placement`, `invoice`, …).
    pub call: &'static str,
    /// `timeout`, `transport`, `server_error`, `rate_limited`, `client_error`, `bad_answer`,
    /// `refused` or `circuit_open`.
    pub outcome: &'static str,
    /// The answer's status, when there was one.
    pub status: Option<u16>,
    pub message: String,
}

/// Counters per call for `/metrics`.
#[derive(Default)]
pub struct CallStats {
    /// (call, outcome) → calls.
    pub total: BTreeMap<(&'static str, &'static str), u64>,
    /// call → (seconds summed, answered calls).
    pub seconds: BTreeMap<&'static str, (f64, u64)>,
}

/// Appends the VTEX outbound metrics in the Prometheus text format.
pub fn render(out: &mut String, stats: &CallStats, accounts: &BTreeMap<String, AccountStatus>, now_ms: u64) {
    let _ = writeln!(out, "# HELP offernet_vtex_outbound_total Calls to external VTEX parties, by call and outcome.");
    let _ = writeln!(out, "# TYPE offernet_vtex_outbound_total counter");
    for ((call, outcome), n) in &stats.total {
        let _ = writeln!(out, "offernet_vtex_outbound_total{{call=\"{call}\",outcome=\"{outcome}\"}} {n}");
    }
    let _ = writeln!(out, "# HELP offernet_vtex_outbound_seconds Time of answered calls to external VTEX parties.");
    let _ = writeln!(out, "# TYPE offernet_vtex_outbound_seconds summary");
    for (call, (sum, count)) in &stats.seconds {
        let _ = writeln!(out, "offernet_vtex_outbound_seconds_sum{{call=\"{call}\"}} {sum:.6}");
        let _ = writeln!(out, "offernet_vtex_outbound_seconds_count{{call=\"{call}\"}} {count}");
    }
    let _ = writeln!(out, "# HELP offernet_vtex_circuit_open 1 while the circuit to an external account is open.");
    let _ = writeln!(out, "# TYPE offernet_vtex_circuit_open gauge");
    for (account, a) in accounts {
        let open = u8::from(a.breaker.state(now_ms) != "closed");
        let _ = writeln!(out, "offernet_vtex_circuit_open{{account=\"{account}\"}} {open}");
    }
    let mut pending: BTreeMap<&str, u64> = BTreeMap::new();
    for a in accounts.values() {
        for (kind, n) in &a.pending {
            *pending.entry(kind).or_default() += n;
        }
    }
    let _ =
        writeln!(out, "# HELP offernet_vtex_pending_effects Calls to external parties waiting to be made, by kind.");
    let _ = writeln!(out, "# TYPE offernet_vtex_pending_effects gauge");
    for (kind, n) in pending {
        let _ = writeln!(out, "offernet_vtex_pending_effects{{kind=\"{kind}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP offernet_vtex_quote_age_seconds Time since the last quote fetch from an external seller."
    );
    let _ = writeln!(out, "# TYPE offernet_vtex_quote_age_seconds gauge");
    for (account, a) in accounts {
        if let Some(at) = a.last_quote_fetch_ms {
            let age = now_ms.saturating_sub(at) as f64 / 1000.0;
            let _ = writeln!(out, "offernet_vtex_quote_age_seconds{{account=\"{account}\"}} {age:.3}");
        }
    }
}
