"""Daily limits per account (issue 15): the rules, with no I/O.

Three limits, each optional (None: no limit): the day's maximum loss (realised + unrealised, as
the broker's positions report them), the day's maximum number of orders, and the maximum value
of one order. They stop *entries* only. An order is an exit when it only reduces an open
position: a SELL of at most the long quantity (a BUY of at most the short quantity) of the
same instrument and product, less what open orders on the same side are already working to
close; a CNC SELL may also close delivery holdings (the larger of the two is taken, never their
sum, since a broker may list today's delivery buy in both). An order that would flip a position
(sell 15 of a long 10) opens a new one, so it is an entry. A trader must always be able to get
out, so an exit passes every limit, the halt included.

The loss and order-count limits describe the day: when one is hit the account halts (entries
refused until an admin resumes, or the next trading day). The order-value limit describes one
order: a too-large order is refused, and a smaller one may follow at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from bot.amounts import rupees
from bot.errors import UserError
from brokers.models import Holding, Order, OrderStatus, Position, Product, Side

__all__ = [
    "LIMITS_USAGE",
    "Breach",
    "DailyLimits",
    "LimitKind",
    "Usage",
    "check_day",
    "check_entry",
    "closable",
    "orders_today",
    "parse_limit_change",
]

LIMITS_USAGE = "/limits [loss|orders|value AMOUNT|off]"


class LimitKind(StrEnum):
    LOSS = "loss"
    ORDERS = "orders"
    ORDER_VALUE = "value"

    @property
    def label(self) -> str:
        return _TITLES[self]

    @property
    def halts(self) -> bool:
        """Whether hitting it halts the day (the loss and the count), or refuses one order."""
        return self is not LimitKind.ORDER_VALUE


_TITLES = {
    LimitKind.LOSS: "daily max loss",
    LimitKind.ORDERS: "daily max orders",
    LimitKind.ORDER_VALUE: "max value of one order",
}


@dataclass(frozen=True, slots=True)
class DailyLimits:
    """The limits in force; None means no limit."""

    max_loss: Decimal | None = None
    max_orders: int | None = None
    max_order_value: Decimal | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.max_loss, self.max_orders, self.max_order_value))

    def of(self, kind: LimitKind) -> Decimal | None:
        value = {
            LimitKind.LOSS: self.max_loss,
            LimitKind.ORDERS: self.max_orders,
            LimitKind.ORDER_VALUE: self.max_order_value,
        }[kind]
        return None if value is None else Decimal(value)

    def with_value(self, kind: LimitKind, value: Decimal | None) -> DailyLimits:
        match kind:
            case LimitKind.LOSS:
                return DailyLimits(value, self.max_orders, self.max_order_value)
            case LimitKind.ORDERS:
                count = None if value is None else int(value)
                return DailyLimits(self.max_loss, count, self.max_order_value)
            case LimitKind.ORDER_VALUE:
                return DailyLimits(self.max_loss, self.max_orders, value)


@dataclass(frozen=True, slots=True)
class Usage:
    """The day so far: P&L (realised + unrealised; negative is a loss) and orders placed."""

    pnl: Decimal
    orders: int


@dataclass(frozen=True, slots=True)
class Breach:
    """A limit hit: `actual` is the loss, the order count (with the new order's, when it would
    go past) or the order's value; `limit` the limit it is measured against."""

    kind: LimitKind
    limit: Decimal
    actual: Decimal
    adding: int = 0  # orders the refused ticket would have added (the count limit)

    @property
    def over(self) -> Decimal:
        return self.actual - self.limit

    def sentence(self) -> str:
        """What was hit and by how much, in one sentence (without what follows from it)."""
        match self.kind:
            case LimitKind.LOSS:
                by = f"by {rupees(self.over)}" if self.over > 0 else "exactly"
                return (
                    f"today's loss of {rupees(self.actual)} has reached the daily max loss of "
                    f"{rupees(self.limit)} ({by})"
                )
            case LimitKind.ORDERS if self.adding:
                already = int(self.actual) - self.adding
                return (
                    f"this order goes out as {self.adding} orders and {already} were placed "
                    f"today: {int(self.actual)} would be {int(self.over)} above the daily max "
                    f"of {int(self.limit)} orders"
                )
            case LimitKind.ORDERS:
                return (
                    f"{int(self.actual)} orders were placed today, the daily max is "
                    f"{int(self.limit)}"
                )
            case LimitKind.ORDER_VALUE:
                return (
                    f"this order is worth {rupees(self.actual)}, {rupees(self.over)} above the "
                    f"max value of one order, {rupees(self.limit)}"
                )

    def refusal(self) -> UserError:
        """The typed refusal of one entry that halts nothing (its value, or its slices past
        the count): the day's limits halt instead (`bot.orders.guard.Halt.refusal`)."""
        text = self.sentence()
        return UserError(f"limit_{self.kind.value}", f"Refused: {text}. Nothing was sent.")


def check_day(limits: DailyLimits, usage: Usage, waived: Iterable[LimitKind] = ()) -> Breach | None:
    """The day's limit hit, if any (the loss first: it is the one that costs money)."""
    skip = set(waived)
    if limits.max_loss is not None and LimitKind.LOSS not in skip and -usage.pnl >= limits.max_loss:
        return Breach(LimitKind.LOSS, limits.max_loss, -usage.pnl)
    if (
        limits.max_orders is not None
        and LimitKind.ORDERS not in skip
        and usage.orders >= limits.max_orders
    ):
        return Breach(LimitKind.ORDERS, Decimal(limits.max_orders), Decimal(usage.orders))
    return None


def check_entry(
    limits: DailyLimits,
    usage: Usage,
    *,
    value: Decimal,
    orders: int,
    waived: Iterable[LimitKind] = (),
) -> Breach | None:
    """Whether a new entry of `value` rupees, sent as `orders` broker orders (its slices), may
    go: None, or the limit it hits. A day's limit already hit comes first (it halts)."""
    waived = tuple(waived)
    day = check_day(limits, usage, waived)
    if day is not None:
        return day
    if (
        limits.max_orders is not None
        and LimitKind.ORDERS not in waived
        and usage.orders + orders > limits.max_orders
    ):
        total = Decimal(usage.orders + orders)
        return Breach(LimitKind.ORDERS, Decimal(limits.max_orders), total, adding=orders)
    if limits.max_order_value is not None and value > limits.max_order_value:
        return Breach(LimitKind.ORDER_VALUE, limits.max_order_value, value)
    return None


def orders_today(book: Sequence[Order]) -> int:
    """The orders that count against the daily maximum: every order in today's book but the
    rejected ones (they never reached the market)."""
    return sum(1 for o in book if o.status is not OrderStatus.REJECTED)


def closable(
    side: Side,
    key: str,
    product: Product,
    positions: Sequence[Position],
    book: Sequence[Order],
    holdings: Sequence[Holding] = (),
) -> int:
    """How many units an order of `side` could close on `key`/`product` now: the opposite
    open position (for a CNC SELL, or the holdings when larger), less the units open orders
    on the same side are already working to close."""
    net = sum(p.quantity for p in positions if p.key == key and p.product is product)
    held = net if side is Side.SELL else -net
    if side is Side.SELL and product is Product.CNC:
        held = max([held, *(h.quantity for h in holdings if h.key == key)])
    working = sum(
        o.quantity - o.filled_quantity
        for o in book
        if o.key == key and o.product is product and o.side is side and not o.status.is_final
    )
    return max(0, held - working)


def parse_limit_change(args: Sequence[str]) -> tuple[LimitKind, Decimal | None]:
    """`loss 5000`, `orders 20`, `value ₹1,00,000`, `loss off` (or 0): the limit and its new
    value (None: no limit)."""
    if len(args) != 2:
        raise UserError("bad_limit", "Name one limit and its new value.", usage=LIMITS_USAGE)
    try:
        kind = LimitKind(args[0].lower())
    except ValueError:
        raise UserError(
            "bad_limit",
            f"{args[0]!r} is not a limit; use loss, orders or value.",
            usage=LIMITS_USAGE,
        ) from None
    text = args[1].strip().lower().removeprefix("₹").replace(",", "").replace("_", "")
    if text == "off":
        return kind, None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    whole = kind is LimitKind.ORDERS
    if not value.is_finite() or value < 0 or (whole and value != value.to_integral_value()):
        noun = "a whole number of orders" if whole else "an amount in rupees"
        raise UserError(
            "bad_limit",
            f"{args[1]!r} is not {noun}; give 0 or off for no limit.",
            usage=LIMITS_USAGE,
        )
    return kind, (None if value == 0 else value)
