#!/usr/bin/env bash
# Property-based tests of the HTTP API against its own OpenAPI document: schemathesis (from
# PyPI, pinned, in a virtualenv made here in a temporary folder) runs every check ("all",
# including "schema-valid request rejected" and "schema-violating request accepted") against an
# `offernet serve` started here on 127.0.0.1 with a fresh data directory and stopped by its PID.
# A fixed seed and a bounded number of examples per operation make a run reproducible and its
# length predictable (about 3 minutes of requests on 2 cores with the defaults, after the install).
#
#   scripts/schemathesis.sh              # seed 12, 100 examples per operation
#   ST_SEED=7 ST_EXAMPLES=30 scripts/schemathesis.sh
#   ST_VENV=/tmp/st-venv scripts/schemathesis.sh   # reuse (or make once) a virtualenv
#
# Exits with schemathesis's status; .ci/run calls it after the tests and fails on any finding.
# The checks and the domain rules JSON Schema cannot state: schemathesis.toml and
# schemathesis_hooks.py beside this script.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
SEED="${ST_SEED:-12}"
EXAMPLES="${ST_EXAMPLES:-100}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/offernet-schemathesis-XXXXXX")"
SERVER_PID=""
ST_PID=""
cleanup() {
  if [ -n "$ST_PID" ]; then
    kill -TERM "$ST_PID" 2>/dev/null || true
    wait "$ST_PID" 2>/dev/null || true
  fi
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# A timeout (.ci/run) or Ctrl-C stops the server too.
trap 'exit 143' TERM INT

VENV="${ST_VENV:-$WORK/venv}"
if [ -x "$VENV/bin/st" ] && "$VENV/bin/st" --version | grep -q "$ST_VERSION"; then
  echo "== schemathesis $ST_VERSION from $VENV"
else
  echo "== schemathesis $ST_VERSION in a virtualenv"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

echo "== offernet serve on 127.0.0.1 (a fresh data directory)"
cargo build --quiet --locked -p offernet
BIN="${CARGO_TARGET_DIR:-target}/debug/offernet"
TOKEN="schemathesis-operator-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
OFFERNET_ADMIN_TOKEN="$TOKEN" OFFERNET_LOG=warn \
  "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
ADDR=""
for _ in $(seq 1 300); do
  ADDR="$(sed -n 's|^offernet listening on http://||p' "$WORK/serve.out")"
  [ -n "$ADDR" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$WORK/serve.err" >&2
    echo "offernet serve exited before listening" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$ADDR" ] || { echo "offernet serve did not listen within 30 s" >&2; exit 1; }

echo "== schemathesis run (seed $SEED, $EXAMPLES examples per operation, every check)"
# One worker: with several, hypothesis's lambda descriptions hit a CPython 3.11 ast.parse race
# ("AST constructor recursion depth mismatch") reported as runtime errors of the run.
# From the temporary folder, so that whatever it leaves (hypothesis's database) goes with it.
# schemathesis.toml turns every check on (`--checks all` on the command line would override its
# per-operation settings); the domain rules JSON Schema cannot state are named there and in
# schemathesis_hooks.py, operation by operation (no check is switched off for the whole API).
HERE="$PWD/scripts"
# The `/vtex` routes are left out: they are served only with `--vtex` (this server runs without
# it, so they answer /v1's 404), they speak VTEX's protocol rather than this document's error
# shape, and tests/vtex_seller.rs validates each of their answers against VTEX's own published
# schemas (with the design's overlay) instead.
# In the background and waited for, so that a timeout's TERM (.ci/run) stops it at once.
(cd "$WORK" && SCHEMATHESIS_HOOKS="$HERE/schemathesis_hooks.py" exec "$VENV/bin/st" --config-file "$HERE/schemathesis.toml" \
  run "http://$ADDR/openapi.json" --header "Authorization: Bearer $TOKEN" \
  --seed "$SEED" --max-examples "$EXAMPLES" --workers 1 --request-timeout 30 --exclude-path-regex '^/vtex/') &
ST_PID=$!
status=0
wait "$ST_PID" || status=$?
ST_PID=""
exit "$status"
