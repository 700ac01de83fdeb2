"""Typed events the core pushes to people: data only, no words and no markup.

Each event is its own model (not a dict with a 'type' key), so a new kind of notification is a new
class plus one rendering branch in `handlers/render/events.py`, and tests assert on events rather
than on text. `UserEvent`s go to the chat that placed the order; `AdminEvent`s (session, IP and
order-gate changes) go to every admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "AdminEvent",
    "EgressIPChanged",
    "Event",
    "LoginFailing",
    "NoWhitelist",
    "OrderCancelled",
    "OrderEvent",
    "OrderFilled",
    "OrderFound",
    "OrderNotPlaced",
    "OrderPartiallyFilled",
    "OrderRejected",
    "OrdersBlocked",
    "OrdersOpen",
    "SessionCreated",
    "SessionLapsed",
    "StaticIPsChanged",
    "UserEvent",
]


# -- about one order, to the chat that placed it ----------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderEvent:
    chat_id: int
    order_id: str
    key: str
    side: str
    quantity: int


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
    """An order whose place timed out turned up in the order book by its tag."""


@dataclass(frozen=True, slots=True)
class OrderNotPlaced:
    """An order whose place timed out never appeared in the order book."""

    chat_id: int
    key: str
    side: str
    quantity: int
    tag: str


UserEvent = (
    OrderFilled
    | OrderPartiallyFilled
    | OrderRejected
    | OrderCancelled
    | OrderFound
    | OrderNotPlaced
)


# -- about an account's session and IP, to the admins -----------------------------------------


@dataclass(frozen=True, slots=True)
class SessionCreated:
    """A login succeeded; `recovered` after a streak of failed logins."""

    broker: str
    ip: str | None
    reason: str
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class SessionLapsed:
    """The broker said the session expired; a new login follows."""

    broker: str


@dataclass(frozen=True, slots=True)
class LoginFailing:
    """The first failure of a streak of logins (later ones back off silently)."""

    broker: str
    error: str


@dataclass(frozen=True, slots=True)
class OrdersBlocked:
    """The order gate closed; `problem` is the plain reason (also the user's refusal)."""

    broker: str
    problem: str


@dataclass(frozen=True, slots=True)
class OrdersOpen:
    """The order gate opened again after a block."""

    broker: str


@dataclass(frozen=True, slots=True)
class EgressIPChanged:
    previous: str
    current: str


@dataclass(frozen=True, slots=True)
class StaticIPsChanged:
    """STATIC_IP_* differ from the last start: brokers allow one change every 7 days."""

    previous: tuple[str | None, ...]
    current: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class NoWhitelist:
    """A real broker is configured without STATIC_IP_PRIMARY: the broker decides."""

    broker: str


AdminEvent = (
    SessionCreated
    | SessionLapsed
    | LoginFailing
    | OrdersBlocked
    | OrdersOpen
    | EgressIPChanged
    | StaticIPsChanged
    | NoWhitelist
)

Event = UserEvent | AdminEvent
