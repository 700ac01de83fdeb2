"""/status → Telegram HTML: uptime, the broker's last answer, the order feed, the outbox."""

from __future__ import annotations

from bot.services import Vitals
from handlers.render.markup import esc
from handlers.render.numbers import age, clock_time

__all__ = ["vitals_text"]

_FEED = {
    "none": "none (the broker has no order feed; the order book is polled)",
    "streaming": "streaming",
    "down": "down, restarting (the order book is polled meanwhile)",
}


def _duration(seconds: int) -> str:
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def vitals_text(v: Vitals, *, admin: bool) -> str:
    """Everyone sees whether the bot is alive and the broker answers; admins also see the order
    feed, the outbox backlog and why orders are blocked."""
    uptime = _duration(int((v.now - v.started_at).total_seconds()))
    contact = (
        f"{age(v.last_broker_answer, v.now)} ({clock_time(v.last_broker_answer)})"
        if v.last_broker_answer
        else "not yet"
    )
    lines = [
        "<b>Status</b>",
        f"Up {uptime}, since {clock_time(v.started_at)}",
        f"Broker ({esc(v.broker)}) last answered: {contact}",
    ]
    if admin:
        feed = _FEED[v.feed] if v.feed in _FEED else esc(v.feed)
        lines.append(f"Order feed: {feed}, since {clock_time(v.feed_since)}")
        backlog = "n/a" if v.backlog is None else str(v.backlog)
        lines.append(f"Messages waiting to be sent: {backlog}")
        orders = "open" if v.orders_problem is None else f"blocked: {esc(v.orders_problem)}"
        lines.append(f"Orders: {orders}")
    return "\n".join(lines)
