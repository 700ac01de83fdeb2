#!/usr/bin/env sh
# Create .venv with Python >= 3.11 and install the project (and its dev tools with "dev").
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
if [ "${1:-}" = "dev" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
else
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
fi
