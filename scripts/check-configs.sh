#!/usr/bin/env bash
# Runs each daemon's --config.check on every config the repository ships,
# with placeholder key files beside those that name them, and checks that a
# broken config exits 1 with the reason.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# resonancetool beside the relay, as installed: the relay's rituals run it.
(cd "$root" && go build -o "$tmp/bin/" ./cmd/resonance-exporter ./cmd/resonance-relay ./cmd/resonancetool)

# check DAEMON CONFIG: the config is copied into its own directory with a
# placeholder for every relative key file it names (url_file: discord.url,
# api_keys_file: ingest-keys, ...), as an operator installs it.
check() {
  local daemon=$1 config=$2
  local dir="$tmp/$(basename "$(dirname "$config")")-$(basename "$config" .yml)"
  mkdir -p "$dir"
  cp "$root/$config" "$dir/"
  local key
  # delivery.messages_file is the relay's state, not a key: a first start
  # has none.
  for key in $(grep -v 'messages_file:' "$root/$config" | sed -nE 's/^[[:space:]-]*[a-z_]+_file:[[:space:]]*"?([^"#[:space:]]+)"?.*/\1/p'); do
    case $key in
      /run/secrets/*) # a compose secret: a placeholder in its stead
        echo "placeholder-key-0123456789abcdef" >"$dir/secret-$(basename "$key")"
        sed -i "s#$key#$dir/secret-$(basename "$key")#" "$dir/$(basename "$config")"
        continue ;;
      /*) continue ;; # an absolute path belongs to its machine
      *.url) echo "https://placeholder.example/webhook" >"$dir/$key" ;;
      *) echo "placeholder-key-0123456789abcdef" >"$dir/$key" ;;
    esac
  done
  "$tmp/bin/$daemon" --config.check --config.file="$dir/$(basename "$config")"
}

check resonance-exporter deploy/config/exporter.yml
check resonance-relay    deploy/config/relay.yml
check resonance-relay    alertmanager/relay.example.yml
check resonance-relay    docker/relay.yml
"$tmp/bin/resonance-exporter" --config.check
"$tmp/bin/resonance-relay" --config.check

# A config naming a key file that is not there must fail, and say which.
mkdir -p "$tmp/broken"
cp "$root/deploy/config/relay.yml" "$tmp/broken/"
if out=$("$tmp/bin/resonance-relay" --config.check --config.file="$tmp/broken/relay.yml" 2>&1); then
  echo "check-configs: --config.check accepted a relay config without its URL files" >&2
  exit 1
fi
case $out in
  *FAILED*relay.token*) ;;
  *) echo "check-configs: unexpected --config.check output: $out" >&2; exit 1 ;;
esac
# A message store cut short (a power cut, a full disk) must fail the check,
# and say which file.
mkdir -p "$tmp/damaged"
printf 'delivery: {messages_file: messages.json}\ntargets: [{name: hub, type: file, path: hub.jsonl, format: hub}]\n' >"$tmp/damaged/relay.yml"
printf '{"version":2,"journal":1,"messages":[{"target":"discord","id":"1' >"$tmp/damaged/messages.json"
if out=$("$tmp/bin/resonance-relay" --config.check --config.file="$tmp/damaged/relay.yml" 2>&1); then
  echo "check-configs: --config.check accepted a damaged delivery.messages_file" >&2
  exit 1
fi
case $out in
  *FAILED*delivery.messages_file\ is\ damaged*messages.json*) ;;
  *) echo "check-configs: unexpected --config.check output on a damaged store: $out" >&2; exit 1 ;;
esac
echo "check-configs: every shipped config passes --config.check; a broken one and a damaged store fail"
