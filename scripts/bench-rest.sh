#!/usr/bin/env bash
# Starts a release hubbub on a fresh data directory, runs the REST send load against
# it over loopback, prints the figures and stops the server.
#   bash scripts/bench-rest.sh [extra hubbub-bench rest args, e.g. --connections 128]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hubbub-target}"
cargo build --release -q -p hubbub -p hubbub-bench
bin="$CARGO_TARGET_DIR/release"
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
creds=$("$bin/hubbub" app create --name bench --json --data-dir "$dir")
# The top-level keys (the dialect credentials nested below have a client_id too).
id=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
secret=$(echo "$creds" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
RUST_LOG=warn "$bin/hubbub" serve --listen 127.0.0.1:18080 --data-dir "$dir" > "$dir/out.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$dir/out.log" && break; sleep 0.1; done
"$bin/hubbub-bench" rest --base http://127.0.0.1:18080 --client-id "$id" --client-secret "$secret" --server-pid "$pid" "$@"
