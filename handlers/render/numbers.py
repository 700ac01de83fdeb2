"""How every number the bot shows is written: amounts, prices, P&L, changes and ages.

One module so that a price reads the same on a card, a quote, the order book and a position:
- amounts (funds, P&L, values) are rupees with Indian digit grouping, `₹9,91,826.00`, and a
  minus before the sign, `-₹1,234.50`; P&L always carries its sign, `+₹250.00`;
- prices are plain numbers (so they can be typed back after `@`), with as many decimals as the
  tick has and never fewer than two: `812.35` on a 0.05 tick, `83.2525` on a currency's 0.0025.
  A price shown without its instrument gets the currency tick for CDS/BCD keys and two decimals
  otherwise, an average price too (`812.3333` → `812.33`, as brokers show it).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from bot.accounts import IST
from bot.amounts import NONE, indian_grouping, rupees

__all__ = [
    "CURRENCY_TICK",
    "age",
    "change",
    "clock_time",
    "indian_grouping",
    "key_tick",
    "price",
    "rupees",
    "signed_rupees",
]

CURRENCY_TICK = Decimal("0.0025")
CURRENCY_EXCHANGES = ("CDS", "BCD")
PAISA = Decimal("0.01")
_MIN_PLACES = 2
_MAX_PLACES = 4


def signed_rupees(value: Decimal | None) -> str:
    """P&L: `+₹250.00`, `-₹1,234.50`, `₹0.00`."""
    if value is None:
        return NONE
    text = rupees(value)
    return "+" + text if value.quantize(Decimal("0.01")) > 0 else text


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def key_tick(key: str) -> Decimal:
    """The tick to show a price of `key` with when its instrument is not at hand: a currency's
    for CDS/BCD, else a paisa (every other segment's tick is a whole number of paise)."""
    return CURRENCY_TICK if key.partition(":")[0] in CURRENCY_EXCHANGES else PAISA


def price(value: Decimal | None, tick: Decimal | None = None) -> str:
    """A price with its tick's decimals (at least two): `812.35`, `83.2525`, `26012.65`."""
    if value is None:
        return NONE
    if tick is not None and tick > 0:
        places = max(_MIN_PLACES, _places(tick))
    else:
        places = min(max(_MIN_PLACES, _places(value)), _MAX_PLACES)
    return f"{value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN):f}"


def change(ltp: Decimal, close: Decimal, tick: Decimal | None = None) -> str:
    """The move from the previous close: `+12.30, +1.5 %` (no percentage from a zero close)."""
    diff = ltp - close
    sign = "+" if diff > 0 else ("-" if diff < 0 else "")
    text = sign + price(abs(diff), tick)
    if close > 0:
        percent = (diff / close * 100).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
        text += f", {'+' if percent > 0 else ''}{percent:f} %"
    return text


def clock_time(at: datetime) -> str:
    """`14:32:05 IST`."""
    return f"{at.astimezone(IST):%H:%M:%S} IST"


def age(at: datetime, now: datetime) -> str:
    """How long ago `at` was: `3 s ago`, `4 min ago`, `2 h 5 min ago` (`just now` if ahead)."""
    seconds = int((now - at).total_seconds())
    if seconds < 0:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    return f"{minutes // 60} h {minutes % 60} min ago"
