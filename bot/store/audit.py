"""The audit table: every command and tap, written before the bot acts on it, and its outcome
once known, so a line without an outcome marks something that was cut short."""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.clock import utcnow
from bot.store.unit import Step, write


class AuditRepo:
    """Every method is one short transaction on the shared connection."""

    def __init__(self, db: aiosqlite.Connection, account: str | None = None) -> None:
        self._db = db
        # The account this repository writes its lines for ('' for the bot as a whole).
        self._account = account or ""

    async def add(self, user_id: int | None, kind: str, what: str) -> int:
        """Record a command or tap before acting on it; returns the line id for the outcome."""
        done = await write(
            self._db,
            Step(
                "INSERT INTO audit (at, user_id, kind, what, account) VALUES (?, ?, ?, ?, ?)",
                (utcnow().isoformat(), user_id, kind, what, self._account),
            ),
        )
        return done.lastrowids[0]

    async def set_outcome(self, audit_id: int, outcome: str) -> None:
        await write(
            self._db, Step("UPDATE audit SET outcome = ? WHERE id = ?", (outcome, audit_id))
        )

    async def latest(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest lines first."""
        async with self._db.execute(
            "SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)
        ) as cur:
            return [dict(r) for r in await cur.fetchall()]
