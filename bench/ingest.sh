#!/usr/bin/env bash
# Log ingest throughput: 100-entry batches (the plan's buffer_size) over
# keep-alive, wrk with 4 connections. Prints log entries per second.
#   bench/ingest.sh [duration, default 15s]
. "$(dirname "$0")/lib.sh"
duration=${1:-15s}
start_exporter </dev/null

# The same batch as BenchmarkDecodeLogs (ingest/bench_test.go).
python3 - >"$tmp/batch.json" <<'PY'
import json
levels = ["INFO", "INFO", "INFO", "WARNING", "ERROR", "DEBUG"]
logs = [{"timestamp": "2025-12-11T01:54:%02d.%06d" % (i % 60, i * 1000), "level": levels[i % 6],
         "message": "API request %d served" % i,
         "metadata": {"endpoint": "/api/inference", "status_code": 200, "duration_ms": 100 + i},
         "service": "quantum-resonance"} for i in range(100)]
print(json.dumps({"logs": logs, "source": "quantum-resonance-clean"}, separators=(",", ":")))
PY
echo "batch: $(wc -c <"$tmp/batch.json") bytes, 100 entries"
out=$(WRK_BODY_FILE="$tmp/batch.json" WRK_KEY="$KEY" wrk -t2 -c4 -d"$duration" -s bench/post.lua "http://127.0.0.1:$PORT/api/v1/logs")
echo "$out"
rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
echo "log entries/s: $(python3 -c "print(round($rps * 100))")"
echo "exporter RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$EXPORTER_PID/status)"
