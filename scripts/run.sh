#!/usr/bin/env sh
# Install into .venv (only the first time, or after pyproject.toml changed) and start the bot.
# Needs TELEGRAM_BOT_TOKEN and TELEGRAM_ALLOWED_USERS in the environment or in .env; without a
# .env it copies .env.example there first, so the two values have a place to go (and the bot
# says which are missing). The paper broker is the default. PYTHON=/path/to/python3.11 picks
# the Python.
set -eu
cd "$(dirname "$0")/.."
if [ ! -e .env ] && [ -z "${TELEGRAM_BOT_TOKEN:-}" ]; then
  cp .env.example .env
  chmod 600 .env
  echo "Created .env from .env.example: fill in TELEGRAM_BOT_TOKEN and TELEGRAM_ALLOWED_USERS." >&2
fi
sh scripts/install.sh
exec .venv/bin/python -m bot "$@"
