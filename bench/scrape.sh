#!/usr/bin/env bash
# Compares a /metrics scrape of resonance-exporter with Debian's
# prometheus-node-exporter 1.5 restricted to the same figures, side by side
# in one run: CPU per scrape, p50/p99 latency, RSS. Needs
# `apt-get install prometheus-node-exporter`. Results go in BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

command -v prometheus-node-exporter >/dev/null || { echo "install prometheus-node-exporter (apt)"; exit 1; }
go build -o "$tmp/resonance-exporter" "$root/cmd/resonance-exporter"
go build -o "$tmp/scrapecompare" "$root/bench/scrapecompare"

# EXPORTER_FLAGS adds flags, e.g. --web.disable-exporter-metrics.
"$tmp/resonance-exporter" --web.listen-address=127.0.0.1:19861 --log.level=warn ${EXPORTER_FLAGS:-} &
resonance=$!
prometheus-node-exporter --web.listen-address=127.0.0.1:19100 --log.level=warn \
  --collector.disable-defaults --collector.cpu --collector.meminfo \
  --collector.filesystem --collector.time --collector.stat &
node=$!
for url in http://127.0.0.1:19861/-/healthy http://127.0.0.1:19100/; do
  for _ in $(seq 50); do curl -fs "$url" >/dev/null && break; sleep 0.1; done
done
sleep 2 # let both settle before the idle RSS reading

"$tmp/scrapecompare" "$@" \
  "resonance-exporter=$resonance=http://127.0.0.1:19861/metrics" \
  "node_exporter-1.5=$node=http://127.0.0.1:19100/metrics"
