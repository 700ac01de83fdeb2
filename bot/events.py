"""Typed events the core pushes to users, and their one rendering.

Each event is its own model (not a dict with a 'type' key), so a new kind of notification is a
new class plus one `render` branch, and tests can assert on events rather than on text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.notify import esc


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


@dataclass(frozen=True, slots=True)
class Notice:
    """A free-form notice to one chat (session and IP problems, start-up)."""

    chat_id: int
    text: str


Event = (
    OrderFilled
    | OrderPartiallyFilled
    | OrderRejected
    | OrderCancelled
    | OrderFound
    | OrderNotPlaced
    | Notice
)


def render(event: Event) -> str:
    """HTML for Telegram; every dynamic value escaped."""
    match event:
        case Notice():
            return esc(event.text)
        case OrderNotPlaced():
            return (
                f"⚠️ <b>Not placed</b>: {esc(event.side)} {event.quantity} {esc(event.key)}. The "
                f"broker never answered and the order (tag {esc(event.tag)}) is not in its order "
                "book, so nothing was placed. Send it again if you still want it."
            )
    what = f"{esc(event.side)} {event.quantity} {esc(event.key)} (order {esc(event.order_id)})"
    match event:
        case OrderFilled():
            at = f" at {event.average_price}" if event.average_price is not None else ""
            return f"✅ <b>Filled</b>: {what}{at}."
        case OrderPartiallyFilled():
            at = f" at {event.average_price}" if event.average_price is not None else ""
            return (
                f"◐ <b>Partly filled</b>: {event.filled_quantity} of {what}{at}; the rest is "
                "still open."
            )
        case OrderRejected():
            return f"❌ <b>Rejected</b>: {what}. Reason: {esc(event.reason or 'not given')}."
        case OrderCancelled():
            return f"🚫 <b>Cancelled</b>: {what}."
        case OrderFound():
            return (
                f"ℹ️ <b>Placed after all</b>: {what}. The broker was slow to answer but the "
                "order is in its book; I am following it."
            )
    raise TypeError(f"unknown event {event!r}")
