"""Persistence of the paper account: one JSON file, replaced atomically.

The file holds the ledger (orders, trades, positions, holdings, cash, id counters) and the equity
and index prices with their previous closes, stamped with the trading day; derivatives are
re-priced from their index on load. Decimals are written as strings so no price ever passes
through a float. Writes go through `asyncio.to_thread` and `os.replace`, so a crash leaves either
the old file or the new one, never half of one.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from brokers.models import OrderStatus, OrderType, Product, Side, Trade, Validity
from brokers.paper.ledger import BookOrder, HoldingRecord, Ledger, PositionRecord

SCHEMA = 1

# Field name → how to read it back; every other field is stored as JSON already.
_DECODERS: dict[str, Callable[[Any], object]] = {
    "side": Side,
    "order_type": OrderType,
    "product": Product,
    "validity": Validity,
    "status": OrderStatus,
    "price": Decimal,
    "trigger_price": Decimal,
    "average_price": Decimal,
    "blocked": Decimal,
    "realized_pnl": Decimal,
    "updated_at": datetime.fromisoformat,
    "at": datetime.fromisoformat,
}


@dataclass(frozen=True, slots=True)
class Snapshot:
    day: date
    ledger: Ledger
    prices: dict[str, Decimal]
    closes: dict[str, Decimal]


def encode(snapshot: Snapshot) -> str:
    ledger = snapshot.ledger
    return json.dumps(
        {
            "schema": SCHEMA,
            "day": snapshot.day.isoformat(),
            "cash": str(ledger.cash),
            "next_order": ledger.next_order,
            "next_trade": ledger.next_trade,
            "orders": [_row(order) for order in ledger.orders.values()],
            "trades": [_row(trade) for trade in ledger.trades],
            "positions": [_row(position) for position in ledger.positions.values()],
            "holdings": [_row(holding) for holding in ledger.holdings.values()],
            "prices": {key: str(price) for key, price in snapshot.prices.items()},
            "closes": {key: str(price) for key, price in snapshot.closes.items()},
        },
        ensure_ascii=False,
        indent=1,
    )


def decode(text: str) -> Snapshot:
    data = json.loads(text)
    if data.get("schema") != SCHEMA:
        raise ValueError(f"Unsupported paper state schema {data.get('schema')!r}")
    orders = [BookOrder(**_fields(row)) for row in data["orders"]]
    positions = [PositionRecord(**_fields(row)) for row in data["positions"]]
    holdings = [HoldingRecord(**_fields(row)) for row in data["holdings"]]
    ledger = Ledger(
        cash=Decimal(data["cash"]),
        next_order=data["next_order"],
        next_trade=data["next_trade"],
        orders={order.order_id: order for order in orders},
        trades=[Trade(**_fields(row)) for row in data["trades"]],
        positions={(position.key, position.product): position for position in positions},
        holdings={holding.key: holding for holding in holdings},
    )
    return Snapshot(
        day=date.fromisoformat(data["day"]),
        ledger=ledger,
        prices={key: Decimal(price) for key, price in data["prices"].items()},
        closes={key: Decimal(price) for key, price in data["closes"].items()},
    )


def load_snapshot(path: Path) -> Snapshot | None:
    """Read the saved account, or None on first start. Synchronous: called once, while the broker
    is constructed, before it trades."""
    if not path.exists():
        return None
    return decode(path.read_text(encoding="utf-8"))


class StateFile:
    """Writes snapshots to `path` off the event loop. Saves are serialized by a lock and coalesced:
    the snapshot is taken once the lock is held, so it covers every save requested before it, and
    those saves return without writing again."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = asyncio.Lock()
        self._requested = 0
        self._written = 0

    async def save(self, snapshot: Callable[[], Snapshot]) -> None:
        self._requested += 1
        request = self._requested
        async with self._lock:
            if self._written >= request:
                return
            covered = self._requested
            await asyncio.to_thread(_replace_file, self._path, encode(snapshot()))
            self._written = covered


def _replace_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _row(record: Any) -> dict[str, Any]:
    return {field.name: _plain(getattr(record, field.name)) for field in fields(record)}


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return value  # str (enums included), int, bool, None


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value if value is None or name not in _DECODERS else _DECODERS[name](value)
        for name, value in row.items()
    }
