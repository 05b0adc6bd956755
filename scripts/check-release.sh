#!/usr/bin/env bash
# Checks a snapshot release in dist/ (make release-check): every archive of
# .goreleaser.yml is there and in the checksums, each binary is built for
# its platform, and the binaries report the commit and date they were built
# from (--version, as resonance_*_build_info does).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dist="$root/dist"
fail() { echo "check-release: $*" >&2; exit 1; }

want=()
for os_arch in linux-amd64 linux-arm64; do
  want+=("resonance-exporter-*.$os_arch.tar.gz" "resonance-relay-*.$os_arch.tar.gz")
done
for os_arch in linux-amd64 linux-arm64 darwin-amd64 darwin-arm64; do
  want+=("resonancetool-*.$os_arch.tar.gz")
done
for pattern in "${want[@]}"; do
  # shellcheck disable=SC2206
  found=("$dist"/$pattern)
  [ -e "${found[0]}" ] || fail "no archive $pattern in dist/"
  grep -q " $(basename "${found[0]}")\$" "$dist/sha256sums.txt" || fail "$(basename "${found[0]}") is not in sha256sums.txt"
done
# The relay's archive carries the resonancetool its ritual schedule runs,
# next to the relay.
for archive in "$dist"/resonance-relay-*.tar.gz; do
  tar -tzf "$archive" | grep '^[^/]*/resonancetool$' >/dev/null || fail "$(basename "$archive") lacks resonancetool, which the relay's rituals run"
done
# Every archive carries the LICENSE (Apache-2.0).
for archive in "$dist"/*.tar.gz; do
  tar -tzf "$archive" | grep '^[^/]*/LICENSE$' >/dev/null || fail "$(basename "$archive") lacks LICENSE"
done
(cd "$dist" && sha256sum --quiet -c sha256sums.txt) || fail "sha256sums.txt does not match the archives"

# Each binary's Go build info names its platform.
while read -r bin; do
  dir=$(basename "$(dirname "$bin")")           # e.g. resonance-relay_linux_arm64_v8.0
  os=$(echo "$dir" | cut -d_ -f2) arch=$(echo "$dir" | cut -d_ -f3)
  info=$(go version -m "$bin")
  grep -q "GOOS=$os" <<<"$info" && grep -q "GOARCH=$arch" <<<"$info" || fail "$bin is not a $os/$arch binary"
done < <(find "$dist" -type f -perm -u+x \( -name resonance-exporter -o -name resonance-relay -o -name resonancetool \))

revision=$(git -C "$root" rev-parse HEAD)
host_arch=$(go env GOARCH)
for daemon in resonance-exporter resonance-relay resonancetool; do
  bin=$(find "$dist" -path "*/${daemon}_linux_${host_arch}*/$daemon" -type f | head -n1)
  [ -n "$bin" ] || fail "no linux/$host_arch $daemon in dist/"
  out=$("$bin" --version 2>&1)
  grep -q "revision: $revision" <<<"$out" || fail "$daemon --version lacks revision $revision: $out"
  grep -Eq "build date: +[0-9]{8}-" <<<"$out" || fail "$daemon --version lacks the build date: $out"
  grep -q "snapshot" <<<"$out" || fail "$daemon --version lacks the snapshot version: $out"
done
echo "check-release: ${#want[@]} archives with checksums; binaries carry revision $revision"
