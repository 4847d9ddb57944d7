#!/usr/bin/env bash
# Starts a release hubbub on a fresh data directory, runs the realtime fan-out load
# (hubbub-bench ws) against it over loopback, prints the figures and stops the server.
#   bash scripts/bench-ws.sh --viewers 1000 --rate 100 --duration 10
#   bash scripts/bench-ws.sh --viewers 10000 --idle          (memory per idle connection)
#   bash scripts/bench-ws.sh --viewers 1000 --publish-via ws  (publishers use the protocol)
# Server settings can be passed as HUBBUB_* variables, e.g. HUBBUB_REALTIME_WRITE_COALESCE_MS=5.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hubbub-target}"
# HUBBUB_BENCH_NO_BUILD=1 reuses the release binaries already built.
[ -n "${HUBBUB_BENCH_NO_BUILD:-}" ] || cargo build --release -q -p hubbub -p hubbub-bench
bin="$CARGO_TARGET_DIR/release"
dir=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
creds=$("$bin/hubbub" app create --name bench --json --data-dir "$dir")
# The top-level keys (the dialect credentials nested below have a client_id too).
id=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
secret=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
# One host opens every viewer connection and publishers may exceed the per-connection
# command rate: lift both caps for the run.
HUBBUB_REALTIME_MAX_CONNECTIONS_PER_IP="${HUBBUB_REALTIME_MAX_CONNECTIONS_PER_IP:-0}" \
  HUBBUB_REALTIME_COMMANDS_PER_SECOND="${HUBBUB_REALTIME_COMMANDS_PER_SECOND:-0}" \
  RUST_LOG=warn "$bin/hubbub" serve --listen 127.0.0.1:18081 --data-dir "$dir" > "$dir/out.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$dir/out.log" && break; sleep 0.1; done
"$bin/hubbub-bench" ws --base http://127.0.0.1:18081 --client-id "$id" --client-secret "$secret" --server-pid "$pid" "$@"
