#!/usr/bin/env bash
# Runs examples/python/hub_log_stream.py against a real resonance-exporter
# and checks the counters it produced. Exits non-zero on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/resonance-exporter" ./cmd/resonance-exporter

# A free loopback port: bind 0, read it back, release it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
key="ci-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf '# test key\n%s\n' "$key" >"$tmp/keys.txt"
cat >"$tmp/exporter.yml" <<YAML
ingest:
  api_keys_file: keys.txt
YAML

"$tmp/resonance-exporter" --config.file="$tmp/exporter.yml" \
	--web.listen-address="127.0.0.1:$port" --log.level=warn >"$tmp/exporter.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
	sleep 0.1
done

HUB_URL="http://127.0.0.1:$port/api/logs" HUB_API_KEY="$key" python3 examples/python/hub_log_stream.py

metrics=$(curl -fsS "http://127.0.0.1:$port/metrics")
fail=0
expect() {
	if grep -qxF "$1" <<<"$metrics"; then
		echo "ok   $1"
	else
		echo "FAIL $1"; fail=1
	fi
}
expect 'resonance_log_entries_total{level="info",service="quantum-resonance-api"} 1'
expect 'resonance_log_entries_total{level="warning",service="quantum-resonance-api"} 1'
expect 'resonance_log_entries_total{level="error",service="quantum-resonance-api"} 1'
expect 'resonance_errors_total{service="quantum-resonance-api"} 1'
expect 'resonance_ingest_requests_total{code="202",endpoint="/api/v1/logs"} 1'
expect 'resonance_ingest_accepted_items_total{endpoint="/api/v1/logs"} 3'
if [ "$fail" -ne 0 ]; then
	echo "--- exporter log"; cat "$tmp/exporter.log"
	echo "--- resonance_ metrics"; grep '^resonance_' <<<"$metrics" || true
	exit 1
fi
echo "Python example: counters as expected"

# The stream's own behaviour (flush swaps its buffer out, the buffer is
# bounded), against the same exporter.
(cd examples/python && HUB_URL="http://127.0.0.1:$port/api/logs" HUB_API_KEY="$key" python3 -m unittest -v test_hub_log_stream)
