"""Normalized models every broker adapter returns and accepts.

Prices are `Decimal` (rupees) end to end: float arithmetic on prices produces off-tick limits
that exchanges reject. Quantities are always units, never lots; adapters convert if their wire
wants lots.
Wire names (jData, trnsTp, symboltoken...) never appear here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Any, NamedTuple


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    """What the user may ask for. MARKET and SL_M never reach a broker: the order policy turns
    them into LIMIT and SL (SEBI retail-algo rules, in force 2026-04-01)."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SL = "SL"
    SL_M = "SL-M"


class Product(StrEnum):
    CNC = "CNC"
    MIS = "MIS"
    NRML = "NRML"


class Validity(StrEnum):
    DAY = "DAY"
    IOC = "IOC"


class InstrumentKind(StrEnum):
    EQUITY = "EQ"
    FUTURE = "FUT"
    CALL = "CE"
    PUT = "PE"
    INDEX = "INDEX"

    @property
    def is_option(self) -> bool:
        return self in (InstrumentKind.CALL, InstrumentKind.PUT)

    @property
    def is_derivative(self) -> bool:
        return self in (InstrumentKind.FUTURE, InstrumentKind.CALL, InstrumentKind.PUT)


class OrderStatus(StrEnum):
    """Normalized order state. `is_final` states never change again."""

    PENDING = "PENDING"  # accepted by the broker, not yet open at the exchange
    OPEN = "OPEN"
    TRIGGER_PENDING = "TRIGGER_PENDING"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    COMPLETE = "COMPLETE"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in (OrderStatus.COMPLETE, OrderStatus.REJECTED, OrderStatus.CANCELLED)


class _InstrumentFields(NamedTuple):
    exchange: str
    name: str
    kind: InstrumentKind
    tick_size: Decimal
    lot_size: int
    freeze_qty: int | None
    expiry: date | None
    strike: Decimal | None
    underlying: str | None
    broker_ref: str
    # `EXCHANGE:SYMBOL`, made once: every index is keyed by it, and one string shared by the
    # instrument and the dicts is 10 MB less on a 150k-row master than one string per access.
    # The symbol is read from it (`Instrument.symbol`) rather than kept too: another 10 MB.
    key: str


class Instrument(_InstrumentFields):
    """One tradable (or quote-only, for indices) contract.

    `symbol` is OpenAlgo style without the exchange (`SBIN`, `NIFTY30DEC2524000CE`); `key` adds it.
    `broker_ref` is the adapter's own opaque handle (a token, a trading symbol): the core passes it
    back untouched and never interprets it.

    A named tuple rather than a dataclass because masters make 150,000 of them at start-up: a
    tuple is made in C from its fields (`make_instruments`, a fifth of the time a frozen
    dataclass's slots take to fill, bench/startup.py), and its fields are read in C. Immutable,
    compared and hashed field by field, like the frozen dataclass it replaced. Eleven fields:
    the symbol is the key's tail, so a 150k-row master keeps one string per instrument for
    both, and each instrument fits pymalloc's 128-byte class (the bot's memory target).
    """

    __slots__ = ()

    @property
    def symbol(self) -> str:
        return self.key[len(self.exchange) + 1 :]

    def __new__(
        cls,
        exchange: str,
        symbol: str,
        name: str,
        kind: InstrumentKind,
        tick_size: Decimal,
        lot_size: int = 1,
        freeze_qty: int | None = None,
        expiry: date | None = None,
        strike: Decimal | None = None,
        underlying: str | None = None,
        broker_ref: str = "",
    ) -> Instrument:
        fields = (exchange, name, kind, tick_size, lot_size, freeze_qty, expiry, strike)
        return _new(cls, (*fields, underlying, broker_ref, f"{exchange}:{symbol}"))

    def _replace(self, /, **changes: Any) -> Instrument:
        """A copy with `changes` (the symbol among them), its key made again: the tuple's own
        `_replace` knows no symbol and would keep the old key."""
        if "key" in changes:
            raise TypeError("an instrument's key follows its exchange and symbol")
        values = self._asdict() | {"symbol": self.symbol} | changes
        del values["key"]
        return Instrument(**values)


_new = tuple.__new__

# Every field of an `Instrument` in field order, `key` (`exchange:symbol`) last: exchange, name,
# kind, tick_size, lot_size, freeze_qty, expiry, strike, underlying, broker_ref, key.
InstrumentFields = tuple[
    str, str, InstrumentKind, Decimal, int, int | None, date | None, Decimal | None,
    str | None, str, str,
]  # fmt: skip

# `Instrument(...)` from all its fields at once, made in C with no Python call: a parse that
# makes 150,000 of them a row at a time calls this, and has the key at hand for its own index.
make_instrument: Callable[[InstrumentFields], Instrument] = partial(_new, Instrument)


def make_instruments(columns: Iterable[Iterable[Any]]) -> list[Instrument]:
    """Instruments from one column per field, in field order, `key` last: made in C, with no
    Python call per row (a restart loads 150,000 from the compact copy, bench/startup.py)."""
    return list(map(make_instrument, zip(*columns, strict=True)))


@dataclass(frozen=True, slots=True)
class Quote:
    """A snapshot of one instrument's market. `ltp` is None when the contract has not traded
    (common for far option strikes); a zero LTP from a broker is normalized to None."""

    key: str
    ltp: Decimal | None
    at: datetime | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    close: Decimal | None = None
    volume: int | None = None
    upper_circuit: Decimal | None = None
    lower_circuit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A fully decided order: the policy has already made it legal. `tag` is ours, unique per
    order, and is how an unknown outcome is reconciled against the broker's order book."""

    instrument: Instrument
    side: Side
    quantity: int
    order_type: OrderType
    price: Decimal
    product: Product
    tag: str
    trigger_price: Decimal | None = None
    validity: Validity = Validity.DAY
    # An after-market order: placed while the segment is closed, held by the broker and sent to
    # the exchange at the next session (Kotak `am`, mStock `variety`). Only the user's choice
    # on the card sets it.
    amo: bool = False


@dataclass(frozen=True, slots=True)
class AmoWindow:
    """When a broker takes after-market orders for a segment (IST): from `opens`, after the
    session, to `closes`, before the next one, and all day on a day the segment is shut."""

    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class ModifyRequest:
    """New values for an open order; the adapter sends the whole order as the broker needs it."""

    order_id: str
    instrument: Instrument
    side: Side
    quantity: int
    order_type: OrderType
    price: Decimal
    product: Product
    trigger_price: Decimal | None = None
    validity: Validity = Validity.DAY
    # An after-market order: its modify repeats the flag (Kotak `am`, mStock's AMO variety). The
    # core knows it from the order's own place, so it holds across a restart of the adapter.
    amo: bool = False


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    key: str
    side: Side
    quantity: int
    order_type: OrderType
    product: Product
    status: OrderStatus
    price: Decimal = Decimal(0)
    trigger_price: Decimal | None = None
    filled_quantity: int = 0
    average_price: Decimal | None = None
    tag: str = ""
    message: str = ""  # the broker's or exchange's reason, verbatim (rejections)
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Trade:
    trade_id: str
    order_id: str
    key: str
    side: Side
    quantity: int
    price: Decimal
    product: Product
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Position:
    key: str
    product: Product
    quantity: int  # net units, negative when short
    average_price: Decimal
    ltp: Decimal | None = None
    realized_pnl: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Holding:
    key: str
    quantity: int
    average_price: Decimal
    ltp: Decimal | None = None

    @property
    def pnl(self) -> Decimal | None:
        if self.ltp is None:
            return None
        return (self.ltp - self.average_price) * self.quantity


@dataclass(frozen=True, slots=True)
class Funds:
    available: Decimal
    used_margin: Decimal
    total: Decimal
    extra: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MarginCheck:
    """The broker's pre-trade answer for one order: the margin it needs, what the account has,
    and whether the broker's risk system would let it through (`ok`)."""

    required: Decimal
    available: Decimal
    ok: bool


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a login produced, without the secrets: who, and when."""

    account: str
    created_at: datetime
    expires_at: datetime | None = None
