#!/usr/bin/env bash
# Verifies the systemd units in deploy/systemd with systemd-analyze verify:
# syntax, known directives, and that every command exists and is
# executable. The units name /usr/local/bin; the check points them at
# freshly built binaries in a temporary directory instead.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v systemd-analyze >/dev/null; then
  echo "check-systemd: SKIPPED: systemd-analyze not found (apt-get install systemd)" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/bin/" ./cmd/resonance-exporter ./cmd/resonance-relay)
for unit in "$root"/deploy/systemd/*.service; do
  sed "s|/usr/local/bin/|$tmp/bin/|g" "$unit" >"$tmp/$(basename "$unit")"
done
# verify prints problems and exits non-zero on errors; warnings about the
# sandbox (no running systemd) are not errors.
out=$(systemd-analyze verify "$tmp"/*.service 2>&1) || { echo "$out" >&2; exit 1; }
if [ -n "$out" ]; then
  echo "$out" >&2
  echo "check-systemd: systemd-analyze printed the findings above" >&2
  exit 1
fi
echo "check-systemd: $(ls "$root"/deploy/systemd/*.service | wc -l) units verified"
