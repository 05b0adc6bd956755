#!/usr/bin/env bash
# Hostile cardinality: 100,000 distinct endpoints (and users) pushed as
# api_request events. Checks that resonance_api_requests_total stays at
# ingest.max_label_values + 1 series and prints the exporter's peak RSS
# (target: under 64 MB).
. "$(dirname "$0")/lib.sh"
start_exporter </dev/null
echo "RSS at start: $(awk '/VmRSS/ {print $2, $3}' /proc/$EXPORTER_PID/status)"

URL="http://127.0.0.1:$PORT/api/v1/events" KEY="$KEY" python3 - <<'PY'
import json, os, urllib.request
url, key = os.environ["URL"], os.environ["KEY"]
for batch in range(100):
    events = [{"type": "api_request", "endpoint": "/item/%d" % n, "method": "GET", "status": 200,
               "duration_ms": 12, "user": "user-%d" % n} for n in range(batch * 1000, (batch + 1) * 1000)]
    req = urllib.request.Request(url, data=json.dumps({"events": events}).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    urllib.request.urlopen(req).read()
PY
metrics=$(curl -fsS "http://127.0.0.1:$PORT/metrics")
series=$(grep -c '^resonance_api_requests_total{' <<<"$metrics")
echo "resonance_api_requests_total series: $series (cap 500 + other)"
grep '^resonance_ingest_label_values_overflow_total' <<<"$metrics"
grep '^resonance_active_users ' <<<"$metrics"
echo "RSS now: $(awk '/VmRSS/ {print $2, $3}' /proc/$EXPORTER_PID/status), peak: $(awk '/VmHWM/ {print $2, $3}' /proc/$EXPORTER_PID/status)"
[ "$series" -eq 501 ]
