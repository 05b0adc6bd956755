#!/usr/bin/env bash
# CPU per notification of 10 alerts: the relay as built from BASE (default
# a9516cf, before issue 11) and from the working tree, side by side in one
# run (bench/relaycpu). Flags after the optional BASE go to relaycpu, e.g.
# bench/relay.sh a9516cf -rounds 20. Results go in BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-a9516cf}
[ $# -gt 0 ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/base"
git -C "$root" archive "$base" | tar -x -C "$tmp/base"
(cd "$tmp/base" && go build -o "$tmp/relay-base" ./cmd/resonance-relay)
(cd "$root" && go build -o "$tmp/relay-new" ./cmd/resonance-relay && go build -o "$tmp/relaycpu" ./bench/relaycpu)
"$tmp/relaycpu" "$@" "base-$base=$tmp/relay-base" "worktree=$tmp/relay-new"
