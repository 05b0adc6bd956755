#!/usr/bin/env bash
# Installs the pinned Prometheus, promtool, Alertmanager and amtool, helm and
# goreleaser for the chart and release checks, golangci-lint for `make lint`
# and VictoriaLogs for the Loki forwarder's test into .tools/bin with
# `go install`, only when the pinned version is missing. Prometheus is built
# from its module source with its web UI built in (install_prometheus below),
# so that the stack's /alerts and alert Source links open. Idempotent: later
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
# Prometheus's web UI is built with the Node.js of its web/ui/.nvmrc and the
# pnpm its CI uses (<13), both fetched from the npm registry as prebuilt
# binaries (node-linux-<arch>, @pnpm/exe.linux-<arch>) and checked against
# these sha512 sums, so no system Node.js is needed.
NODE_VERSION=24.21.0
PNPM_VERSION=12.23.0
declare -A NODE_SHA512=(
  [x64]=de750bb336795f47dc898a46d2de93add029273027f3e16520d3fa3a2317ed5f07aefa404cf37ddfa5352e545e389ae22d16b87bcc84a900580a72f23cd02ced
  [arm64]=1692513c4cf63afbd32df8c83a5346158f492cf30a825e66f9de2819804b836e242759a6bcdd5997f1cf2601781c3689e752127afd65d5c459fc333e91e5d6e6
)
declare -A PNPM_SHA512=(
  [x64]=beefcdd67509c4b034208ba66f12ffad1ea578603efbe4906345cbfb928f2753b6932bf32682d060bd626cb18eed346ab19f74c1c95ba047612085afaf742c8a
  [arm64]=44b6f2f13d0221601b963adb9a3697e92dcf6213079cb6d4a7e20370e999218d7ffb0cbc849a10a6330f66557854920697c9592945edc4970b2765d9d73d9257
)
NPM_REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org}

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

# fetch_npm_tarball NAME VERSION SHA512 DIR: the package's tarball from the
# npm registry, checked, unpacked into DIR.
fetch_npm_tarball() {
  local name=$1 version=$2 sum=$3 dir=$4
  local tgz="$dir.tgz"
  curl -fsSL --retry 3 -o "$tgz" "$NPM_REGISTRY/$name/-/${name##*/}-$version.tgz"
  if ! echo "$sum  $tgz" | sha512sum -c --quiet -; then
    echo "tools: $name@$version from $NPM_REGISTRY does not have the pinned sha512" >&2
    return 1
  fi
  mkdir -p "$dir"
  tar -xzf "$tgz" -C "$dir" --strip-components=1
  rm -f "$tgz"
}

# install_prometheus builds cmd/prometheus with its web UI (the Mantine UI
# that /alerts, /query and every alert's /graph Source link serve) built in,
# as upstream's `make build` does: a copy of the module source, `pnpm
# install --frozen-lockfile` and build_ui.sh --mantine-ui in web/ui,
# scripts/compress_assets.sh, then `go build -tags builtinassets`. The old
# React UI (--enable-feature=old-ui) is left out. The work tree under
# .tools/build is removed afterwards; .prometheus.webui holds the binary's
# sha256, so a Prometheus installed without the UI (by `go install`) is
# rebuilt.
install_prometheus() {
  local version=$1
  local stamp="$bin/.prometheus.version" webui="$bin/.prometheus.webui"
  if [ -x "$bin/prometheus" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ] &&
    [ "$(cat "$webui" 2>/dev/null)" = "$(sha256sum "$bin/prometheus" | cut -d' ' -f1)" ]; then
    return 0
  fi
  echo "tools: building prometheus $version with its web UI (first run only, about 3 minutes)" >&2
  local arch
  case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "tools: no pinned Node.js for $(uname -m)" >&2; return 1 ;;
  esac
  mkdir -p "$root/.tools/build"
  local work
  work=$(mktemp -d "$root/.tools/build/prometheus-$version.XXXXXX")
  fetch_npm_tarball node-linux-$arch "$NODE_VERSION" "${NODE_SHA512[$arch]}" "$work/node"
  fetch_npm_tarball @pnpm/exe.linux-$arch "$PNPM_VERSION" "${PNPM_SHA512[$arch]}" "$work/pnpm"
  local moddir
  moddir=$(GOFLAGS=-mod=mod go mod download -json "github.com/prometheus/prometheus@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  cp -r "$moddir" "$work/src"
  chmod -R u+w "$work/src"
  (
    cd "$work/src/web/ui"
    export PATH="$work/node/bin:$work/pnpm:$PATH" CI=""
    patch_ui_lockfile
    # pnpm's store and cache inside the work tree, not in $HOME.
    printf 'storeDir: %s\ncacheDir: %s\n' "$work/pnpm-store" "$work/pnpm-cache" >>pnpm-workspace.yaml
    pnpm install --frozen-lockfile --reporter=append-only
    bash build_ui.sh --mantine-ui
    cd ../..
    bash scripts/compress_assets.sh
    GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" go build -tags builtinassets -o "$work/prometheus" ./cmd/prometheus
  )
  mv "$work/prometheus" "$bin/prometheus"
  echo "$version" >"$stamp"
  sha256sum "$bin/prometheus" | cut -d' ' -f1 >"$webui"
  rm -rf "$work"
}

# patch_ui_lockfile: Prometheus v0.316.0's web/ui/pnpm-lock.yaml locks
# @mantine/code-highlight 9.7.2, which the npm registry does not serve (the
# latest it has is 9.6.2); pnpm's supply-chain check then refuses the whole
# lockfile. The lockfile and mantine-ui/package.json are pointed at 9.6.2
# (same API, the UI's tsc accepts it), everything else stays as locked.
patch_ui_lockfile() {
  grep -q "'@mantine/code-highlight@9.7.2" pnpm-lock.yaml || return 0
  sed -i \
    -e "s/^  '@mantine\/code-highlight@9\.7\.2/  '@mantine\/code-highlight@9.6.2/" \
    -e 's|sha512-Vf1CGJw8QOT+roLOapSMnh/x4cdH/Qmd1kXLgkggbYuSIs5Io/6th5AbW7hFd1PXyBeZjvDos/rO+Ae85Aw6NQ==|sha512-lEtpNTvLeKB0UKn/f6iH8NKwUtn++Otfg0KCTsIf9ThpSAwkexBTxuo5mDr4UwljalHRIAmFi9otdQ82l6ecYA==|' \
    -e "/^      '@mantine\/code-highlight':\$/,/version:/{s/specifier: ^9\.7\.2/specifier: ^9.6.2/;s/version: 9\.7\.2(/version: 9.6.2(/}" \
    pnpm-lock.yaml
  sed -i 's|"@mantine/code-highlight": "^9.7.2"|"@mantine/code-highlight": "^9.6.2"|' mantine-ui/package.json
  if grep -q "code-highlight@9.7.2\|code-highlight\": \"^9.7.2" pnpm-lock.yaml mantine-ui/package.json; then
    echo "tools: could not repoint @mantine/code-highlight 9.7.2 in Prometheus's web/ui" >&2
    return 1
  fi
}

install_tool promtool     github.com/prometheus/prometheus/cmd/promtool       "$PROMETHEUS_VERSION"
install_tool amtool       github.com/prometheus/alertmanager/cmd/amtool      "$ALERTMANAGER_VERSION"
install_tool alertmanager github.com/prometheus/alertmanager/cmd/alertmanager "$ALERTMANAGER_VERSION"
install_prometheus "$PROMETHEUS_VERSION"
install_tool helm         helm.sh/helm/v3/cmd/helm                            "$HELM_VERSION"
install_tool goreleaser   github.com/goreleaser/goreleaser/v2                 "$GORELEASER_VERSION"
install_tool golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION"
install_tool victoria-logs github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs "$VICTORIALOGS_VERSION"
