#!/usr/bin/env bash
# Checks alertmanager/alertmanager.yml with the pinned amtool (scripts/tools.sh):
# the config loads, and each severity reaches the receiver it must.
# Usage: scripts/check-alertmanager.sh   (RESONANCE_TOOLS_BIN overrides .tools/bin)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
amtool="${RESONANCE_TOOLS_BIN:-$root/.tools/bin}/amtool"
config="$root/alertmanager/alertmanager.yml"

if [ ! -x "$amtool" ]; then
  echo "check-alertmanager: $amtool not found: run scripts/tools.sh" >&2
  exit 1
fi

"$amtool" check-config "$config"

failed=0
# expect_route RECEIVERS LABELS...: the alert with LABELS goes to exactly RECEIVERS.
expect_route() {
  local want=$1
  shift
  if ! "$amtool" config routes test --config.file="$config" --verify.receivers="$want" "$@" >/dev/null; then
    echo "FAIL: {$*} should route to $want, routes to: $("$amtool" config routes test --config.file="$config" "$@")" >&2
    failed=1
  else
    echo "ok: {$*} -> $want"
  fi
}

expect_route critical severity=critical alertname=ErrorStorm metric=error_rate instance=exporter:9861
expect_route critical severity=critical alertname=SystemDown metric=uptime job=resonance
# The Watchdog goes to the heartbeat alone, whatever its severity label says.
expect_route heartbeat severity=none alertname=Watchdog metric=watchdog
expect_route heartbeat severity=critical alertname=Watchdog
expect_route critical severity=critical alertname=RelayDeliveryFailing metric=relay_delivery_failing target=discord
expect_route warning  severity=warning  alertname=ExporterDown metric=exporter_down instance=exporter:9861
expect_route warning  severity=warning  alertname=HighCPU metric=cpu_usage instance=exporter:9861
expect_route info     severity=info     alertname=ModerateCPU metric=cpu_usage instance=exporter:9861
# SLO burn-rate alerts (no instance label) route by severity like the others.
expect_route critical severity=critical alertname=SLOBurnRateFast metric=api_error_rate slo=api-availability job=resonance
expect_route warning  severity=warning  alertname=SLOBurnRateSlow metric=api_response_time slo=api-latency job=resonance
# No or an unknown severity is a rule bug: it falls back to the warning receiver
# rather than being lost.
expect_route warning  alertname=Unlabelled
expect_route warning  severity=page alertname=Unlabelled

# The verification itself must be able to fail.
if "$amtool" config routes test --config.file="$config" --verify.receivers=info severity=critical >/dev/null 2>&1; then
  echo "FAIL: amtool accepted a wrong receiver; the checks above prove nothing" >&2
  failed=1
fi

exit "$failed"
