"""Each user's default account: what a command acts on when it names none. Only what a user
chose is kept; a user without a row uses the first account they may use."""

from __future__ import annotations

import aiosqlite

from bot.clock import utcnow
from bot.store.unit import Step, write


class ChoiceRepo:
    """Every method is one short transaction on the shared connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def all(self) -> dict[int, str]:
        """Every user's chosen account (read once at start: one row per user at most)."""
        rows = await self._db.execute_fetchall("SELECT user_id, account FROM account_choices")
        return {int(row[0]): str(row[1]) for row in rows}

    async def set(self, user_id: int, account: str) -> None:
        await write(
            self._db,
            Step(
                "INSERT INTO account_choices (user_id, account, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET account = excluded.account,"
                " updated_at = excluded.updated_at",
                (user_id, account, utcnow().isoformat()),
            ),
        )
