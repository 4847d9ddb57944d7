#!/usr/bin/env bash
# Runs hubbub's whole test suite: formatting, lints, Rust unit/integration/contract
# tests, and the official-client conformance suites. Needs cargo, node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hubbub-target}"
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (deny warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo build (the hubbub binary used by the client suites)"
cargo build --locked -p hubbub
HUBBUB_BIN="$CARGO_TARGET_DIR/debug/hubbub"
export HUBBUB_BIN

step "cargo test (unit, integration, store contract)"
cargo test --workspace --locked

step "chatkitty npm client conformance"
(
  cd tests/clients/chatkitty
  npm ci --no-audit --no-fund --loglevel=error
  node --test --test-concurrency=1
)

step "centrifuge npm client conformance (realtime gateway)"
(
  cd tests/clients/centrifuge
  npm ci --no-audit --no-fund --loglevel=error
  node --test --test-concurrency=1
)

step "tencent npm client conformance (UserSigs from tls-sig-api-v2)"
(
  cd tests/clients/tencent
  npm ci --no-audit --no-fund --loglevel=error
  node --test --test-concurrency=1
)

step "kitkot seed samples, verbatim (Node fetch; Python requests from PyPI)"
bash tests/clients/kitkot/run.sh

step "Autobahn WebSocket conformance (kosoku; 0 FAILED, 0 UNCLEAN)"
bash scripts/autobahn.sh

echo
echo "all test suites passed"
