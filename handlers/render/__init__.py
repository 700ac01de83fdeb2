"""Everything the bot says in Telegram, as HTML: cards, reports, the /session view and the words
of every core event. The core returns data; only this package turns it into text."""

from handlers.render.cards import (
    CONFIRM_PREFIX,
    DECLINE_PREFIX,
    card,
    card_with_expiry,
    confirm_keyboard,
    declined_answer,
    outcome,
    progress,
    send_failed,
)
from handlers.render.events import render_event
from handlers.render.markup import esc, html_to_plain
from handlers.render.reports import funds, holdings, orders, positions, quotes, search, trades
from handlers.render.session import render_status

__all__ = [
    "CONFIRM_PREFIX",
    "DECLINE_PREFIX",
    "card",
    "card_with_expiry",
    "confirm_keyboard",
    "declined_answer",
    "esc",
    "funds",
    "holdings",
    "html_to_plain",
    "orders",
    "outcome",
    "positions",
    "progress",
    "quotes",
    "render_event",
    "render_status",
    "search",
    "send_failed",
    "trades",
]
