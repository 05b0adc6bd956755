#!/usr/bin/env bash
# Installs the pinned Prometheus, promtool, Alertmanager and amtool, helm and
# goreleaser for the chart and release checks, golangci-lint for `make lint`
# and VictoriaLogs for the Loki forwarder's test into .tools/bin with
# `go install`, only when the pinned version is missing. Idempotent: later
# runs reuse the binaries.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tools/bin"
PROMETHEUS_VERSION=v0.316.0
ALERTMANAGER_VERSION=v0.31.1
HELM_VERSION=v3.22.0
GORELEASER_VERSION=v2.15.1
GOLANGCI_LINT_VERSION=v2.15.0
# A real log store for the Loki forwarder's test: VictoriaLogs speaks Loki's
# push API (Apache-2.0; cgo, for its zstd). About 2 minutes on 2 cores.
VICTORIALOGS_VERSION=v1.52.1

mkdir -p "$bin"

install_tool() {
  local name=$1 pkg=$2 version=$3
  local stamp="$bin/.$name.version"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    return 0
  fi
  echo "tools: building $name $version (first run only, takes a few minutes)" >&2
  GOBIN="$bin" GOFLAGS=-mod=mod go install "$pkg@$version"
  echo "$version" >"$stamp"
}

install_tool promtool     github.com/prometheus/prometheus/cmd/promtool       "$PROMETHEUS_VERSION"
install_tool amtool       github.com/prometheus/alertmanager/cmd/amtool      "$ALERTMANAGER_VERSION"
install_tool alertmanager github.com/prometheus/alertmanager/cmd/alertmanager "$ALERTMANAGER_VERSION"
install_tool prometheus   github.com/prometheus/prometheus/cmd/prometheus     "$PROMETHEUS_VERSION"
install_tool helm         helm.sh/helm/v3/cmd/helm                            "$HELM_VERSION"
install_tool goreleaser   github.com/goreleaser/goreleaser/v2                 "$GORELEASER_VERSION"
install_tool golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION"
install_tool victoria-logs github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs "$VICTORIALOGS_VERSION"
