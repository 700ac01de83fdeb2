"""Core events → Telegram HTML: the words for every push (fills, rejections, session, IP)."""

from __future__ import annotations

from bot.accounts import NO_WHITELIST_WARNING
from bot.notify.events import (
    EgressIPChanged,
    Event,
    LoginFailing,
    NoWhitelist,
    OrderCancelled,
    OrderFilled,
    OrderFound,
    OrderNotPlaced,
    OrderPartiallyFilled,
    OrderRejected,
    OrdersBlocked,
    OrdersOpen,
    SessionCreated,
    SessionLapsed,
    StaticIPsChanged,
)
from handlers.render.markup import esc

__all__ = ["render_event"]


def render_event(event: Event) -> str:
    """HTML for Telegram; every dynamic value escaped."""
    match event:
        case OrderNotPlaced():
            return (
                f"⚠️ <b>Not placed</b>: {esc(event.side)} {event.quantity} {esc(event.key)}. The "
                f"broker never answered and the order (tag {esc(event.tag)}) is not in its order "
                "book, so nothing was placed. Send it again if you still want it."
            )
        case OrderFilled() | OrderPartiallyFilled() | OrderRejected() | OrderCancelled():
            return _order_change(event)
        case OrderFound():
            return (
                f"ℹ️ <b>Placed after all</b>: {_what(event)}. The broker was slow to answer but "
                "the order is in its book; I am following it."
            )
        case SessionCreated():
            where = f" from IP {esc(event.ip)}" if event.ip else ""
            note = " Login works again." if event.recovered else ""
            return f"🔑 {esc(event.broker)} session created{where} ({esc(event.reason)}).{note}"
        case SessionLapsed():
            return "Broker session expired; logging in again."
        case LoginFailing():
            return (
                f"⚠️ Broker login failed: {esc(event.error)}. I will keep retrying, backing off "
                "up to 15 minutes; read-only commands may not work meanwhile."
            )
        case OrdersBlocked():
            return f"⛔ Orders blocked: {esc(event.problem)}."
        case OrdersOpen():
            return "✅ Orders are open again."
        case EgressIPChanged():
            return (
                f"This server's IP address changed from {esc(event.previous)} to "
                f"{esc(event.current)}."
            )
        case StaticIPsChanged():
            return (
                f"STATIC_IP_* changed from {esc(list(event.previous))} to "
                f"{esc(list(event.current))}. Brokers let you change a whitelisted IP only once "
                "every 7 days: make sure the new IP is registered with your broker. A new session "
                "will be created from it."
            )
        case NoWhitelist():
            return f"⚠️ {esc(NO_WHITELIST_WARNING)}"


def _what(
    event: OrderFilled | OrderPartiallyFilled | OrderRejected | OrderCancelled | OrderFound,
) -> str:
    return f"{esc(event.side)} {event.quantity} {esc(event.key)} (order {esc(event.order_id)})"


def _order_change(
    event: OrderFilled | OrderPartiallyFilled | OrderRejected | OrderCancelled,
) -> str:
    what = _what(event)
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
