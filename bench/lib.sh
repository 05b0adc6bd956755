# Shared by the bench scripts: build the exporter, start it on a free
# loopback port with a keys file, stop it on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

wait_ready() { # url
	for _ in $(seq 100); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "not ready: $1" >&2; return 1
}

start_exporter() { # extra yaml lines on stdin
	go build -o "$tmp/resonance-exporter" ./cmd/resonance-exporter
	KEY="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	echo "$KEY" >"$tmp/keys.txt"
	{ echo "ingest:"; echo "  api_keys_file: keys.txt"; cat; } >"$tmp/exporter.yml"
	PORT=$(free_port)
	"$tmp/resonance-exporter" --config.file="$tmp/exporter.yml" --web.listen-address="127.0.0.1:$PORT" --log.level=warn &
	EXPORTER_PID=$!
	pids+=("$EXPORTER_PID")
	wait_ready "http://127.0.0.1:$PORT/-/ready"
}

relay_versus() { # command default-base [base] [flags]: bench/<command> on the relay of base and of the working tree
	local command=$1 base=${3:-$2}
	shift 2; [ $# -gt 0 ] && shift
	mkdir "$tmp/base"
	git archive "$base" | tar -x -C "$tmp/base"
	(cd "$tmp/base" && go build -o "$tmp/relay-base" ./cmd/resonance-relay)
	go build -o "$tmp/relay-new" ./cmd/resonance-relay
	go build -o "$tmp/$command" "./bench/$command"
	"$tmp/$command" "$@" "base-$base=$tmp/relay-base" "worktree=$tmp/relay-new"
}
