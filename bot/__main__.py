"""`python -m bot` (or `tradebot`): start the bot. Configuration errors print one line per bad
setting and exit with status 2; no traceback.

`python -m bot doctor` (or `tradebot doctor`): run the start-up checks without Telegram polling
and exit 0 (all good), 1 (something would stop orders) or 2 (configuration error)."""

from __future__ import annotations

import asyncio
import sys

from bot.app import run
from bot.errors import ConfigError, StartupError
from bot.settings import load_settings


def main() -> None:
    if sys.argv[1:2] == ["doctor"]:
        from bot.app.doctor import main as doctor

        sys.exit(doctor())
    try:
        settings = load_settings()
        asyncio.run(run(settings))
    except ConfigError as exc:
        print(f"Configuration error:\n{exc}", file=sys.stderr)
        sys.exit(2)
    except StartupError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
