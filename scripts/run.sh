#!/usr/bin/env sh
# Install into .venv (only the first time, or after pyproject.toml changed) and start the bot.
# Needs TELEGRAM_BOT_TOKEN and TELEGRAM_ALLOWED_USERS in the environment or in .env (copy
# .env.example); the paper broker is the default. PYTHON=/path/to/python3.11 picks the Python.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
exec .venv/bin/python -m bot "$@"
