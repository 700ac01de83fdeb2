"""The exchange's limit price protection (LPP) for equity derivatives: the range around a
reference price outside which NSE rejects a limit order, and an SL order once it triggers
(rules.md §2.2–2.3). The bot refuses such a price before the card, naming the range, so the
exchange never has to.

Options: premium up to ₹50 → ±₹20, above → ±40 % (reported by brokers; [3P]). Futures are
UNCONFIRMED (±3 % per Zerodha; index ≤ 10,000 → ₹200 else 2 %, stock ≤ 50 → ₹1.5 else 3 % per
another broker), so every family is a setting, in the same `upper:value` shape as the market
protection grid. Unlike that grid, an LPP edge belongs to the band below it: the sources say
"≤ ₹50", so a premium of exactly 50 gets ±₹20.

The reference is the LTP in the quote, as given: the exchange's reference is the last trade even
when that trade is old (a quiet strike), so the quote's age is not a reason to skip the check. An
SL order's limit is checked around its trigger instead, because the exchange checks it when the
order triggers, and the LTP is then at the trigger.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.errors import UserError
from bot.orders.protection import (
    Band,
    ceil_to_tick,
    check_bands,
    floor_to_tick,
    format_price,
    parse_bands,
)
from brokers.models import Instrument, InstrumentKind

# NSE and BSE equity derivatives. Currency (CDS/BCD) and MCX have ranges of their own, unknown
# here, so nothing is refused there.
LPP_EXCHANGES = frozenset({"NFO", "BFO"})


@dataclass(frozen=True, slots=True)
class LppBands:
    """One band table per family, each sorted by `upper` with the last open. A future is an
    index future when its underlying is in `index_underlyings`: the instrument model does not
    carry the master's FUTIDX/FUTSTK, and every exchange-listed index future is on one of a
    handful of indices (rules.md §3.4), so a short list is exact where a symbol guess is not."""

    options: tuple[Band, ...]
    index_futures: tuple[Band, ...]
    stock_futures: tuple[Band, ...]
    index_underlyings: frozenset[str]

    def __post_init__(self) -> None:
        check_bands("LPP_OPTIONS", self.options)
        check_bands("LPP_INDEX_FUTURES", self.index_futures)
        check_bands("LPP_STOCK_FUTURES", self.stock_futures)

    def family(self, instrument: Instrument) -> tuple[str, tuple[Band, ...]] | None:
        """The family's name (as the refusal says it) and its bands; None where no LPP applies."""
        if instrument.exchange not in LPP_EXCHANGES:
            return None
        if instrument.kind.is_option:
            return "options", self.options
        if instrument.kind is not InstrumentKind.FUTURE:
            return None
        if (instrument.underlying or "").upper() in self.index_underlyings:
            return "index futures", self.index_futures
        return "stock futures", self.stock_futures


INDEX_UNDERLYINGS = frozenset(
    {"NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "NIFTYNXT50", "SENSEX", "BANKEX", "SENSEX50"}
)


def parse_lpp(setting: str, text: str) -> tuple[Band, ...]:
    """Parse one family's table, e.g. `50:20,*:40%` (rupees, or a percent with `%`; `*` is the
    open last edge). Raises `ValueError` naming `setting`."""
    bands = parse_bands(setting, text)
    check_bands(setting, bands)
    return bands


DEFAULT_LPP = LppBands(
    options=parse_lpp("LPP_OPTIONS", "50:20,*:40%"),
    index_futures=parse_lpp("LPP_INDEX_FUTURES", "10000:200,*:2%"),
    stock_futures=parse_lpp("LPP_STOCK_FUTURES", "50:1.5,*:3%"),
    index_underlyings=INDEX_UNDERLYINGS,
)
"""rules.md §2.2: options ≤ 50 → ±₹20, else ±40 %; index futures ≤ 10,000 → ±₹200, else ±2 %;
stock futures ≤ 50 → ±₹1.5, else ±3 %."""


@dataclass(frozen=True, slots=True)
class PriceRange:
    """The prices the exchange accepts, both limits included, on the tick: `lower` is rounded
    up and `upper` down, so each is itself a valid price inside the range."""

    lower: Decimal
    upper: Decimal
    reference: Decimal
    rule: str  # "options above 50.00: ±40%"

    def __contains__(self, price: object) -> bool:
        return isinstance(price, Decimal) and self.lower <= price <= self.upper

    def describe(self) -> str:
        return f"{format_price(self.lower)} to {format_price(self.upper)}"


def lpp_range(
    instrument: Instrument, reference: Decimal, bands: LppBands = DEFAULT_LPP
) -> PriceRange | None:
    """The LPP range around `reference` (> 0), or None where no LPP applies. The lower limit is
    at least one tick: a price must be above 0 anyway."""
    found = bands.family(instrument)
    if found is None:
        return None
    name, table = found
    index = next(i for i, b in enumerate(table) if b.upper is None or reference <= b.upper)
    band = table[index]
    amount = band.amount(reference)
    tick = instrument.tick_size
    lower = max(ceil_to_tick(reference - amount, tick), tick)
    upper = floor_to_tick(reference + amount, tick)
    rule = f"{name}{_where(table, index)}: ±{band.describe()}"
    return PriceRange(lower, upper, reference, rule)


def _where(table: tuple[Band, ...], index: int) -> str:
    """Which prices a band covers, in words: " up to 50.00", " above 50.00", or "" for one band."""
    upper = table[index].upper
    below = table[index - 1].upper if index > 0 else None
    if upper is None:
        return "" if below is None else f" above {format_price(below)}"
    if below is None:
        return f" up to {format_price(upper)}"
    return f" above {format_price(below)} up to {format_price(upper)}"


def unchecked(
    instrument: Instrument, trigger: Decimal | None, ltp: Decimal | None, bands: LppBands
) -> bool:
    """Whether LPP applies but no reference is known (a limit on a contract with no LTP): the
    price goes out unchecked, as the exchange may take it, and the card says so. A market order
    there is refused anyway (the policy's no-LTP rule)."""
    return bands.family(instrument) is not None and trigger is None and ltp is None


def check_lpp(
    instrument: Instrument,
    price: Decimal,
    trigger: Decimal | None,
    ltp: Decimal | None,
    bands: LppBands = DEFAULT_LPP,
) -> None:
    """Refuse a limit outside the LPP range: around the trigger for an SL order, else around the
    LTP. Without a reference nothing is refused (see `unchecked`)."""
    reference = trigger if trigger is not None else ltp
    if reference is None or reference <= 0:
        return
    allowed = lpp_range(instrument, reference, bands)
    if allowed is None or price in allowed:
        return
    around, when = (
        (f"the trigger {format_price(reference)}", " once the stop-loss triggers")
        if trigger is not None
        else (f"the last price {format_price(reference)}", "")
    )
    raise UserError(
        "outside_lpp",
        f"The limit {format_price(price)} is outside the exchange's price protection range for "
        f"{instrument.key}{when}: {allowed.describe()} around {around} ({allowed.rule}); the "
        "exchange would reject it.",
    )
