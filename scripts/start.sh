#!/usr/bin/env bash
# Install the app into .venv (the first time, or when requirements.txt changed) and start it.
# The first install compiles llama.cpp for the embedded model (several minutes on 2 cores; see the README);
# pip caches the built wheel, so later installs take seconds. Extra arguments go to `streamlit run`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
# Portable build flags: no CPU-specific instructions (the wheel runs on any x86-64/arm64 machine), no multimodal tools.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF}"
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing the playground into .venv (the first time compiles llama.cpp: several minutes)..."
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi
exec .venv/bin/streamlit run app.py "$@"
