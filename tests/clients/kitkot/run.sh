#!/usr/bin/env bash
# The kitkot client suite: the seed's JavaScript sample under Node and its Python
# sample under python3 + requests (pinned in requirements.txt, installed from PyPI into
# .venv here), both against $HUBBUB_BIN. Under CI=true nothing may be skipped: a
# failed install fails the run.
set -euo pipefail
cd "$(dirname "$0")"
: "${HUBBUB_BIN:?set HUBBUB_BIN to the hubbub binary}"

npm ci --no-audit --no-fund --loglevel=error

venv=.venv
if { [ -x "$venv/bin/python" ] || python3 -m venv "$venv"; } &&
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt; then
  KITKOT_PYTHON="$PWD/$venv/bin/python"
  export KITKOT_PYTHON
elif [ "${CI:-}" = "true" ]; then
  echo "kitkot suite: cannot install requirements.txt into $venv (CI=true: failing)" >&2
  exit 1
else
  echo "kitkot suite: WARNING: no Python venv with requests; the Python sample is skipped" >&2
fi

node --test --test-concurrency=1
