#!/bin/bash
# Measures the durable event history: events kept, bytes, startup time and RSS with them.
set -e
BIN=${BIN:-target/debug/offernet}; D=${D:-/tmp/offernet-measure-events}; rm -rf $D
export OFFERNET_ADMIN_TOKEN=admin.test-operator-token-0123456789abcdef OFFERNET_LOG=warn
A="Authorization: Bearer $OFFERNET_ADMIN_TOKEN"
start() { $BIN serve --listen 127.0.0.1:0 --data-dir $D "$@" > $D.out 2>$D.err & PID=$!; 
  for i in $(seq 1 600); do grep -q listening $D.out 2>/dev/null && break; sleep 0.05; done
  H=$(sed -n 's/.*http:\/\/\(.*\)/\1/p' $D.out); }
start
put() { curl -sf -o /dev/null -X PUT "http://$H$1" -H "$A" -H 'Content-Type: application/json' -d "$2"; }
for a in s m; do curl -sf -o /dev/null -X POST http://$H/v1/accounts -H "$A" -H 'Content-Type: application/json' -d "{\"id\":\"$a\",\"name\":\"$a\",\"currency\":\"BRL\"}"; done
put /v1/accounts/s/warehouses/main '{"trade_policies":["1"]}'
put /v1/accounts/s/affiliations/m '{"trade_policy":"1"}'
put /v1/accounts/m/sellers/s '{"match_mode":"auto"}'
for i in $(seq 1 500); do put /v1/accounts/s/skus/k$i "{\"name\":\"k$i\"}"; put /v1/accounts/s/warehouses/main/stock/k$i '{"quantity":1}'; done
for t in $(seq 1 100); do if [ $((t%2)) = 1 ]; then put /v1/accounts/s/warehouses/main '{"trade_policies":[]}'; else put /v1/accounts/s/warehouses/main '{"trade_policies":["1"]}'; fi; done
curl -s http://$H/healthz; echo
kill -TERM $PID; wait $PID || true
python3 -c "
import sqlite3; c=sqlite3.connect('$D/journal.sqlite')
print('events', c.execute('select count(*), sum(length(event)) from events').fetchone())"
ls -la $D/journal.sqlite
T0=$(date +%s.%N); start; T1=$(date +%s.%N)
echo "startup with history: $(echo "$T1 - $T0" | bc) s; RSS $(grep VmRSS /proc/$PID/status)"
curl -s "http://$H/metrics" | grep -E "^offernet_events_retained" || true
kill -TERM $PID; wait $PID || true
