"""Typed events the core pushes to people: data only, no words and no markup.

Each event is its own model (not a dict with a 'type' key), so a new kind of notification is a new
class plus one rendering branch in `handlers/render/events.py`, and tests assert on events rather
than on text. `UserEvent`s go to the chat that placed the order; `AdminEvent`s (session, IP and
order-gate changes) go to every admin.

A `CardUpdate` is the one event that edits a message instead of sending one: the confirmation
card it names is rewritten to show `content` (the core's outcome of the card's request, worded
in `handlers/render`). The notifier routes it by its card and revision and never looks inside.

Events about orders carry the `account` they belong to (its label as the bot knows it: the
broker's name today) and `paper` (True for the paper broker, False for real money), stamped by
the notifier's per-account publisher (`Notifier.for_account`), so every push says which account
and whether real money moved. They are keyword-only, default empty: an event not stamped
renders without the marker.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

__all__ = [
    "ABOUT_AN_ACCOUNT",
    "AdminEvent",
    "AlertTriggered",
    "BotStarted",
    "BotStopping",
    "CardRef",
    "CardUpdate",
    "ChangeSettled",
    "DailySummary",
    "EgressIPChanged",
    "Event",
    "Incident",
    "LapsedOrder",
    "LimitHalted",
    "LimitUnfilled",
    "LoginFailing",
    "NoWhitelist",
    "OrderCancelled",
    "OrderEvent",
    "OrderFilled",
    "OrderFound",
    "OrderNotFound",
    "OrderPartiallyFilled",
    "OrderRejected",
    "OrdersBlocked",
    "OrdersLapsed",
    "OrdersOpen",
    "PositionPnL",
    "RejectedOrder",
    "SessionCreated",
    "SessionLapsed",
    "StartupNote",
    "StaticIPsChanged",
    "UserEvent",
    "next_revision",
]

C = TypeVar("C")
_REVISIONS = itertools.count(1)


def next_revision() -> int:
    """A number larger than every one handed out before in this process: take it when a view
    of a card is built, so the notifier can drop a view older than one it already showed."""
    return next(_REVISIONS)


@dataclass(frozen=True, slots=True)
class CardRef:
    """A confirmation card the bot sent, which it edits to show what became of the request."""

    chat_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class CardUpdate(Generic[C]):
    """Rewrite `card` to show `content`; ignored when the card already shows a later revision."""

    card: CardRef
    content: C
    revision: int
    # The account the card is about, stamped like an order event's (`Notifier.for_account`).
    account: str = field(default="", kw_only=True)
    paper: bool | None = field(default=None, kw_only=True)


# -- about one order, to the chat that placed it ----------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderEvent:
    chat_id: int
    order_id: str
    key: str
    side: str
    quantity: int
    account: str = field(default="", kw_only=True)
    paper: bool | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class OrderFilled(OrderEvent):
    average_price: Decimal | None


@dataclass(frozen=True, slots=True)
class OrderPartiallyFilled(OrderEvent):
    filled_quantity: int
    average_price: Decimal | None


@dataclass(frozen=True, slots=True)
class OrderRejected(OrderEvent):
    reason: str


@dataclass(frozen=True, slots=True)
class OrderCancelled(OrderEvent):
    pass


@dataclass(frozen=True, slots=True)
class OrderFound(OrderEvent):
    """An order whose place had no usable answer turned up in the order book by its tag (also
    after it was reported not found: a late appearance)."""


@dataclass(frozen=True, slots=True)
class OrderNotFound:
    """An order whose place had no usable answer is still not in the order book after several
    looks over a few minutes. It is not declared unplaced: it is watched for the rest of the
    trading day, and the user should check the book before sending it again."""

    chat_id: int
    key: str
    side: str
    quantity: int
    tag: str
    account: str = field(default="", kw_only=True)
    paper: bool | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class ChangeSettled:
    """A modify or cancel whose outcome was unknown is now known from the order book:
    `applied` or not; `status` is the order's state there (lower case), None when the order
    is not in the book at all."""

    chat_id: int
    order_id: str
    key: str
    side: str
    action: Literal["modify", "cancel"]
    applied: bool
    status: str | None
    account: str = field(default="", kw_only=True)
    paper: bool | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class LapsedOrder:
    """One order closed out at the start of a new trading day. `found` is False for an order
    whose place had no answer and which never appeared in the order book that day."""

    key: str
    side: str
    quantity: int
    order_id: str | None
    found: bool


@dataclass(frozen=True, slots=True)
class OrdersLapsed:
    """Orders still followed from an earlier trading day, closed out instead of being polled
    for ever (day orders end with their day): one event per chat."""

    chat_id: int
    orders: tuple[LapsedOrder, ...]
    account: str = field(default="", kw_only=True)
    paper: bool | None = field(default=None, kw_only=True)


# -- price alerts (issue 12), to the chat that set the alert ------------------------------------


@dataclass(frozen=True, slots=True)
class AlertTriggered:
    """A price alert fired, once for this crossing. `price` is the fresh LTP the broker dated
    `quoted_at`; `kind` is above, below, crosses or move; `direction` ("up" or "down") is the
    way the price went through `level`. For a move alert `level` is the percentage and
    `reference` the price it was measured from (the LTP when the alert was set)."""

    chat_id: int
    user_id: int
    alert_id: int
    key: str
    kind: str
    level: Decimal
    price: Decimal
    quoted_at: datetime
    direction: Literal["up", "down"]
    note: str = ""
    reference: Decimal | None = None


# -- unfilled protected limits (issue 12), to the chat that placed the order ------------------


@dataclass(frozen=True, slots=True)
class LimitUnfilled:
    """A market request the bot sent as a protected limit at `price` is still not (fully)
    filled `waited_seconds` after it was first seen open: the market moved past the band.
    Pushed once per order; `user_id` is who placed it (the only one who may act on it)."""

    chat_id: int
    user_id: int
    order_id: str
    key: str
    side: str
    quantity: int
    filled_quantity: int
    price: Decimal
    waited_seconds: int


UserEvent = (
    OrderFilled
    | OrderPartiallyFilled
    | OrderRejected
    | OrderCancelled
    | OrderFound
    | OrderNotFound
    | ChangeSettled
    | OrdersLapsed
    | CardUpdate[Any]
    | AlertTriggered
    | LimitUnfilled
)


# -- about an account's session and IP, to the admins -----------------------------------------
# Each carries the `account` it is about (its label), stamped by the wiring when the bot serves
# several accounts, so an admin of two accounts knows which one lost its session.


@dataclass(frozen=True, slots=True)
class SessionCreated:
    """A login succeeded; `recovered` after a streak of failed logins."""

    broker: str
    ip: str | None
    reason: str
    recovered: bool = False
    account: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class SessionLapsed:
    """The broker said the session expired; a new login follows."""

    broker: str
    account: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class LoginFailing:
    """The first failure of a streak of logins (later ones back off silently)."""

    broker: str
    error: str
    account: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class OrdersBlocked:
    """The order gate closed; `problem` is the plain reason (also the user's refusal)."""

    broker: str
    problem: str
    account: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class OrdersOpen:
    """The order gate opened again after a block."""

    broker: str
    account: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class EgressIPChanged:
    previous: str
    current: str
    account: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class StaticIPsChanged:
    """STATIC_IP_* differ from the last start: brokers allow one change every 7 days."""

    previous: tuple[str | None, ...]
    current: tuple[str | None, ...]
    account: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class NoWhitelist:
    """A real broker is configured without STATIC_IP_PRIMARY: the broker decides."""

    broker: str
    account: str = field(default="", kw_only=True)


# -- the bot itself and its day (issue 12) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BotStarted:
    """The bot is ready and polling: the one start-up message to the admins, in place of the
    session and gate transitions of the start itself. `orders_problem` is why orders are
    blocked (None: open); `notes` are the start-up notices that still need a human (a changed
    whitelist, none configured, a failing login), told inside this message; `warnings` are
    plain sentences about the bot's own data (a year the holiday calendar does not cover)."""

    broker: str
    account: str
    paper: bool
    orders_problem: str | None
    notes: tuple[StartupNote, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BotStopping:
    """A clean stop (SIGTERM, Ctrl-C, the stop event): said so that silence means a crash."""

    broker: str
    account: str


# What a start-up notice may still need to say beyond the gate's verdict (a failed login is in it).
StartupNote = StaticIPsChanged | NoWhitelist | EgressIPChanged


@dataclass(frozen=True, slots=True)
class RejectedOrder:
    key: str
    side: str
    quantity: int
    reason: str


@dataclass(frozen=True, slots=True)
class PositionPnL:
    """One position at the end of the day; `unrealised` is None when the broker gave no LTP."""

    key: str
    quantity: int
    realised: Decimal
    unrealised: Decimal | None


@dataclass(frozen=True, slots=True)
class Incident:
    """A session or IP event of the day, as the audit log recorded it (`kind`: the event's
    name, `detail`: its plain words)."""

    at: datetime
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class DailySummary:
    """The trading day of one account, once a day after the close. `orders` counts every
    order in the broker's book today, `filled` the complete ones; `unavailable` says what the
    broker could not tell (its reads failed), so a missing part is never shown as zero."""

    day: date
    broker: str
    account: str
    orders: int
    filled: int
    rejected: tuple[RejectedOrder, ...]
    positions: tuple[PositionPnL, ...]
    incidents: tuple[Incident, ...]
    unavailable: str | None = None


@dataclass(frozen=True, slots=True)
class LimitHalted:
    """A daily limit of `account` was hit and its new entries are halted (issue 15): `kind` is
    loss or orders, `limit` its value, `actual` the day's loss or order count when it was hit.
    Pushed once per halt, to the admins (the only ones who may resume)."""

    account: str
    kind: str
    limit: Decimal
    actual: Decimal
    halted_at: datetime


# The admin notices about one account's session, IP and gate: each names its `account`.
ABOUT_AN_ACCOUNT = (
    SessionCreated,
    SessionLapsed,
    LoginFailing,
    OrdersBlocked,
    OrdersOpen,
    EgressIPChanged,
    StaticIPsChanged,
    NoWhitelist,
)

AdminEvent = (
    SessionCreated
    | SessionLapsed
    | LoginFailing
    | OrdersBlocked
    | OrdersOpen
    | EgressIPChanged
    | StaticIPsChanged
    | NoWhitelist
    | BotStarted
    | BotStopping
    | LimitHalted
)

Event = UserEvent | AdminEvent | DailySummary
