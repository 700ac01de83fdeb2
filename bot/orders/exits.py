"""Exits from open positions: how much a "25 % / 50 % / 100 %" exit sells (or buys back), and
how a button names a position without carrying its symbol.

The rules, the same for every front end:
- the exit is the opposite side of the position (a long is sold, a short bought back), with the
  position's own product, as a MARKET request: the order policy turns it into a protected
  limit like any other market request;
- the quantity is the percentage of the open quantity rounded *down* to whole lots (a lot is
  one share for equity), never less than one lot while the position holds one, never more than
  the open quantity (100 % is all of it);
- a position of less than one lot (odd units an F&O contract cannot trade) cannot be exited in
  lots here, and is refused in one sentence.

A button carries a short reference of the position (`ref`): a hash of its key, product and
quantity. A tap reads the positions again and matches it, so a position that has changed or
closed since the list was shown is refused rather than exited by the old numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from bot.errors import UserError
from bot.orders.policy import OrderTicket
from brokers.models import Instrument, OrderType, Position, Side

EXIT_PERCENTS = (25, 50, 100)
# An alert suggested around the LTP: this far above and below it.
ALERT_STEP = Decimal("0.01")
_REF_LENGTH = 8
CHANGED = (
    "That position has changed or closed since the list was shown; nothing was prepared. "
    "Send /positions again."
)


def ref(position: Position) -> str:
    """A position's short reference for button data (8 characters of a hash)."""
    text = f"{position.key}|{position.product.value}|{position.quantity}"
    return hashlib.blake2s(text.encode(), digest_size=8).hexdigest()[:_REF_LENGTH]


def open_positions(positions: Sequence[Position]) -> list[Position]:
    """The positions that hold a quantity (a closed one stays in the day's list at 0)."""
    return [p for p in positions if p.quantity != 0]


def find(positions: Sequence[Position], reference: str) -> Position:
    """The open position a button's `reference` names, or a refusal when it has changed."""
    for position in open_positions(positions):
        if ref(position) == reference:
            return position
    raise UserError("position_changed", CHANGED)


def exit_quantity(open_quantity: int, percent: int, lot_size: int) -> int:
    """Units to exit: `percent` of the open units (either sign), down to whole lots, at least
    one lot, at most all whole lots held."""
    if not 0 < percent <= 100:
        raise ValueError(f"an exit is 1 to 100 % of a position, not {percent}")
    lots = abs(open_quantity) // lot_size
    if lots == 0:
        raise UserError(
            "below_lot",
            f"The position is {abs(open_quantity)} units, less than one lot of {lot_size}; it "
            "cannot be exited in lots.",
        )
    return max(1, lots * percent // 100) * lot_size


def exit_ticket(position: Position, instrument: Instrument, percent: int) -> OrderTicket:
    """The exit order for `percent` of `position`: opposite side, the position's product, a
    market request (sent as a protected limit)."""
    side = Side.SELL if position.quantity > 0 else Side.BUY
    quantity = exit_quantity(position.quantity, percent, instrument.lot_size)
    return OrderTicket(side, position.key, quantity, OrderType.MARKET, product=position.product)


def alert_levels(ltp: Decimal, tick: Decimal) -> tuple[Decimal, Decimal]:
    """Prices `ALERT_STEP` below and above `ltp`, on the tick (down and up): an alert the user
    can set in one copy-paste around where the position trades now."""
    below = (ltp * (1 - ALERT_STEP) / tick).to_integral_value(ROUND_FLOOR) * tick
    above = (ltp * (1 + ALERT_STEP) / tick).to_integral_value(ROUND_CEILING) * tick
    return below, above
