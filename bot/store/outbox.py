"""The outbox table: every push, written before it is sent and marked once Telegram answered.

A row is one message part as it will be sent (the notifier splits a long text before writing
it), with what the sender needs to send it again after a restart: the chat, the rendered text,
whether it is markup, its keyboard (JSON), whether it goes silently, a coalescing key, and for a
picture its PNG bytes (the text is then its caption).
Rows wait as PENDING, in id order per chat, until Telegram accepted them (SENT) or refused
them for good (FAILED, with the reason). Finished rows are kept a few days for inspection and
then pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.clock import utcnow
from bot.store.rows import RowMapper
from bot.store.unit import Step, write

PENDING = "PENDING"
SENT = "SENT"
FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    chat_id: int
    text: str
    markup: int  # 0 or 1, as SQLite keeps a boolean
    keyboard: list[Any] | None
    silent: int
    coalesce_key: str | None
    status: str
    attempts: int
    error: str | None
    created_at: datetime
    done_at: datetime | None
    photo: bytes | None = None


_ROWS = RowMapper(OutboxRow)


class OutboxRepo:
    """Every method is one short transaction on the shared connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def add(
        self,
        chat_id: int,
        parts: Sequence[str],
        *,
        markup: bool,
        keyboard: str | None,
        silent: bool,
        coalesce_key: str | None,
        photo: bytes | None = None,
    ) -> None:
        """Write the parts of one message (the keyboard, JSON text, goes on the last; a
        picture is one part, its caption) in one transaction: a message is queued whole or
        not at all."""
        now = utcnow().isoformat()
        last = len(parts) - 1
        await write(
            self._db,
            Step.each(
                "INSERT INTO outbox (chat_id, text, markup, keyboard, silent, coalesce_key,"
                " created_at, photo) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        chat_id,
                        part,
                        int(markup),
                        keyboard if i == last else None,
                        int(silent),
                        coalesce_key,
                        now,
                        photo,
                    )
                    for i, part in enumerate(parts)
                ],
            ),
        )

    async def waiting(self, chat_id: int, limit: int) -> list[OutboxRow]:
        """The chat's oldest rows not sent yet, in the order they were written."""
        return await _ROWS.select(
            self._db,
            "SELECT * FROM outbox WHERE chat_id = ? AND status = ? ORDER BY id LIMIT ?",
            (chat_id, PENDING, limit),
        )

    async def waiting_chats(self) -> list[int]:
        """Chats with rows not sent yet (what a sender picks up at start), oldest first."""
        rows = await self._db.execute_fetchall(
            "SELECT chat_id FROM outbox WHERE status = ? GROUP BY chat_id ORDER BY MIN(id)",
            (PENDING,),
        )
        return [int(row[0]) for row in rows]

    async def sent(self, ids: Sequence[int]) -> None:
        """Telegram accepted these rows (one message, when they were coalesced)."""
        await self._finish(ids, SENT, None)

    async def failed(self, ids: Sequence[int], error: str) -> None:
        """Telegram refused these rows for good (chat not found, bot blocked, bad request)."""
        await self._finish(ids, FAILED, error)

    async def attempted(self, ids: Sequence[int], error: str) -> None:
        """A try that failed for now (Telegram unreachable, flood control): counted, kept."""
        await write(
            self._db,
            Step.each(
                "UPDATE outbox SET attempts = attempts + 1, error = ? WHERE id = ? AND status = ?",
                [(error, i, PENDING) for i in ids],
            ),
        )

    async def prune(self, before: datetime) -> int:
        """Forget finished rows older than `before`; returns how many went."""
        done = await write(
            self._db,
            Step(
                "DELETE FROM outbox WHERE status != ? AND done_at < ?",
                (PENDING, before.isoformat()),
            ),
        )
        return done.rowcounts[0]

    async def counts(self) -> dict[str, int]:
        """Rows per status: what `/health`-style views and tests read."""
        rows = await self._db.execute_fetchall(
            "SELECT status, COUNT(*) FROM outbox GROUP BY status"
        )
        return {str(row[0]): int(row[1]) for row in rows}

    async def backlog(self) -> int:
        """How many message parts wait to be sent (what /status shows)."""
        return (await self.counts()).get(PENDING, 0)

    async def _finish(self, ids: Sequence[int], status: str, error: str | None) -> None:
        now = utcnow().isoformat()
        await write(
            self._db,
            Step.each(
                "UPDATE outbox SET status = ?, error = ?, done_at = ?, attempts = attempts + 1"
                " WHERE id = ? AND status = ?",
                [(status, error, now, i, PENDING) for i in ids],
            ),
        )
