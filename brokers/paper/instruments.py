"""The paper broker's built-in instrument master: a dozen NSE stocks, NIFTY and BANKNIFTY, and their
futures and options.

Expiries are generated from `today`, so the list is always live; strikes come from fixed reference
prices, so the same keys exist on every start of the same day and a restarted book still points at
them. Lots, freeze quantities and ticks follow the NSE figures in force for 2026 contracts
(rules.md §3.2 and §3.4).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfo

from brokers.models import Instrument, InstrumentKind

IST = ZoneInfo("Asia/Kolkata")

# Symbol, company name, reference price (on its tick).
_EQUITIES = (
    ("SBIN", "State Bank of India", "812.35"),
    ("RELIANCE", "Reliance Industries", "1402.60"),
    ("INFY", "Infosys", "1498.30"),
    ("TCS", "Tata Consultancy Services", "3105.40"),
    ("HDFCBANK", "HDFC Bank", "991.25"),
    ("ICICIBANK", "ICICI Bank", "1352.80"),
    ("ITC", "ITC", "409.55"),
    ("TATASTEEL", "Tata Steel", "161.42"),
    ("IDEA", "Vodafone Idea", "9.12"),
    ("YESBANK", "Yes Bank", "20.37"),
    ("M&M", "Mahindra & Mahindra", "3298.70"),
    ("BAJAJ-AUTO", "Bajaj Auto", "8812.50"),
)
_INDICES = (
    ("NIFTY", "Nifty 50", "26012.65"),
    ("BANKNIFTY", "Nifty Bank", "59034.20"),
)
INDEX_EXCHANGE = "NSE_INDEX"
INDEX_TICK = Decimal("0.01")
OPTION_TICK = Decimal("0.05")

# Underlying key → the reference price the market starts from and reverts towards.
REFERENCE_PRICES: Mapping[str, Decimal] = MappingProxyType(
    {f"NSE:{symbol}": Decimal(price) for symbol, _, price in _EQUITIES}
    | {f"{INDEX_EXCHANGE}:{root}": Decimal(price) for root, _, price in _INDICES}
)

STRIKE_BAND = Decimal("0.10")  # listed strikes every step within ±10 % of the reference spot
FAR_STRIKES = (Decimal("0.16"), Decimal("0.20"))  # plus a few deep ones on each side
UNTRADED_BEYOND = Decimal("0.12")  # strikes farther than this never trade (ltp stays None)

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_TUESDAY = 1


@dataclass(frozen=True, slots=True)
class DerivativeSpec:
    """One index's F&O contract terms."""

    root: str
    lot: int
    freeze: int
    future_tick: Decimal
    strike_step: int
    weekly: bool


DERIVATIVES = (
    DerivativeSpec(
        "NIFTY", lot=65, freeze=1800, future_tick=Decimal("0.10"), strike_step=50, weekly=True
    ),
    DerivativeSpec(
        "BANKNIFTY", lot=30, freeze=600, future_tick=Decimal("0.20"), strike_step=100, weekly=False
    ),
)


def ist_date(at: datetime) -> date:
    """The trading date in India at `at`, whatever the host's time zone: 20:00 UTC is already
    the next day's 01:30 in Mumbai."""
    return at.astimezone(IST).date()


def equity_tick(price: Decimal) -> Decimal:
    """NSE cash tick by price (regime since 2025-04-15, rules.md §3.2)."""
    for bound, tick in (
        (250, "0.01"),
        (1000, "0.05"),
        (5000, "0.10"),
        (10000, "0.50"),
        (20000, "1.00"),
    ):
        if price < bound:
            return Decimal(tick)
    return Decimal("5.00")


def underlying_key(instrument: Instrument) -> str | None:
    """The key of the index a derivative is priced from (all built-in F&O is on indices)."""
    if instrument.underlying is None:
        return None
    return f"{INDEX_EXCHANGE}:{instrument.underlying}"


def has_traded(instrument: Instrument) -> bool:
    """False for the far option strikes: they exist but have never traded, so they never get an
    LTP. They are how the bot's "option with no LTP" refusal is exercised."""
    if not instrument.kind.is_option:
        return True
    key = underlying_key(instrument)
    assert key is not None and instrument.strike is not None
    spot = REFERENCE_PRICES[key]
    return abs(instrument.strike - spot) <= spot * UNTRADED_BEYOND


def last_tuesday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - _TUESDAY) % 7)


def monthly_expiries(today: date, count: int) -> list[date]:
    """The next `count` last-Tuesday expiries on or after `today` (an expiry day still trades).
    Holiday shifts are ignored: the paper market has no holidays."""
    expiries: list[date] = []
    year, month = today.year, today.month
    while len(expiries) < count:
        expiry = last_tuesday(year, month)
        if expiry >= today:
            expiries.append(expiry)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return expiries


def weekly_expiries(today: date, count: int) -> list[date]:
    first = today + timedelta(days=(_TUESDAY - today.weekday()) % 7)
    return [first + timedelta(weeks=n) for n in range(count)]


def build_instruments(today: date) -> list[Instrument]:
    """Every built-in instrument, `broker_ref` set to the key (paper has no other handle)."""
    instruments = [
        _make("NSE", symbol, name, InstrumentKind.EQUITY, equity_tick(Decimal(price)))
        for symbol, name, price in _EQUITIES
    ]
    instruments += [
        _make(INDEX_EXCHANGE, root, name, InstrumentKind.INDEX, INDEX_TICK)
        for root, name, _ in _INDICES
    ]
    for spec in DERIVATIVES:
        instruments += _futures(spec, today)
        instruments += _options(spec, today)
    return instruments


def _futures(spec: DerivativeSpec, today: date) -> list[Instrument]:
    return [
        _make(
            "NFO",
            f"{spec.root}{_code(expiry)}FUT",
            f"{spec.root} {_code(expiry)} FUT",
            InstrumentKind.FUTURE,
            spec.future_tick,
            spec=spec,
            expiry=expiry,
        )
        for expiry in monthly_expiries(today, 2)
    ]


def _options(spec: DerivativeSpec, today: date) -> list[Instrument]:
    expiries = set(monthly_expiries(today, 1))
    if spec.weekly:
        expiries.update(weekly_expiries(today, 2))
    spot = REFERENCE_PRICES[f"{INDEX_EXCHANGE}:{spec.root}"]
    options = []
    for expiry in sorted(expiries):
        for strike in _strikes(spot, spec.strike_step):
            for kind in (InstrumentKind.CALL, InstrumentKind.PUT):
                symbol = f"{spec.root}{_code(expiry)}{strike}{kind.value}"
                name = f"{spec.root} {_code(expiry)} {strike} {kind.value}"
                options.append(
                    _make(
                        "NFO",
                        symbol,
                        name,
                        kind,
                        OPTION_TICK,
                        spec=spec,
                        expiry=expiry,
                        strike=Decimal(strike),
                    )
                )
    return options


def _strikes(spot: Decimal, step: int) -> list[int]:
    atm = _round_to(spot, step)
    reach = int(spot * STRIKE_BAND / step) + 1
    candidates = (atm + n * step for n in range(-reach, reach + 1))
    near = {strike for strike in candidates if abs(strike - spot) <= spot * STRIKE_BAND}
    far = {_round_to(spot * (1 + sign * gap), step) for gap in FAR_STRIKES for sign in (-1, 1)}
    return sorted(near | far)


def _round_to(value: Decimal, step: int) -> int:
    return int((value / step).to_integral_value()) * step


def _code(expiry: date) -> str:
    """`DDMONYY`, e.g. 29DEC26: the date part of OpenAlgo F&O symbols (rules.md §3.6)."""
    return f"{expiry.day:02d}{_MONTHS[expiry.month - 1]}{expiry.year % 100:02d}"


def _make(
    exchange: str,
    symbol: str,
    name: str,
    kind: InstrumentKind,
    tick: Decimal,
    *,
    spec: DerivativeSpec | None = None,
    expiry: date | None = None,
    strike: Decimal | None = None,
) -> Instrument:
    return Instrument(
        exchange=exchange,
        symbol=symbol,
        name=name,
        kind=kind,
        tick_size=tick,
        lot_size=spec.lot if spec else 1,
        freeze_qty=spec.freeze if spec else None,
        expiry=expiry,
        strike=strike,
        underlying=spec.root if spec else None,
        broker_ref=f"{exchange}:{symbol}",
    )
