#!/usr/bin/env bash
# End-to-end tests of the web console (`/console`) in headless Chromium: Debian's chromium
# (installed here with apt-get when /usr/bin/chromium is missing), driven by playwright-core
# (pinned in console-tests/package-lock.json, `npm ci`; no browser download). Starts
# `offernet serve` on a free 127.0.0.1 port with a fresh data directory and a known operator
# token, runs console-tests/e2e.mjs, and stops the server by its PID. The screenshots stay in
# target/console-screenshots/ (CONSOLE_SCREENSHOTS to change it).
#
#   scripts/console-e2e.sh
#
# Needs Node.js 20+ and npm for the test runner only (the console itself needs neither).
set -euo pipefail
cd "$(dirname "$0")/.."

WORK="$(mktemp -d "${TMPDIR:-/tmp}/offernet-console-e2e-XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi
/usr/bin/chromium --version 2>/dev/null || true

echo "== npm ci (console-tests)"
(cd console-tests && npm ci --no-audit --no-fund --loglevel=error)

echo "== offernet serve on 127.0.0.1 (a fresh data directory)"
cargo build --quiet --locked -p offernet
BIN="${CARGO_TARGET_DIR:-target}/debug/offernet"
TOKEN="console-e2e-operator-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
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

SHOTS="${CONSOLE_SCREENSHOTS:-$PWD/${CARGO_TARGET_DIR:-target}/console-screenshots}"
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
echo "== console e2e against http://$ADDR (screenshots in $SHOTS)"
(cd console-tests && OFFERNET_URL="http://$ADDR" OFFERNET_ADMIN_TOKEN="$TOKEN" SCREENSHOTS="$SHOTS" TMPDIR="$WORK" \
  timeout 300 node e2e.mjs)
