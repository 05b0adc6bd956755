#!/usr/bin/env bash
# Business updates: PUT /api/v1/business on the exporter against the
# equivalent PUT of the same four gauges to Debian's prometheus-pushgateway,
# side by side on loopback, wrk -c4 each. Prints both rates and the ratio.
#   bench/business.sh [duration, default 15s]
. "$(dirname "$0")/lib.sh"
duration=${1:-15s}
start_exporter </dev/null

pg_port=$(free_port)
prometheus-pushgateway --web.listen-address="127.0.0.1:$pg_port" --log.level=warn &
pids+=($!)
wait_ready "http://127.0.0.1:$pg_port/-/ready"

echo '{"active_users":42,"mining_boost_active":true,"wallet_balance":12.5,"community_resonance":37}' >"$tmp/business.json"
cat >"$tmp/business.prom" <<'PROM'
# TYPE resonance_active_users gauge
resonance_active_users 42
# TYPE resonance_mining_boost_active gauge
resonance_mining_boost_active 1
# TYPE resonance_wallet_balance_pi gauge
resonance_wallet_balance_pi 12.5
# TYPE resonance_community_resonance_score gauge
resonance_community_resonance_score 37
PROM

run() { # name body content-type url
	local out
	out=$(WRK_METHOD=PUT WRK_BODY_FILE="$2" WRK_CONTENT_TYPE="$3" WRK_KEY="$KEY" \
		wrk -t2 -c4 -d"$duration" -s bench/post.lua "$4")
	echo "--- $1" >&2; echo "$out" >&2
	awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}
pg=$(run pushgateway "$tmp/business.prom" "text/plain; version=0.0.4" "http://127.0.0.1:$pg_port/metrics/job/resonance")
ex=$(run exporter "$tmp/business.json" "application/json" "http://127.0.0.1:$PORT/api/v1/business")
echo "pushgateway PUT/s: $pg"
echo "exporter    PUT/s: $ex"
echo "ratio: $(python3 -c "print(round($ex / $pg, 1))")x"
