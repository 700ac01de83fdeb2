"""Quantities the exchange will accept: whole lots, and no order above the freeze quantity.

Lot sizes and freeze quantities change (NIFTY's lot went 75 → 65 after the 30 Dec 2025 expiry;
BANKNIFTY's freeze was 900 in Sep–Nov 2025 and 600 after), so both come from the instrument master,
never from constants here (rules.md §3.4). Quantities are always units, as Kotak's `qt` expects for
NSE F&O; its error 1009 "please provide valid lotwise quantity" is what we pre-empt.
"""

from __future__ import annotations

from bot.errors import UserError
from brokers.models import Instrument


def _lots(n: int) -> str:
    return f"{n} lot" if n == 1 else f"{n} lots"


def check_lots(quantity: int, instrument: Instrument) -> int:
    """Return the number of lots in `quantity` (units), or refuse it with the nearest valid
    quantities so the user can retype without doing the arithmetic."""
    if quantity <= 0:
        raise UserError(
            "bad_quantity", f"Quantity must be a positive number of units; got {quantity}."
        )
    lot = instrument.lot_size
    lots, rest = divmod(quantity, lot)
    if rest == 0:
        return lots
    above = f"{(lots + 1) * lot} ({_lots(lots + 1)})"
    nearest = f"{lots * lot} ({_lots(lots)}) or {above}" if lots else above
    raise UserError(
        "not_lot_multiple",
        f"{instrument.key} trades in lots of {lot}; {quantity} is not a whole number of lots. "
        f"Use {nearest}.",
    )


def slice_quantity(quantity: int, lot_size: int, freeze_qty: int | None) -> list[int]:
    """Split `quantity` (a whole number of lots) into orders the exchange accepts.

    An order *above* the freeze quantity is rejected, one equal to it is not: the published
    "max per order" equals the freeze for BANKNIFTY (600 = 20 × 30) and is 1,755 = 27 × 65 for
    NIFTY's 1,800 (rules.md §3.4). So each slice is at most floor(freeze / lot) lots: full slices
    first, then the remainder. Each slice is its own order and its own rate-limit token.
    """
    if quantity <= 0 or lot_size <= 0 or quantity % lot_size:
        raise ValueError(f"quantity {quantity} is not a positive multiple of the lot {lot_size}")
    if freeze_qty is None:
        return [quantity]
    largest = freeze_qty // lot_size * lot_size
    if largest == 0:
        raise ValueError(f"freeze quantity {freeze_qty} is below one lot of {lot_size}")
    full, rest = divmod(quantity, largest)
    return [largest] * full + ([rest] if rest else [])
