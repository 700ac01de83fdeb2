"""One bot per database: a lock file beside `DATABASE_PATH`, held for the process's lifetime.

Two bots on one database would both poll Telegram (each getting half the updates), both follow
the same orders and both log in, each new session ending the other's. So the second one stops
at start-up with one line. The lock is `fcntl.flock` on `<database>.lock`: the kernel releases
it when the process ends, however it ends, so a lock left by a crashed or killed bot never
blocks the next start. The file itself stays (removing it would race with a starting bot that
has opened it but not locked it yet); it holds the holder's pid, for the refusal line.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bot.errors import StartupError

__all__ = ["instance_lock", "lock_path"]


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def instance_lock(database: Path) -> Iterator[Path]:
    """Hold the lock for `database` while the block runs; `StartupError` when another process
    holds it. A few local file operations, so it is fine on the event loop."""
    path = lock_path(database)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise StartupError(
                f"another tradebot{who} is already running on {database} (lock {path}); "
                "stop it first, or give this one its own DATABASE_PATH."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
