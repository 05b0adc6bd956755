#!/usr/bin/env bash
# Scrape latency and memory while distinct users pour in: api_request
# events with a new user each, at 1 million distinct users per 5 minutes by
# default, for 6 minutes (the window fills, then slides), scraping /metrics
# every 100 ms. Targets: scrape p99 < 50 ms, RSS < 64 MB, active users
# within 2 %.
# Users per 5 min 0 scrapes without pushing: the machine's own noise.
#   bench/activeusers.sh [users per 5 min, default 1000000] [duration, default 6m]
. "$(dirname "$0")/lib.sh"
per5m=${1:-1000000}
duration=${2:-6m}
start_exporter </dev/null
go build -o "$tmp/activeusers" ./bench/activeusers
"$tmp/activeusers" -url "http://127.0.0.1:$PORT" -key "$KEY" -pid "$EXPORTER_PID" \
  -users-per-5m "$per5m" -duration "$duration"
