"""The intents table: what a user asked for, frozen until they confirm, decline or it expires.

An intent only ever moves forward (PENDING → SENDING/DECLINED/EXPIRED → a final status), and
every move out of a state is a compare-and-set in one UPDATE, so whatever the taps, retries or
restarts, exactly one caller wins it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.clock import utcnow
from bot.store.rows import RowMapper, in_account
from bot.store.unit import Step, write


@dataclass(frozen=True, slots=True)
class IntentRow:
    id: str
    user_id: int
    chat_id: int
    message_id: int | None
    action: str
    payload: dict[str, Any]
    status: str
    created_at: datetime
    expires_at: datetime
    result: str | None


_ROWS = RowMapper(IntentRow)


class IntentRepo:
    """Every method is one short transaction on the shared connection."""

    def __init__(self, db: aiosqlite.Connection, account: str | None = None) -> None:
        self._db = db
        self._account = account

    async def add(
        self,
        intent_id: str,
        *,
        user_id: int,
        chat_id: int,
        action: str,
        payload: dict[str, Any],
        expires_at: datetime,
    ) -> IntentRow:
        """Store a PENDING intent; returns its row as written (`get` would read the same)."""
        created_at = utcnow()
        insert = Step(
            "INSERT INTO intents (id, user_id, chat_id, action, payload, status, created_at,"
            " expires_at, account) VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?, ?)",
            (
                intent_id,
                user_id,
                chat_id,
                action,
                json.dumps(payload),
                created_at.isoformat(),
                expires_at.isoformat(),
                self._account or "",
            ),
        )
        await write(self._db, insert)
        return IntentRow(
            id=intent_id,
            user_id=user_id,
            chat_id=chat_id,
            message_id=None,
            action=action,
            payload=payload,
            status="PENDING",
            created_at=created_at,
            expires_at=expires_at,
            result=None,
        )

    async def set_message(self, intent_id: str, message_id: int) -> None:
        """Remember the confirmation card, so an expiry can take its buttons away."""
        await write(
            self._db,
            Step("UPDATE intents SET message_id = ? WHERE id = ?", (message_id, intent_id)),
        )

    async def get(self, intent_id: str) -> IntentRow | None:
        rows = await self._select("id = ?", (intent_id,))
        return rows[0] if rows else None

    async def transition(
        self, intent_id: str, from_status: str, to_status: str, *, unexpired_at: datetime | None
    ) -> bool:
        """Compare-and-set. Only one caller can move an intent out of a state; with
        `unexpired_at`, the move also requires the intent not to have expired by then."""
        done = await write(
            self._db, self.transition_step(intent_id, from_status, to_status, unexpired_at)
        )
        return done.complete

    def transition_step(
        self, intent_id: str, from_status: str, to_status: str, unexpired_at: datetime | None
    ) -> Step:
        """`transition` as a required step of a larger unit of work: the steps after it run
        only for the caller that wins the move. A repository made for one account moves only
        that account's intents: a confirmation is valid only for the account it was made for."""
        sql = "UPDATE intents SET status = ? WHERE id = ? AND status = ?"
        args: list[Any] = [to_status, intent_id, from_status]
        if self._account is not None:
            sql += " AND account = ?"
            args.append(self._account)
        if unexpired_at is not None:
            sql += " AND expires_at > ?"
            args.append(unexpired_at.isoformat())
        return Step(sql, args, required=True)

    async def finish(self, intent_id: str, status: str, result: str) -> None:
        await write(self._db, self.finish_step(intent_id, status, result))

    @staticmethod
    def finish_step(intent_id: str, status: str, result: str) -> Step:
        return Step(
            "UPDATE intents SET status = ?, result = ? WHERE id = ?", (status, result, intent_id)
        )

    async def last_placed(self, user_id: int, key: str) -> IntentRow | None:
        """The user's latest order for `key` that went out (what a one-tap order from an
        alert suggests again)."""
        where, args = in_account(
            "user_id = ? AND action = 'place' AND status IN ('DONE', 'PARTIAL')"
            " AND json_extract(payload, '$.key') = ?",
            (user_id, key),
            self._account,
        )
        rows = await _ROWS.select(
            self._db,
            f"SELECT * FROM intents WHERE {where} ORDER BY created_at DESC LIMIT 1",  # noqa: S608 - internal
            args,
        )
        return rows[0] if rows else None

    async def in_status(self, status: str) -> list[IntentRow]:
        return await self._select("status = ?", (status,))

    async def _select(self, where: str, args: Sequence[Any]) -> list[IntentRow]:
        where, args = in_account(where, args, self._account)
        return await _ROWS.select(
            self._db,
            f"SELECT * FROM intents WHERE {where} ORDER BY created_at",  # noqa: S608 - internal
            args,
        )
