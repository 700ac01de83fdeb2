"""Liveness for the Docker image's HEALTHCHECK: while Telegram polling runs, the bot touches a
heartbeat file in DATA_DIR every `BEAT_SECONDS`; `check()` says whether that file is fresh.

What it proves, and no more: the process is up, past start-up, its event loop turns and the
Telegram updater is running. It does not prove that Telegram or the broker answer (the doctor
checks those). Reading a file keeps the check cheap: no second bot, no network, no broker login.

`python -m bot.app.health` runs the check on its own, so the image's HEALTHCHECK does not depend
on how the command line is arranged; `python -m bot health` is the same check for people.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.errors import ConfigError
from bot.settings import Settings, load_settings

__all__ = ["BEAT_SECONDS", "STALE_AFTER_SECONDS", "beat", "check", "heartbeat_path"]

BEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 3 * BEAT_SECONDS  # two missed beats are a hiccup, three are a problem


def heartbeat_path(settings: Settings) -> Path:
    return settings.data_dir / "heartbeat"


async def beat(path: Path, alive: Callable[[], bool], every: float = BEAT_SECONDS) -> None:
    """Touch `path` every `every` seconds while `alive()` (the updater is polling)."""
    while True:
        if alive():
            await asyncio.to_thread(_touch, path)
        await asyncio.sleep(every)


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def check(
    settings: Settings,
    *,
    out: Callable[[str], None] = print,
    now: Callable[[], float] = time.time,
) -> int:
    """0 when the heartbeat is fresh, else 1; one line either way."""
    path = heartbeat_path(settings)
    try:
        age = now() - path.stat().st_mtime
    except OSError:
        out(f"unhealthy: no heartbeat in {path} (the bot is starting, or not running)")
        return 1
    if age > STALE_AFTER_SECONDS:
        out(f"unhealthy: the last heartbeat was {age:.0f} s ago (the bot is stuck or stopped)")
        return 1
    out(f"healthy: heartbeat {age:.0f} s ago")
    return 0


def main() -> int:
    """`python -m bot.app.health`: exit 0 healthy, 1 unhealthy, 2 configuration error."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"Configuration error:\n{exc}", file=sys.stderr)
        return 2
    return check(settings)


if __name__ == "__main__":
    sys.exit(main())
