#!/usr/bin/env bash
# Imports COUNT messages (default 1,000,000) into a release hubbub through the REST
# API (POST /v1/imports/messages, multipart upload) and reports the job's figures:
# upload time, import time, messages/s and the server's peak RSS (VmHWM).
#
#   bash scripts/bench-import.sh                 # 1,000,000 messages
#   COUNT=100000 bash scripts/bench-import.sh    # a smaller file, to compare memory
#   VIA=cli bash scripts/bench-import.sh         # hubbub import messages instead of REST
#
# The file is generated as a stream (scripts/gen-import.py) into the temp directory;
# USERS users and CHANNELS channels are imported first (also as jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${COUNT:-1000000}"
USERS="${USERS:-1000}"
CHANNELS="${CHANNELS:-100}"
VIA="${VIA:-rest}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hubbub-target}"
if [ -z "${HUBBUB_BIN:-}" ]; then
  cargo build --release -q -p hubbub
  HUBBUB_BIN="$CARGO_TARGET_DIR/release/hubbub"
fi
dir=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

creds=$("$HUBBUB_BIN" app create --name bench --json --data-dir "$dir")
id=$(echo "$creds" | json 'd["client_id"]')
secret=$(echo "$creds" | json 'd["client_secret"]')
RUST_LOG=warn "$HUBBUB_BIN" serve --listen 127.0.0.1:0 --data-dir "$dir" > "$dir/out.log" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q "listening on" "$dir/out.log" && break; sleep 0.1; done
base=$(sed -nE 's/.*listening on (http:[^ ]+).*/\1/p' "$dir/out.log" | head -1)
token=$(curl -sf -u "$id:$secret" -d grant_type=client_credentials "$base/oauth/token" | json 'd["access_token"]')
auth=(-H "Authorization: Bearer $token")

rss() { awk '/^VmHWM/ {print $2}' "/proc/$pid/status"; }

# Uploads a file as an import and waits for its job; prints the final job.
run_import() { # path file
  local job
  job=$(curl -sf "${auth[@]}" -F "file=@$2;type=application/json" "$base/v1/imports/$1" | json 'd["id"]')
  while :; do
    local state
    state=$(curl -sf "${auth[@]}" "$base/v1/jobs/$job")
    case $(echo "$state" | json 'd["state"]') in
      FINISHED|FAILED) echo "$state"; return ;;
    esac
    echo "$state" | json '"  job %s %s: %s/%s processed, %s failed, server VmHWM %s kB" % (d["id"], d["state"], d["progress"]["processed"], d["progress"]["total"], d["progress"]["failed"], open("/proc/'"$pid"'/status").read().split("VmHWM:")[1].split()[0])' >&2
    sleep 1
  done
}

python3 scripts/gen-import.py users "$USERS" > "$dir/users.json"
python3 scripts/gen-import.py channels "$CHANNELS" "$USERS" > "$dir/channels.json"
run_import users "$dir/users.json" | json '"users: %s %s" % (d["state"], d["progress"])'
run_import channels "$dir/channels.json" | json '"channels: %s %s" % (d["state"], d["progress"])'
first=$(curl -sf "${auth[@]}" "$base/v1/channels?size=1" | json 'd["_embedded"]["channels"][0]["id"]')

gen_start=$(date +%s.%N)
python3 scripts/gen-import.py messages "$COUNT" "$USERS" "$first" "$CHANNELS" > "$dir/messages.json"
gen_end=$(date +%s.%N)
size=$(stat -c %s "$dir/messages.json")
echo "generated $COUNT messages: $((size / 1048576)) MiB in $(echo "$gen_end - $gen_start" | bc) s"
rss_before=$(rss)

start=$(date +%s.%N)
if [ "$VIA" = cli ]; then
  "$HUBBUB_BIN" import messages "$dir/messages.json" --data-dir "$dir" --json > "$dir/job.json" &
  cli=$!
  peak_cli=0
  while kill -0 "$cli" 2>/dev/null; do
    now=$(awk '/^VmHWM/ {print $2}' "/proc/$cli/status" 2>/dev/null || echo 0)
    [ "${now:-0}" -gt "$peak_cli" ] && peak_cli=$now
    sleep 0.5
  done
  wait "$cli" || true
  final=$(cat "$dir/job.json")
  echo "CLI process VmHWM (sampled): ${peak_cli} kB"
else
  final=$(run_import messages "$dir/messages.json")
fi
end=$(date +%s.%N)

echo "$final" | json '"job %s %s: %s succeeded, %s failed, %s duplicates of %s" % (d["id"], d["state"], d["progress"]["succeeded"], d["progress"]["failed"], d["progress"]["duplicates"], d["progress"]["total"])'
elapsed=$(echo "$end - $start" | bc)
rate=$(echo "$COUNT / $elapsed" | bc)
echo "elapsed (upload + check + import): ${elapsed} s"
echo "messages/s: $rate"
echo "server VmHWM before: ${rss_before} kB, after: $(rss) kB (peak RSS of the whole run)"
count=$(curl -sf "${auth[@]}" "$base/v1/messages?size=1" | json 'd["page"]["total"]')
echo "messages stored: $count"
