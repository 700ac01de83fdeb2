#!/usr/bin/env sh
# Install everything (into .venv, with the dev tools) and run the whole test suite plus lint.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
