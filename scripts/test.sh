#!/usr/bin/env sh
# Install everything (into .venv, with the dev tools), then lint, format check, strict typing and
# the whole test suite.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict bot handlers brokers
# Two workers: much of an end-to-end test is waiting on loopback I/O and timers, not CPU.
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" "$@"
