"""The alerts table: price alerts users set, and the state that keeps each from firing twice.

An alert's `side` (where the last fresh price stood relative to its level) and `fired_at` (for
the repeat cool-down) are written after every change, before the alert's event is sent, so a
restart reloads exactly the state the engine had: a move that already fired does not fire
again. A one-shot alert that fired is kept as FIRED (its history); removal deletes the row.
Prices are stored as the text of their `Decimal`, as in the orders table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import aiosqlite

from bot.clock import utcnow
from bot.store.rows import RowMapper, in_account
from bot.store.unit import Step, write

ACTIVE = "ACTIVE"
FIRED = "FIRED"


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    user_id: int
    chat_id: int
    symbol: str
    kind: str
    level: str
    reference: str | None
    note: str
    repeat: int  # 0 or 1, as SQLite keeps a boolean
    cooldown_seconds: int
    status: str
    side: str | None
    fired_at: datetime | None
    fire_count: int
    created_at: datetime
    snoozed_until: datetime | None = None


class AlertState(NamedTuple):
    """One alert's new state after a price: its side, when it last fired, whether it fired on
    this price (counted) and whether it is done (a one-shot that fired). A NamedTuple: the
    engine makes one per changed alert, thousands on a market-wide move, at a third of the
    cost of a frozen dataclass."""

    id: int
    side: str | None
    fired_at: datetime | None
    fired: bool
    done: bool


_ROWS = RowMapper(AlertRow)


class AlertRepo:
    """Every method is one short transaction on the shared connection."""

    def __init__(self, db: aiosqlite.Connection, account: str | None = None) -> None:
        self._db = db
        self._account = account

    async def add(
        self,
        *,
        user_id: int,
        chat_id: int,
        symbol: str,
        kind: str,
        level: str,
        reference: str | None,
        note: str,
        repeat: bool,
        cooldown_seconds: int,
        side: str | None,
    ) -> AlertRow:
        done = await write(
            self._db,
            Step(
                "INSERT INTO alerts (user_id, chat_id, symbol, kind, level, reference, note,"
                " repeat, cooldown_seconds, status, side, created_at, account)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    chat_id,
                    symbol,
                    kind,
                    level,
                    reference,
                    note,
                    int(repeat),
                    cooldown_seconds,
                    ACTIVE,
                    side,
                    utcnow().isoformat(),
                    self._account or "",
                ),
            ),
        )
        row = await self.get(int(done.lastrowids[0]))
        assert row is not None  # just inserted on this connection
        return row

    async def get(self, alert_id: int) -> AlertRow | None:
        rows = await self._select("id = ?", (alert_id,))
        return rows[0] if rows else None

    async def active(self) -> list[AlertRow]:
        """Every alert still watched: what the engine loads at start."""
        return await self._select("status = ?", (ACTIVE,))

    async def of_user(self, user_id: int) -> list[AlertRow]:
        """A user's active alerts, oldest first (their ids are what `/alert off ID` takes)."""
        return await self._select("user_id = ? AND status = ?", (user_id, ACTIVE))

    async def remove(self, alert_id: int, user_id: int) -> bool:
        """Delete the user's own alert; False when there is none with that id for them."""
        where, args = in_account("id = ? AND user_id = ?", (alert_id, user_id), self._account)
        done = await write(
            self._db,
            Step(f"DELETE FROM alerts WHERE {where}", args),  # noqa: S608 - internal
        )
        return done.rowcounts[0] == 1

    async def snooze(self, alert_id: int, user_id: int, side: str | None, until: datetime) -> bool:
        """Arm the user's alert again on `side`, silent until `until` (a one-shot that fired
        becomes active again); False when they have no alert with that id."""
        where, args = in_account("id = ? AND user_id = ?", (alert_id, user_id), self._account)
        done = await write(
            self._db,
            Step(
                f"UPDATE alerts SET status = ?, side = ?, snoozed_until = ? WHERE {where}",  # noqa: S608 - internal
                (ACTIVE, side, until.isoformat(), *args),
            ),
        )
        return done.rowcounts[0] == 1

    async def save_states(self, states: Sequence[AlertState]) -> None:
        """All the changes of one round of prices in one transaction (a removed alert's change
        matches no row and is dropped)."""
        await write(
            self._db,
            Step.each(
                "UPDATE alerts SET side = ?, fired_at = ?, fire_count = fire_count + ?, status = ?"
                " WHERE id = ? AND status = ?",
                [
                    (
                        s.side,
                        s.fired_at.isoformat() if s.fired_at else None,
                        int(s.fired),
                        FIRED if s.done else ACTIVE,
                        s.id,
                        ACTIVE,
                    )
                    for s in states
                ],
            ),
        )

    async def _select(self, where: str, args: Sequence[Any]) -> list[AlertRow]:
        where, args = in_account(where, args, self._account)
        return await _ROWS.select(
            self._db,
            f"SELECT * FROM alerts WHERE {where} ORDER BY id",  # noqa: S608 - internal
            args,
        )
