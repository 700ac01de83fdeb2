"""Price arithmetic of the paper market: snapping to the tick, the toy futures and options models,
and circuit limits.

The models only need to look plausible on a Telegram screen (premiums that shrink away from the
money and with time, futures slightly above spot); they are not meant for valuation. Floats are
used inside the models, but every price that leaves this module is a `Decimal` on the tick.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from brokers.models import Instrument, InstrumentKind

CARRY_PER_YEAR = 0.07  # futures premium: roughly the cost of money
TIME_VALUE_AT_THE_MONEY = 0.006  # a one-week at-the-money option is worth ~0.6 % of spot
TIME_VALUE_DECAY = 0.025  # time value falls by e for every 2.5 % of spot away from the money

EQUITY_BAND = Decimal("0.20")
FUTURE_BAND = Decimal("0.10")
OPTION_UPPER_MULTIPLE = 3


def snap(value: Decimal, tick: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """`value` as a whole number of ticks, rounded as asked."""
    return tick * int((value / tick).to_integral_value(rounding))


def to_tick(value: float, tick: Decimal) -> Decimal:
    """A model's float price as the nearest whole number of ticks: counting ticks as an integer
    and multiplying the Decimal tick keeps the result exactly on the tick, whatever the float."""
    return tick * round(value / float(tick))


def future_price(spot: float, days: int, tick: Decimal) -> Decimal:
    return to_tick(spot * (1 + CARRY_PER_YEAR * max(days, 0) / 365), tick)


def option_price(
    kind: InstrumentKind, spot: float, strike: float, days: int, tick: Decimal
) -> Decimal:
    """Intrinsic value plus a time value that decays away from the money and with the square root
    of the days left (the expiry day itself still counts as one), floored at one tick."""
    intrinsic = max(spot - strike, 0.0) if kind is InstrumentKind.CALL else max(strike - spot, 0.0)
    distance = abs(spot - strike) / (spot * TIME_VALUE_DECAY)
    time_value = spot * TIME_VALUE_AT_THE_MONEY * math.exp(-distance) * math.sqrt((days + 1) / 7)
    return max(to_tick(intrinsic + time_value, tick), tick)


def settlement_price(instrument: Instrument, spot: Decimal, last: Decimal | None) -> Decimal:
    """What an expired contract settles at: an option at its intrinsic value from the
    underlying's last price (worthless out of the money), a future at its own last price
    (its underlying's when it never printed one)."""
    if instrument.kind.is_option:
        assert instrument.strike is not None
        if instrument.kind is InstrumentKind.CALL:
            return max(spot - instrument.strike, Decimal(0))
        return max(instrument.strike - spot, Decimal(0))
    return spot if last is None else last


def circuit_limits(
    instrument: Instrument, close: Decimal | None, ltp: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    """(lower, upper) price band, on the tick and inside the band. Equities ±20 % and futures
    ±10 % of the previous close. Options: one tick up to three times the close or the LTP,
    whichever is higher (real option bands widen in steps as premiums jump). Indices and
    untraded options have none."""
    if close is None or instrument.kind is InstrumentKind.INDEX:
        return None, None
    tick = instrument.tick_size
    if instrument.kind.is_option:
        reference = close if ltp is None else max(close, ltp)
        return tick, snap(reference * OPTION_UPPER_MULTIPLE, tick, ROUND_FLOOR)
    band = FUTURE_BAND if instrument.kind is InstrumentKind.FUTURE else EQUITY_BAND
    return snap(close * (1 - band), tick, ROUND_CEILING), snap(
        close * (1 + band), tick, ROUND_FLOOR
    )
