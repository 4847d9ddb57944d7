#!/usr/bin/env bash
# Makes sure a NATS server with JetStream answers on 127.0.0.1:4222 for the cluster
# tests (hubbub-bus-nats, crates/hubbub/tests/cluster.rs): installs Debian's
# nats-server if it is missing and starts it if nothing listens. Idempotent.
set -euo pipefail

listening() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }

if listening; then
  exit 0
fi
if [ ! -x /usr/sbin/nats-server ]; then
  echo "nats-up: installing nats-server" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
fi
store_dir="${NATS_STORE_DIR:-/var/lib/nats-server}"
mkdir -p "$store_dir"
start-stop-daemon --start --oknodo --background \
  --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd "$store_dir"
for _ in $(seq 1 100); do
  listening && exit 0
  sleep 0.1
done
echo "nats-up: nats-server does not answer on 127.0.0.1:4222" >&2
exit 1
