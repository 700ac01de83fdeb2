#!/usr/bin/env sh
# Install everything (into .venv) and start the bot. Needs TELEGRAM_BOT_TOKEN and
# TELEGRAM_ALLOWED_USERS in the environment or in .env; the paper broker is the default.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
exec .venv/bin/python -m bot "$@"
