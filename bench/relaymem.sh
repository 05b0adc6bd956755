#!/usr/bin/env bash
# Peak RSS of the relay under 20 notifications of 1.9 MB at once to a hanging
# channel: the relay as built from BASE (default a5ebd6f^, before the
# in-flight bound) and from the working tree (bench/relaymem). Flags after
# the optional BASE go to relaymem. Results go in BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-a5ebd6f^}
[ $# -gt 0 ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/base"
git -C "$root" archive "$base" | tar -x -C "$tmp/base"
(cd "$tmp/base" && go build -o "$tmp/relay-base" ./cmd/resonance-relay)
(cd "$root" && go build -o "$tmp/relay-new" ./cmd/resonance-relay && go build -o "$tmp/relaymem" ./bench/relaymem)
"$tmp/relaymem" "$@" "base=$tmp/relay-base" "worktree=$tmp/relay-new"
