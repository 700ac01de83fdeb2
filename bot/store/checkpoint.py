"""WAL checkpoints, off the order path.

In WAL mode SQLite appends each commit to the `-wal` file and, by default, copies the log back
into the database (a checkpoint, with an fsync) inside whichever commit pushes the log past
1000 pages. That commit then takes 5-10 ms instead of 0.1 ms, and with every write on the one
shared connection it can be the audit line of a Confirm tap or the order row written before a
place. So the store turns automatic checkpoints off and runs them here instead: every `every`
seconds, on a connection (and thread) of their own, in PASSIVE mode, which never waits for and
never blocks the main connection's writes. Durability is unchanged: a commit is in the log
whether or not it has been checkpointed yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 30.0


class Checkpointer:
    def __init__(self, db: aiosqlite.Connection, every: float) -> None:
        self._db = db
        self._every = every
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, path: Path, every: float = CHECKPOINT_SECONDS) -> Checkpointer:
        checkpointer = cls(await aiosqlite.connect(path), every)
        checkpointer._task = asyncio.create_task(checkpointer._run(), name="wal-checkpoint")
        return checkpointer

    async def checkpoint(self) -> tuple[int, int]:
        """One PASSIVE checkpoint: (pages in the log, pages copied into the database)."""
        async with self._db.execute("PRAGMA wal_checkpoint(PASSIVE)") as cur:
            row = await cur.fetchone()
        return (int(row[1]), int(row[2])) if row else (0, 0)

    async def stop(self) -> None:
        """Stop the timer and close the connection; the last connection to close checkpoints
        what is left, so nothing is lost by stopping between checkpoints."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._db.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.checkpoint()
            except Exception:
                log.exception("WAL checkpoint failed; retrying at the next interval")
