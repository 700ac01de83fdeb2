"""Margin rules of the paper account: flat percentages, not SPAN.

Enough to make "insufficient funds" happen for the same kinds of orders a real broker would refuse:
delivery buys pay in full, intraday equity needs 20 %, futures 15 % of notional, option buyers the
premium, option writers 15 % of the underlying's value. Only the part of an order that opens or adds
to a position needs margin; an exit needs none.
"""

from __future__ import annotations

from decimal import Decimal

from brokers.models import Instrument, InstrumentKind, Product, Side

MIS_EQUITY_RATE = Decimal("0.20")
FUTURES_RATE = Decimal("0.15")
OPTION_WRITER_RATE = Decimal("0.15")


def order_margin(
    instrument: Instrument,
    side: Side,
    quantity: int,
    price: Decimal,
    product: Product,
    position: int,
    spot: Decimal,
) -> Decimal:
    """Margin to block for a working order at its limit `price`, given the current net `position`
    in the same product. A CNC buy blocks its full value; a CNC sell is covered by holdings."""
    if product is Product.CNC:
        return price * quantity if side is Side.BUY else Decimal(0)
    signed = quantity if side is Side.BUY else -quantity
    same_direction = position == 0 or (position > 0) == (signed > 0)
    opening = quantity if same_direction else max(quantity - abs(position), 0)
    return exposure_margin(instrument, short=signed < 0, quantity=opening, price=price, spot=spot)


def exposure_margin(
    instrument: Instrument, *, short: bool, quantity: int, price: Decimal, spot: Decimal
) -> Decimal:
    """Margin for `quantity` units held long or short at `price` (MIS or NRML)."""
    if instrument.kind.is_option:
        return OPTION_WRITER_RATE * spot * quantity if short else price * quantity
    rate = FUTURES_RATE if instrument.kind is InstrumentKind.FUTURE else MIS_EQUITY_RATE
    return rate * price * quantity
