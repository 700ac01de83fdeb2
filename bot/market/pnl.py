"""The day's P&L (issue 15): realised and unrealised, per position and in total.

Read from the broker's positions, as the broker computes them (its average price and LTP): the
same numbers the trader sees in the broker's own app, and the ones the daily loss limit is
measured on. A position without an LTP has no unrealised P&L the bot can tell: it counts as
zero in the total and is marked, so a missing price is never shown as "no loss".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from brokers.models import Position, Product

__all__ = ["DayPnL", "PositionLine", "day_pnl"]


@dataclass(frozen=True, slots=True)
class PositionLine:
    """One position's day: `unrealised` None when the broker gave no LTP for an open one."""

    key: str
    product: Product
    quantity: int
    average_price: Decimal
    ltp: Decimal | None
    realised: Decimal
    unrealised: Decimal | None

    @property
    def total(self) -> Decimal:
        return self.realised + (self.unrealised or Decimal(0))


@dataclass(frozen=True, slots=True)
class DayPnL:
    positions: tuple[PositionLine, ...]
    realised: Decimal
    unrealised: Decimal
    unpriced: int  # open positions without an LTP (their unrealised P&L is not in the total)

    @property
    def total(self) -> Decimal:
        return self.realised + self.unrealised


def day_pnl(positions: Sequence[Position]) -> DayPnL:
    lines = tuple(
        PositionLine(
            p.key,
            p.product,
            p.quantity,
            p.average_price,
            p.ltp,
            p.realized_pnl,
            p.unrealized_pnl if p.ltp is not None or p.quantity == 0 else None,
        )
        for p in positions
    )
    return DayPnL(
        positions=lines,
        realised=sum((line.realised for line in lines), Decimal(0)),
        unrealised=sum((line.unrealised or Decimal(0) for line in lines), Decimal(0)),
        unpriced=sum(1 for line in lines if line.unrealised is None),
    )
