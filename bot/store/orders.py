"""The orders table: one row per order the bot sent, written (status SENDING, with our tag)
before its request leaves, so a crash or a timeout leaves a row to reconcile, never a gap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from bot.clock import utcnow
from bot.store.rows import RowMapper, in_account
from bot.store.unit import Step, write

# Order row states that the tracker still follows. SENDING/UNKNOWN rows have no confirmed broker id
# yet and are reconciled by tag.
LIVE_ORDER_STATES = ("SENDING", "UNKNOWN", "PENDING", "OPEN", "TRIGGER_PENDING", "PARTIALLY_FILLED")

# The columns `update` may change; the rest of a row is fixed once written.
_UPDATABLE = frozenset(
    {
        "broker_order_id",
        "status",
        "filled_quantity",
        "average_price",
        "message",
        "quantity",
        "price",
    }
)


@dataclass(frozen=True, slots=True)
class OrderRow:
    tag: str
    intent_id: str
    broker: str
    broker_order_id: str | None
    user_id: int
    chat_id: int
    symbol: str
    side: str
    quantity: int
    price: str
    status: str
    filled_quantity: int
    average_price: str | None
    message: str


_ROWS = RowMapper(OrderRow)


class OrderRepo:
    """Every method is one short transaction on the shared connection."""

    def __init__(self, db: aiosqlite.Connection, account: str | None = None) -> None:
        self._db = db
        self._account = account

    async def add(self, tag: str, **row: Any) -> None:
        """Write an order row (status SENDING) before its request leaves; the keywords are
        `add_step`'s."""
        await write(self._db, self.add_step(tag, **row))

    def add_step(
        self,
        tag: str,
        *,
        intent_id: str,
        broker: str,
        user_id: int,
        chat_id: int,
        symbol: str,
        side: str,
        quantity: int,
        price: str,
    ) -> Step:
        now = utcnow().isoformat()
        return Step(
            "INSERT INTO orders (tag, intent_id, broker, user_id, chat_id, symbol, side, quantity,"
            " price, status, created_at, updated_at, account)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'SENDING', ?, ?, ?)",
            (
                tag,
                intent_id,
                broker,
                user_id,
                chat_id,
                symbol,
                side,
                quantity,
                price,
                now,
                now,
                self._account or "",
            ),
        )

    async def update(self, tag: str, **fields: Any) -> None:
        await write(self._db, self.update_step(tag, **fields))

    @staticmethod
    def update_step(tag: str, **fields: Any) -> Step:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        sets = ", ".join(f"{name} = ?" for name in fields)
        return Step(
            f"UPDATE orders SET {sets}, updated_at = ? WHERE tag = ?",  # noqa: S608 - names are whitelisted
            (*fields.values(), utcnow().isoformat(), tag),
        )

    async def live(self) -> list[OrderRow]:
        marks = ", ".join("?" for _ in LIVE_ORDER_STATES)
        return await self._select(f"status IN ({marks})", LIVE_ORDER_STATES)

    async def for_intent(self, intent_id: str) -> list[OrderRow]:
        return await self._select("intent_id = ?", (intent_id,))

    async def in_states(self, states: Sequence[str]) -> list[OrderRow]:
        marks = ", ".join("?" for _ in states)
        return await self._select(f"status IN ({marks})", tuple(states))

    async def created_before(self, cutoff: datetime, states: Sequence[str]) -> list[OrderRow]:
        """Rows in `states` written before `cutoff` (e.g. orders of an earlier trading day).
        Stored times are UTC ISO text, so the cutoff is compared in UTC too."""
        marks = ", ".join("?" for _ in states)
        return await self._select(
            f"status IN ({marks}) AND created_at < ?",
            (*states, cutoff.astimezone(UTC).isoformat()),
        )

    async def in_send_order(self, intent_id: str) -> list[OrderRow]:
        """An intent's rows in the order they were written, which is the order its slices were
        sent in (rowid, unlike a timestamp, cannot tie or go backwards)."""
        where, args = in_account("intent_id = ?", (intent_id,), self._account)
        return await _ROWS.select(
            self._db,
            f"SELECT * FROM orders WHERE {where} ORDER BY rowid",  # noqa: S608 - internal
            args,
        )

    async def by_tag(self, tag: str) -> OrderRow | None:
        rows = await self._select("tag = ?", (tag,))
        return rows[0] if rows else None

    async def by_broker_id(self, broker_order_id: str) -> OrderRow | None:
        rows = await self._select("broker_order_id = ?", (broker_order_id,))
        return rows[0] if rows else None

    async def _select(self, where: str, args: Sequence[Any]) -> list[OrderRow]:
        where, args = in_account(where, args, self._account)
        return await _ROWS.select(
            self._db,
            f"SELECT * FROM orders WHERE {where} ORDER BY created_at, tag",  # noqa: S608 - internal
            args,
        )
