"""The audit table: every command and tap, written before the bot acts on it, and its outcome
once known, so a line without an outcome marks something that was cut short.

A Confirm tap's line is an `AuditLine`: its insert travels in the claim's unit of work (one
commit and one trip to the database thread for both, before the order leaves, instead of a trip
of its own first), and a tap refused before anything was written gets its line, outcome
included, in one insert."""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.clock import utcnow
from bot.store.unit import RowId, Step, write

_INSERT = "INSERT INTO audit (at, user_id, kind, what, account) VALUES (?, ?, ?, ?, ?)"
_INSERT_DONE = (
    "INSERT INTO audit (at, user_id, kind, what, account, outcome) VALUES (?, ?, ?, ?, ?, ?)"
)
_OUTCOME = "UPDATE audit SET outcome = ? WHERE id = ?"


class AuditRepo:
    """Every method is one short transaction on the shared connection."""

    def __init__(self, db: aiosqlite.Connection, account: str | None = None) -> None:
        self._db = db
        # The account this repository writes its lines for ('' for the bot as a whole).
        self._account = account or ""

    async def add(self, user_id: int | None, kind: str, what: str) -> int:
        """Record a command or tap before acting on it; returns the line id for the outcome."""
        done = await write(
            self._db, Step(_INSERT, (utcnow().isoformat(), user_id, kind, what, self._account))
        )
        return done.lastrowids[0]

    def line(self, user_id: int | None, kind: str, what: str) -> AuditLine:
        """A line stamped now and not written yet: see `AuditLine`."""
        return AuditLine(self._db, (utcnow().isoformat(), user_id, kind, what, self._account))

    async def set_outcome(self, audit_id: int, outcome: str) -> None:
        await write(self._db, Step(_OUTCOME, (outcome, audit_id)))

    async def latest(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest lines first."""
        async with self._db.execute(
            "SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)
        ) as cur:
            return [dict(r) for r in await cur.fetchall()]


class AuditLine:
    """One line, written either by `write` or as `step` inside another unit of work that
    commits before the bot acts (the claim of a Confirm tap: the line lands whenever that unit
    commits, won or lost, and not at all if it rolls back), and closed with its outcome by
    `close`: an update of the written line, or the whole line in one insert if it never was."""

    def __init__(
        self, db: aiosqlite.Connection, values: tuple[str, int | None, str, str, str]
    ) -> None:
        self._db = db
        self._values = values
        self._rowid = RowId()
        self.step = Step(_INSERT, values, rowid=self._rowid)

    @property
    def id(self) -> int | None:
        """The line's row id once written."""
        return self._rowid.value

    async def write(self) -> None:
        """Write the line now, unless it was written."""
        if self._rowid.value is None:
            await write(self._db, self.step)

    async def close(self, outcome: str) -> None:
        if self._rowid.value is None:
            await write(self._db, Step(_INSERT_DONE, (*self._values, outcome)))
        else:
            await write(self._db, Step(_OUTCOME, (outcome, self._rowid.value)))
