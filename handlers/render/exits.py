"""Position buttons → Telegram: Exit 25 % / 50 % / 100 % and Alert under each open position,
Refresh under the list, and the alert suggestion an Alert tap answers with.

Button data carries a prefix and the position's short reference (`bot.orders.exits.ref`), never
its symbol: an F&O key does not fit in 64 bytes beside the account suffix."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from bot.notify import Button, Keyboard
from bot.orders.exits import EXIT_PERCENTS, alert_levels, open_positions, ref
from brokers.models import Position
from handlers.render.markup import esc
from handlers.render.numbers import price

EXIT_PREFIX = "px:"
POSITION_ALERT_PREFIX = "pa:"
REFRESH_PREFIX = "pr:"

__all__ = [
    "EXIT_PREFIX",
    "POSITION_ALERT_PREFIX",
    "REFRESH_PREFIX",
    "alert_suggestion",
    "positions_keyboard",
]


def positions_keyboard(items: Sequence[Position], *, trader: bool) -> Keyboard:
    """One row per open position (numbered as the list numbers them): its exits for a
    trader, its Alert for everyone; then Refresh. A viewer sees no exit buttons."""
    rows: list[list[Button]] = []
    for number, position in enumerate(open_positions(items), start=1):
        reference = ref(position)
        row = []
        if trader:
            row = [
                Button(f"{number}: Exit {pct}%", f"{EXIT_PREFIX}{reference}:{pct}")
                for pct in EXIT_PERCENTS
            ]
        row.append(Button(f"{number}: 🔔 Alert", POSITION_ALERT_PREFIX + reference))
        rows.append(row)
    rows.append([Button("🔄 Refresh", REFRESH_PREFIX)])
    return rows


def alert_suggestion(position: Position, ltp: Decimal, tick: Decimal) -> str:
    """Two ready /alert lines around the LTP (on the instrument's `tick`), to copy and send:
    the tap itself sets nothing."""
    below, above = alert_levels(ltp, tick)
    key = esc(position.key)
    return (
        f"<b>Alert on {key}</b> (LTP {price(ltp, tick)}): send one of these, or change the price.\n"
        f"<code>/alert {key} below {price(below, tick)}</code>\n"
        f"<code>/alert {key} above {price(above, tick)}</code>"
    )
