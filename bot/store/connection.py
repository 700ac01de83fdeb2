"""SQLite storage (aiosqlite): intents, orders placed through the bot, and the audit trail.

Everything is written here *before* the bot acts on it, so a crash can lose no intent and double
no order: a confirmation moves PENDING → SENDING with a compare-and-set that only one tap can win,
and an order row exists (status SENDING) before its request leaves. One database file, WAL mode,
migrations applied in order at start-up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.clock import utcnow

MIGRATIONS: Sequence[str] = (
    """
    CREATE TABLE intents (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        message_id INTEGER,
        action TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        result TEXT
    );
    CREATE TABLE orders (
        tag TEXT PRIMARY KEY,
        intent_id TEXT NOT NULL REFERENCES intents(id),
        broker TEXT NOT NULL,
        broker_order_id TEXT,
        user_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        price TEXT NOT NULL,
        status TEXT NOT NULL,
        filled_quantity INTEGER NOT NULL DEFAULT 0,
        average_price TEXT,
        message TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX orders_by_status ON orders(status);
    CREATE INDEX orders_by_broker_id ON orders(broker_order_id);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        user_id INTEGER,
        kind TEXT NOT NULL,
        what TEXT NOT NULL,
        outcome TEXT
    );
    """,
)

# Order row states that the tracker still follows. SENDING/UNKNOWN rows have no confirmed broker id
# yet and are reconciled by tag.
LIVE_ORDER_STATES = ("SENDING", "UNKNOWN", "PENDING", "OPEN", "TRIGGER_PENDING", "PARTIALLY_FILLED")


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


class Store:
    """The one database. Open with `await Store.open(path)`; every method is a short transaction."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA synchronous=NORMAL")
        store = cls(db)
        await store._migrate()
        return store

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        await self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
        current = await self.schema_version()
        for version, script in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            await self._db.executescript(
                f"BEGIN; {script}; INSERT INTO schema_version VALUES ({version}); COMMIT;"  # noqa: S608
            )

    async def schema_version(self) -> int:
        async with self._db.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # -- audit -------------------------------------------------------------------------------

    async def audit(self, user_id: int | None, kind: str, what: str) -> int:
        """Record a command or tap before acting on it; returns the line id for the outcome."""
        cur = await self._db.execute(
            "INSERT INTO audit (at, user_id, kind, what) VALUES (?, ?, ?, ?)",
            (utcnow().isoformat(), user_id, kind, what),
        )
        await self._db.commit()
        return int(cur.lastrowid or 0)

    async def audit_outcome(self, audit_id: int, outcome: str) -> None:
        await self._db.execute("UPDATE audit SET outcome = ? WHERE id = ?", (outcome, audit_id))
        await self._db.commit()

    async def audit_lines(self, limit: int = 100) -> list[dict[str, Any]]:
        async with self._db.execute(
            "SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)
        ) as cur:
            return [dict(r) for r in await cur.fetchall()]

    # -- intents -----------------------------------------------------------------------------

    async def add_intent(
        self,
        intent_id: str,
        *,
        user_id: int,
        chat_id: int,
        action: str,
        payload: dict[str, Any],
        expires_at: datetime,
    ) -> None:
        await self._db.execute(
            "INSERT INTO intents (id, user_id, chat_id, action, payload, status, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?)",
            (
                intent_id,
                user_id,
                chat_id,
                action,
                json.dumps(payload),
                utcnow().isoformat(),
                expires_at.isoformat(),
            ),
        )
        await self._db.commit()

    async def set_intent_message(self, intent_id: str, message_id: int) -> None:
        await self._db.execute(
            "UPDATE intents SET message_id = ? WHERE id = ?", (message_id, intent_id)
        )
        await self._db.commit()

    async def get_intent(self, intent_id: str) -> IntentRow | None:
        rows = await self._intents("id = ?", (intent_id,))
        return rows[0] if rows else None

    async def transition_intent(
        self, intent_id: str, from_status: str, to_status: str, *, unexpired_at: datetime | None
    ) -> bool:
        """Compare-and-set. Only one caller can move an intent out of a state; with
        `unexpired_at`, the move also requires the intent not to have expired by then."""
        sql = "UPDATE intents SET status = ? WHERE id = ? AND status = ?"
        args: list[Any] = [to_status, intent_id, from_status]
        if unexpired_at is not None:
            sql += " AND expires_at > ?"
            args.append(unexpired_at.isoformat())
        cur = await self._db.execute(sql, args)
        await self._db.commit()
        return cur.rowcount == 1

    async def finish_intent(self, intent_id: str, status: str, result: str) -> None:
        await self._db.execute(
            "UPDATE intents SET status = ?, result = ? WHERE id = ?", (status, result, intent_id)
        )
        await self._db.commit()

    async def intents_in(self, status: str) -> list[IntentRow]:
        return await self._intents("status = ?", (status,))

    async def _intents(self, where: str, args: Sequence[Any]) -> list[IntentRow]:
        async with self._db.execute(
            f"SELECT * FROM intents WHERE {where} ORDER BY created_at",  # noqa: S608 - internal
            tuple(args),
        ) as cur:
            rows = await cur.fetchall()
        return [
            IntentRow(
                id=row["id"],
                user_id=row["user_id"],
                chat_id=row["chat_id"],
                message_id=row["message_id"],
                action=row["action"],
                payload=json.loads(row["payload"]),
                status=row["status"],
                created_at=datetime.fromisoformat(row["created_at"]),
                expires_at=datetime.fromisoformat(row["expires_at"]),
                result=row["result"],
            )
            for row in rows
        ]

    # -- orders ------------------------------------------------------------------------------

    async def add_order(
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
    ) -> None:
        now = utcnow().isoformat()
        await self._db.execute(
            "INSERT INTO orders (tag, intent_id, broker, user_id, chat_id, symbol, side, quantity,"
            " price, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'SENDING', ?, ?)",
            (tag, intent_id, broker, user_id, chat_id, symbol, side, quantity, price, now, now),
        )
        await self._db.commit()

    async def update_order(self, tag: str, **fields: Any) -> None:
        allowed = {
            "broker_order_id",
            "status",
            "filled_quantity",
            "average_price",
            "message",
            "quantity",
            "price",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        sets = ", ".join(f"{name} = ?" for name in fields)
        await self._db.execute(
            f"UPDATE orders SET {sets}, updated_at = ? WHERE tag = ?",  # noqa: S608 - names are whitelisted
            (*fields.values(), utcnow().isoformat(), tag),
        )
        await self._db.commit()

    async def live_orders(self) -> list[OrderRow]:
        marks = ", ".join("?" for _ in LIVE_ORDER_STATES)
        return await self._orders(f"status IN ({marks})", LIVE_ORDER_STATES)

    async def orders_for_intent(self, intent_id: str) -> list[OrderRow]:
        return await self._orders("intent_id = ?", (intent_id,))

    async def order_by_tag(self, tag: str) -> OrderRow | None:
        rows = await self._orders("tag = ?", (tag,))
        return rows[0] if rows else None

    async def order_by_broker_id(self, broker_order_id: str) -> OrderRow | None:
        rows = await self._orders("broker_order_id = ?", (broker_order_id,))
        return rows[0] if rows else None

    async def _orders(self, where: str, args: Sequence[Any]) -> list[OrderRow]:
        async with self._db.execute(
            f"SELECT * FROM orders WHERE {where} ORDER BY created_at, tag",  # noqa: S608 - internal
            tuple(args),
        ) as cur:
            rows = await cur.fetchall()
        return [
            OrderRow(
                tag=r["tag"],
                intent_id=r["intent_id"],
                broker=r["broker"],
                broker_order_id=r["broker_order_id"],
                user_id=r["user_id"],
                chat_id=r["chat_id"],
                symbol=r["symbol"],
                side=r["side"],
                quantity=r["quantity"],
                price=r["price"],
                status=r["status"],
                filled_quantity=r["filled_quantity"],
                average_price=r["average_price"],
                message=r["message"],
            )
            for r in rows
        ]
