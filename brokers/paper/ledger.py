"""The paper account's records: orders, trades, positions, holdings, cash and id counters.

Plain mutable data with the bookkeeping arithmetic of a fill; the rules (validation, margin,
matching) live in `book.py`, and `state.py` turns a `Ledger` into JSON and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from brokers.models import (
    Order,
    OrderStatus,
    OrderType,
    Position,
    Product,
    Side,
    Trade,
    Validity,
)

AVERAGE_PLACES = 4  # averages need not be on the tick, but stay readable
AVERAGE_QUANTUM = Decimal(1).scaleb(-AVERAGE_PLACES)


@dataclass(slots=True)
class BookOrder:
    """An order as the paper exchange keeps it. `blocked` is the margin held while it works;
    `triggered` records that a stop-loss has already become a limit order."""

    order_id: str
    key: str
    side: Side
    quantity: int
    order_type: OrderType
    product: Product
    validity: Validity
    price: Decimal
    trigger_price: Decimal | None
    tag: str
    status: OrderStatus
    updated_at: datetime
    filled_quantity: int = 0
    average_price: Decimal | None = None
    message: str = ""
    triggered: bool = False
    blocked: Decimal = Decimal(0)
    amo: bool = False  # an after-market order: PENDING (`held`) until its segment opens

    @property
    def working(self) -> bool:
        return self.status in (OrderStatus.OPEN, OrderStatus.TRIGGER_PENDING)

    @property
    def held(self) -> bool:
        """An AMO waiting for its segment's next session."""
        return self.amo and self.status is OrderStatus.PENDING

    def to_model(self) -> Order:
        return Order(
            order_id=self.order_id,
            key=self.key,
            side=self.side,
            quantity=self.quantity,
            order_type=self.order_type,
            product=self.product,
            status=self.status,
            price=self.price,
            trigger_price=self.trigger_price,
            filled_quantity=self.filled_quantity,
            average_price=self.average_price,
            tag=self.tag,
            message=self.message,
            updated_at=self.updated_at,
        )


@dataclass(slots=True)
class PositionRecord:
    """Net quantity per (key, product); closed positions stay (quantity 0) with their P&L."""

    key: str
    product: Product
    quantity: int = 0
    average_price: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)

    def apply(self, side: Side, quantity: int, price: Decimal) -> Decimal:
        """Book a fill; return the P&L it realized (non-zero only when it reduced the position).
        A fill that flips the position opens the remainder at the fill price."""
        signed = quantity if side is Side.BUY else -quantity
        if self.quantity == 0 or (self.quantity > 0) == (signed > 0):
            self.average_price = _average(self.average_price, abs(self.quantity), price, quantity)
            self.quantity += signed
            return Decimal(0)
        closed = min(quantity, abs(self.quantity))
        direction = 1 if self.quantity > 0 else -1
        realized = (price - self.average_price) * closed * direction
        self.realized_pnl += realized
        self.quantity += signed
        if self.quantity * direction < 0:
            self.average_price = price
        return realized

    def to_model(self, ltp: Decimal | None) -> Position:
        unrealized = (ltp - self.average_price) * self.quantity if ltp is not None else Decimal(0)
        return Position(
            key=self.key,
            product=self.product,
            quantity=self.quantity,
            average_price=self.average_price,
            ltp=ltp,
            realized_pnl=self.realized_pnl,
            unrealized_pnl=unrealized,
        )


@dataclass(slots=True)
class HoldingRecord:
    key: str
    quantity: int
    average_price: Decimal

    def add(self, quantity: int, price: Decimal) -> None:
        self.average_price = _average(self.average_price, self.quantity, price, quantity)
        self.quantity += quantity


@dataclass(slots=True)
class Ledger:
    cash: Decimal
    next_order: int = 1
    next_trade: int = 1
    orders: dict[str, BookOrder] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    positions: dict[tuple[str, Product], PositionRecord] = field(default_factory=dict)
    holdings: dict[str, HoldingRecord] = field(default_factory=dict)

    def new_order_id(self) -> str:
        self.next_order += 1
        return f"PAPER{self.next_order - 1:06d}"

    def new_trade_id(self) -> str:
        self.next_trade += 1
        return f"PAPERT{self.next_trade - 1:06d}"

    def position(self, key: str, product: Product) -> PositionRecord:
        return self.positions.setdefault((key, product), PositionRecord(key, product))


def _average(average: Decimal, quantity: int, price: Decimal, added: int) -> Decimal:
    """Weighted average, exact when it terminates (one fill keeps its price), else rounded."""
    result = (average * quantity + price * added) / (quantity + added)
    exponent = result.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -AVERAGE_PLACES:
        return result.quantize(AVERAGE_QUANTUM)
    return result
