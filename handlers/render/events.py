"""Core events → Telegram HTML: the words for every push (fills, rejections, session, IP).

A push about an order names its order number and ends with a line for its account and whether
it is paper or real money (`📝 paper` / `💰 live`), so a trader with several accounts, or a
paper account beside a live one, never mistakes one for the other, even in a coalesced list."""

from __future__ import annotations

from decimal import Decimal

from bot.accounts import NO_WHITELIST_WARNING
from bot.notify.events import (
    ABOUT_AN_ACCOUNT,
    AlertTriggered,
    BotStarted,
    BotStopping,
    CardUpdate,
    ChangeSettled,
    DailySummary,
    EgressIPChanged,
    Event,
    LapsedOrder,
    LimitHalted,
    LimitUnfilled,
    LoginFailing,
    NoWhitelist,
    OrderCancelled,
    OrderEvent,
    OrderFilled,
    OrderFound,
    OrderNotFound,
    OrderPartiallyFilled,
    OrderRejected,
    OrdersBlocked,
    OrdersLapsed,
    OrdersOpen,
    SessionCreated,
    SessionLapsed,
    StaticIPsChanged,
)
from bot.orders import Outcome
from bot.orders.limits import Breach, LimitKind
from handlers.render.alerts import rule
from handlers.render.cards import outcome, sentence
from handlers.render.markup import esc
from handlers.render.numbers import clock_time, key_tick, price
from handlers.render.summary import summary_text

__all__ = ["render_event"]


def render_event(event: Event) -> str:
    """HTML for Telegram; every dynamic value escaped."""
    text = _words(event)
    if isinstance(event, OrderEvent | OrderNotFound | ChangeSettled | OrdersLapsed | CardUpdate):
        return text + account_line(event.account, event.paper)
    if isinstance(event, ABOUT_AN_ACCOUNT):
        return text + account_line(event.account, None)
    return text


def account_line(account: str, paper: bool | None) -> str:
    """The account marker line under a push or a card; empty for an event no account stamped."""
    if not account:
        return ""
    money = "" if paper is None else (" · 📝 paper" if paper else " · 💰 live")
    return f"\nAccount {esc(account)}{money}"


def _words(event: Event) -> str:
    match event:
        case CardUpdate(content=Outcome() as result):
            return outcome(result)
        case CardUpdate():
            raise TypeError(f"no card rendering for {type(event.content).__name__}")
        case OrderNotFound():
            return (
                f"❓ <b>Not found in the order book yet</b>: {esc(event.side)} {event.quantity} "
                f"{esc(event.key)} (tag {esc(event.tag)}). The broker gave no usable answer and "
                "the order has not appeared in its book over several looks. Check /orders "
                "before sending it again; I keep watching for it today."
            )
        case OrderFilled() | OrderPartiallyFilled() | OrderRejected() | OrderCancelled():
            return _order_change(event)
        case OrderFound():
            return (
                f"ℹ️ <b>Placed after all</b>: {_what(event)}. The broker gave no usable answer "
                "at first, but the order is in its book; I am following it."
            )
        case ChangeSettled():
            return _change_settled(event)
        case OrdersLapsed():
            return _lapsed(event)
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
        case AlertTriggered():
            return _alert(event)
        case LimitUnfilled():
            return _unfilled(event)
        case BotStarted():
            return _started(event)
        case BotStopping():
            return (
                f"🔴 <b>Bot stopping</b>: {esc(event.account)} on {esc(event.broker)}, a clean "
                "stop. Orders already with the broker stay there; I follow them again when I "
                "start."
            )
        case DailySummary():
            return summary_text(event)
        case LimitHalted():
            return _halted(event)


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
            at = _at(event.key, event.average_price)
            return f"✅ <b>Filled</b>: {what}{at}."
        case OrderPartiallyFilled():
            at = _at(event.key, event.average_price)
            return (
                f"◐ <b>Partly filled</b>: {event.filled_quantity} of {what}{at}; the rest is "
                "still open."
            )
        case OrderRejected():
            return (
                f"❌ <b>Rejected</b>: {what}. Reason: {esc(sentence(event.reason or 'not given'))}"
            )
        case OrderCancelled():
            return f"🚫 <b>Cancelled</b>: {what}."


def _change_settled(event: ChangeSettled) -> str:
    what = f"{esc(event.side)} {esc(event.key)} (order {esc(event.order_id)})"
    if event.action == "cancel":
        if event.applied:
            return f"🚫 <b>Cancel confirmed</b>: {what} is cancelled."
        where = f"is {esc(event.status)}" if event.status else "is not in the order book"
        return f"⚠️ <b>Not cancelled</b>: {what} {where}. Check /orders."
    if event.applied:
        return f"✅ <b>Modify confirmed</b>: the order book shows the change to {what}."
    where = f"shows it {esc(event.status)}" if event.status else "does not list it"
    return (
        f"⚠️ <b>Not modified</b>: the order book {where} without the change to {what}. "
        "Check /orders."
    )


def _lapsed(event: OrdersLapsed) -> str:
    lines = [
        "📅 <b>Closed out from an earlier trading day</b>: day orders end with their day, so "
        "I stopped following these:"
    ]
    lines += [f"• {_lapsed_line(o)}" for o in event.orders]
    lines.append("Check /orders and the broker's order history if you need their final state.")
    return "\n".join(lines)


def _lapsed_line(order: LapsedOrder) -> str:
    what = f"{esc(order.side)} {order.quantity} {esc(order.key)}"
    if order.found and order.order_id:
        return f"{what} (order {esc(order.order_id)})"
    return f"{what}: never found in the order book"


def _at(key: str, average: Decimal | None) -> str:
    return f" at {price(average, key_tick(key))}" if average is not None else ""


def _alert(event: AlertTriggered) -> str:
    """A fired price alert: the price, the rule and the way it went; the note on its own line."""
    tick = key_tick(event.key)
    what = esc(rule(event.key, event.kind, event.level, event.reference))
    note = f"\n{esc(event.note)}" if event.note else ""
    return (
        f"🔔 <b>Alert {event.alert_id}</b>: {esc(event.key)} at {price(event.price, tick)} "
        f"({what}, {event.direction}).{note}"
    )


def _unfilled(event: LimitUnfilled) -> str:
    """A protected market order still open: why, and what the buttons do."""
    tick = key_tick(event.key)
    filled = f", {event.filled_quantity} filled" if event.filled_quantity else ""
    return (
        f"⏳ <b>Not filled after {event.waited_seconds} s</b>: {esc(event.side)} "
        f"{event.quantity} {esc(event.key)} at limit {price(event.price, tick)} (order "
        f"{esc(event.order_id)}{filled}). It was a market order sent as a protected limit, and "
        "the price has moved past it. Re-price it from the current LTP, or cancel it: each "
        "shows a card to confirm first."
    )


def _halted(event: LimitHalted) -> str:
    """The one push of a halt (issue 15): which account, which limit, by how much, what now."""
    breach = Breach(LimitKind(event.kind), event.limit, event.actual)
    sentence = breach.sentence()
    return (
        f"⛔ <b>Entries halted</b> on {esc(event.account)} at {esc(clock_time(event.halted_at))}: "
        f"{esc(sentence)}. New entries are refused; exits stay allowed. Send /resume to lift "
        "the halt (a confirmation card), or it ends with the trading day."
    )


def _started(event: BotStarted) -> str:
    """The one start-up message (issue 12): where, which mode, and whether orders can go out."""
    mode = "paper trading (no real money)" if event.paper else "<b>live</b> trading"
    orders = (
        "✅ orders open"
        if event.orders_problem is None
        else f"⛔ orders blocked: {esc(event.orders_problem)}"
    )
    lines = [
        f"🟢 <b>Bot started</b>: {esc(event.account)} on {esc(event.broker)}, {mode}.",
        f"{orders}.",
    ]
    lines += [render_event(note) for note in event.notes]
    lines += [f"⚠️ {esc(warning)}" for warning in event.warnings]
    return "\n".join(lines)
