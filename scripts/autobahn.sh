#!/usr/bin/env bash
# Runs the Autobahn WebSocket conformance cases (the `kosoku` runner from PyPI drives
# Autobahn's own case files) against hubbub's WebSocket stack, through the echo
# endpoint /connection/autobahn-echo, which only this script switches on
# (HUBBUB_REALTIME_AUTOBAHN_ECHO=true). It uses the same small buffers as realtime
# sessions. Fails unless every case is free of FAILED and UNCLEAN verdicts.
# Groups 12.* and 13.* (permessage-deflate) are excluded: hubbub does not negotiate
# compression.
#   bash scripts/autobahn.sh            (uses $HUBBUB_BIN, else builds the debug binary)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hubbub-target}"

KOSOKU_VERSION=0.1.0
if ! python3 -c "import kosoku" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "kosoku==$KOSOKU_VERSION"
fi

bin="${HUBBUB_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --locked -q -p hubbub
  bin="$CARGO_TARGET_DIR/debug/hubbub"
fi

dir=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

HUBBUB_REALTIME_AUTOBAHN_ECHO=true RUST_LOG=warn \
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$dir/data" > "$dir/server.log" 2>&1 &
pid=$!
addr=""
for _ in $(seq 200); do
  addr=$(sed -nE 's#.*listening on http://([0-9.:]+).*#\1#p' "$dir/server.log" | head -1)
  [ -n "$addr" ] && break
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "autobahn: hubbub did not start" >&2
  cat "$dir/server.log" >&2
  exit 1
fi

(
  cd "$dir"
  python3 -c 'import sys; from kosoku._cli import main; sys.argv[0] = "kosoku"; sys.exit(main())' \
    -p 2 -x '12.*' -x '13.*' "ws://$addr/connection/autobahn-echo"
) | tail -3

python3 - "$dir/reports/clients/index.json" <<'PY'
import collections, json, sys
report = json.load(open(sys.argv[1]))
cases = {case: r for server in report.values() for case, r in server.items()}
verdicts = collections.Counter(r["behavior"] for r in cases.values())
bad = sorted(
    case for case, r in cases.items()
    if r["behavior"] in ("FAILED", "UNCLEAN") or r["behaviorClose"] in ("FAILED", "UNCLEAN")
)
failed = sum(1 for r in cases.values() if "FAILED" in (r["behavior"], r["behaviorClose"]))
unclean = sum(1 for r in cases.values() if "UNCLEAN" in (r["behavior"], r["behaviorClose"]))
print(f"autobahn: {len(cases)} cases: " + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())))
print(f"autobahn: {failed} FAILED, {unclean} UNCLEAN")
if not cases or bad:
    print("autobahn: failing cases: " + " ".join(bad), file=sys.stderr)
    sys.exit(1)
PY
