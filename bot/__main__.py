"""`python -m bot`: the same as the `tradebot` command (see `bot.app.cli`)."""

import sys

from bot.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
