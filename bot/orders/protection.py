"""Market-order protection: how a MARKET or SL-M request becomes a price an algo may send.

From 2026-04-01 retail-algo orders may not be market orders (SEBI circular 2025/0000013; Kotak's
notice "Static IP Whitelisting for Retail Algo Trading"), and SL-M from an API session is
rejected with "Market order with Algo Id not allowed" (OpenAlgo, seen live at Kotak on 2026-07-28).
We therefore compute the limit ourselves and send a plain LIMIT or SL, so the broker's own
(undocumented) rounding never matters and the confirmation card shows exactly what will be sent.

The grid is data, not code: brokers and exchanges revise it, so a setting can replace it
(`parse_grid`). Every price here is a `Decimal` and every rounding is an integral number of ticks.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from bot.errors import UserError
from brokers.models import Side

if TYPE_CHECKING:  # lpp builds on this module's bands
    from bot.orders.lpp import PriceRange

_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Band:
    """One row of the grid: applies to a reference price in [previous band's `upper`, `upper`).

    The lower edge is inclusive (an LTP of exactly 100 takes the 100–500 row): Kotak does not say
    which row an edge belongs to (rules.md §2.1, UNCONFIRMED), so we pick one and state it.
    `upper=None` means no upper bound. Exactly one of `percent` / `absolute` (rupees) is set.
    """

    upper: Decimal | None
    percent: Decimal | None = None
    absolute: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.absolute is None):
            raise ValueError("a band needs exactly one of a percent or an absolute amount")
        if self.upper is not None and self.upper <= 0:
            raise ValueError(f"band edge {self.upper} must be positive")
        if self.percent is not None and not 0 < self.percent < _HUNDRED:
            raise ValueError(f"percent {self.percent}% must be above 0 and below 100")
        if self.absolute is not None and self.absolute <= 0:
            raise ValueError(f"absolute amount {self.absolute} must be positive")

    def amount(self, reference: Decimal) -> Decimal:
        """The protection in rupees for this reference price."""
        if self.percent is not None:
            return reference * self.percent / _HUNDRED
        assert self.absolute is not None  # __post_init__ guarantees one of the two
        return self.absolute

    def describe(self) -> str:
        """`0.5%` or `0.10` (rupees), as the confirmation card shows it."""
        if self.percent is not None:
            return f"{format(self.percent.normalize(), 'f')}%"
        assert self.absolute is not None
        return format_price(self.absolute)


@dataclass(frozen=True, slots=True)
class ProtectionGrid:
    """Bands for equity and futures, and for options, each sorted by `upper`, the last one open.

    Futures use the equity rows, as in Kotak's table. Validation here makes a gap or an overlap
    impossible: edges strictly increase and only the last row is open-ended.
    """

    equity: tuple[Band, ...]
    options: tuple[Band, ...]

    def __post_init__(self) -> None:
        for name, bands in (("equity", self.equity), ("options", self.options)):
            check_bands(name, bands)

    def band_for(self, ltp: Decimal, is_option: bool) -> Band:
        bands = self.options if is_option else self.equity
        # The last band is open-ended (checked in __post_init__), so this always finds one.
        return next(b for b in bands if b.upper is None or ltp < b.upper)


def check_bands(name: str, bands: tuple[Band, ...]) -> None:
    """Refuse a table with a gap or an overlap: edges strictly increase, only the last is open.
    Shared with the exchange's LPP tables (`bot.orders.lpp`), which have the same shape."""
    if not bands:
        raise ValueError(f"{name}: at least one band is needed")
    edges = [band.upper for band in bands]
    if edges[-1] is not None:
        raise ValueError(
            f"{name}: the last band must be open-ended ('*:...') so no LTP is left out"
        )
    previous: Decimal | None = None
    for upper in edges[:-1]:
        if upper is None:
            raise ValueError(f"{name}: only the last band may be open-ended ('*')")
        if previous is not None and upper <= previous:
            raise ValueError(
                f"{name}: band edges must increase strictly ({upper} after {previous})"
            )
        previous = upper


def _pct(upper: str | None, percent: str) -> Band:
    return Band(None if upper is None else Decimal(upper), percent=Decimal(percent))


DEFAULT_GRID = ProtectionGrid(
    equity=(_pct("100", "2"), _pct("500", "1"), _pct(None, "0.5")),
    options=(
        Band(Decimal(1), absolute=Decimal("0.10")),
        _pct("5", "10"),
        _pct("10", "5"),
        _pct("100", "3"),
        _pct("500", "2"),
        _pct(None, "1"),
    ),
)
"""Kotak Neo's published grid (its static-IP / retail-algo notice, in force 2026-04-01; values as
copied in kotak-neo.md §11): equity and futures < 100 → 2 %, 100–500 → 1 %, > 500 → 0.5 %;
options < 1 → ₹0.10, 1–5 → 10 %, 5–10 → 5 %, 10–100 → 3 %, 100–500 → 2 %, > 500 → 1 %."""


def parse_grid(text: str) -> ProtectionGrid:
    """Parse a `PROTECTION_GRID` override, e.g.
    `equity=100:2%,500:1%,*:0.5%;options=1:0.10,5:10%,10:5%,100:3%,500:2%,*:1%`.

    Each entry is `upper edge:value`; `%` marks a percent, a bare number is rupees, `*` is the
    open upper edge. Both sections are required. Raises `ValueError` with a readable reason.
    """
    sections: dict[str, tuple[Band, ...]] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, body = part.partition("=")
        name = name.strip().lower()
        if not sep:
            raise ValueError(f"expected 'equity=...;options=...', got {part.strip()!r}")
        if name not in ("equity", "options"):
            raise ValueError(f"unknown section {name!r}; expected equity and options")
        if name in sections:
            raise ValueError(f"section {name!r} is given twice")
        sections[name] = parse_bands(name, body)
    missing = [name for name in ("equity", "options") if name not in sections]
    if missing:
        raise ValueError(f"missing section {missing[0]!r}; expected equity=...;options=...")
    return ProtectionGrid(equity=sections["equity"], options=sections["options"])


def parse_bands(section: str, body: str) -> tuple[Band, ...]:
    """`100:2%,500:1%,*:0.5%` → bands, unchecked (the table holding them checks the edges);
    `section` names the setting in an error. Shared with the LPP settings (`bot.orders.lpp`)."""
    return tuple(_parse_band(section, entry) for entry in body.split(","))


def _parse_band(section: str, entry: str) -> Band:
    upper_text, sep, value_text = entry.strip().partition(":")
    upper_text, value_text = upper_text.strip(), value_text.strip()
    if not sep or not upper_text or not value_text:
        raise ValueError(f"{section}: entry {entry.strip()!r} must look like 'upper:value'")
    try:
        upper = None if upper_text == "*" else _number(upper_text)
        if value_text.endswith("%"):
            return Band(upper, percent=_number(value_text[:-1].strip()))
        return Band(upper, absolute=_number(value_text))
    except ValueError as exc:
        raise ValueError(f"{section}: {exc}") from None


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a number")
    return value


@dataclass(frozen=True, slots=True)
class ProtectedPrice:
    """A computed limit and how it was reached. `reference` is the LTP (or bid/ask, or trigger)
    it came from; `explanation` is the line the confirmation card shows."""

    price: Decimal
    reference: Decimal
    band: Band
    explanation: str


def format_price(value: Decimal) -> str:
    """Rupees with at least two decimals (`808.3` → `808.30`), more only when the value has
    them (a broker's `812.3500` → `812.35`; a currency tick's `83.2525` stays)."""
    value = value.normalize()
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(_CENT)
    return format(value, "f")


def _one_band_beyond(
    side: Side, reference: Decimal, band: Band, tick: Decimal, ref: str
) -> tuple[Decimal, str]:
    """One band beyond `reference` (BUY above, SELL below), rounded away from it onto the tick,
    with the words the card shows for it."""
    amount = band.amount(reference)
    if side is Side.BUY:
        price = ceil_to_tick(reference + amount, tick)
        return price, f"{ref} + {band.describe()}, rounded up to tick {format_price(tick)}"
    price = floor_to_tick(reference - amount, tick)
    return price, f"{ref} − {band.describe()}, rounded down to tick {format_price(tick)}"


def floor_to_tick(value: Decimal, tick: Decimal) -> Decimal:
    """The nearest tick at or below `value`: a whole number of ticks, so the result carries the
    tick's decimals (810 → 810.00)."""
    return int((value / tick).to_integral_value(rounding=ROUND_FLOOR)) * tick


def ceil_to_tick(value: Decimal, tick: Decimal) -> Decimal:
    """The nearest tick at or above `value`."""
    return int((value / tick).to_integral_value(rounding=ROUND_CEILING)) * tick


def _require_positive(reference: Decimal, tick: Decimal) -> None:
    """Callers check these first (the policy refuses an unknown tick or a missing LTP with a
    UserError); reaching here with them is a programming error."""
    if tick <= 0:
        raise ValueError(f"tick must be positive, got {tick}")
    if reference <= 0:
        raise ValueError(f"reference price must be positive, got {reference}")


def protect(
    side: Side,
    ltp: Decimal,
    tick: Decimal,
    *,
    is_option: bool,
    grid: ProtectionGrid = DEFAULT_GRID,
    lower_circuit: Decimal | None = None,
    upper_circuit: Decimal | None = None,
    lpp: PriceRange | None = None,
    reference_name: str = "LTP",
) -> ProtectedPrice:
    """MARKET → LIMIT: BUY at ltp + band rounded up to the tick, SELL at ltp − band rounded down.

    How Kotak rounds is unpublished (rules.md §2.1, UNCONFIRMED; its sketch floors a BUY). We
    round away from the LTP so the full published band is always kept; as the band is positive,
    the price always lands on a tick strictly beyond the LTP, so "at least one tick" follows.
    A SELL that would be ≤ 0 uses one tick instead, and is refused when even that is not below
    the LTP. Last, the price is clamped inside the day's circuit (rules.md §3.3), rounding the
    circuit inward in case it is off the tick, and inside the exchange's F&O limit price
    protection range `lpp` (rules.md §2.2; already on the tick). `reference_name` says what
    `ltp` is on the card: "LTP", or "ask"/"bid" when a quote had no LTP.
    """
    _require_positive(ltp, tick)
    band = grid.band_for(ltp, is_option=is_option)
    ref = f"{reference_name} {format_price(ltp)}"
    price, how = _one_band_beyond(side, ltp, band, tick, ref)
    if side is Side.SELL and price <= 0:
        if tick >= ltp:
            raise UserError(
                "no_valid_price",
                f"A market sell at {ref} cannot be protected: the lowest valid price, one "
                f"tick ({format_price(tick)}), is not below it; send a limit order instead.",
            )
        price = tick
        how = f"one tick, because {ref} − {band.describe()} would be 0 or less"
    if side is Side.BUY and upper_circuit is not None and price > upper_circuit:
        price = floor_to_tick(upper_circuit, tick)
        how += f", capped at upper circuit {format_price(upper_circuit)}"
    if side is Side.SELL and lower_circuit is not None and price < lower_circuit:
        price = ceil_to_tick(lower_circuit, tick)
        how += f", raised to lower circuit {format_price(lower_circuit)}"
    if lpp is not None and side is Side.BUY and price > lpp.upper:
        price = lpp.upper
        how += f", capped at the exchange's price protection limit {format_price(lpp.upper)}"
    if lpp is not None and side is Side.SELL and price < lpp.lower:
        price = lpp.lower
        how += f", raised to the exchange's price protection limit {format_price(lpp.lower)}"
    return ProtectedPrice(price, ltp, band, f"market → limit {format_price(price)} = {how}")


def protect_stop(
    side: Side,
    trigger: Decimal,
    tick: Decimal,
    *,
    is_option: bool,
    grid: ProtectionGrid = DEFAULT_GRID,
) -> ProtectedPrice:
    """SL-M → SL: limit = trigger ± one band computed on the trigger (BUY above, SELL below),
    rounded away from the trigger, as OpenAlgo does for Kotak since SL-M was rejected live
    (kotak-neo.md §11). Refused when a SELL's limit would be 0 or less."""
    _require_positive(trigger, tick)
    band = grid.band_for(trigger, is_option=is_option)
    ref = f"trigger {format_price(trigger)}"
    price, how = _one_band_beyond(side, trigger, band, tick, ref)
    if price <= 0:
        raise UserError(
            "no_valid_price",
            f"A stop-loss market sell at {ref} cannot be protected: {ref} − "
            f"{band.describe()} is 0 or less; send an SL order with your own limit instead.",
        )
    return ProtectedPrice(
        price, trigger, band, f"stop-loss market → SL limit {format_price(price)} = {how}"
    )


def check_tick(price: Decimal, tick: Decimal) -> None:
    """Refuse a price off the tick grid, naming the nearest valid ones. A user's price is never
    rounded silently (rules.md §3.2, §6.6): they may have meant the other neighbour."""
    if price % tick == 0:
        return
    below = floor_to_tick(price, tick)
    above = below + tick
    options = (
        f"{format_price(below)} or {format_price(above)}" if below > 0 else format_price(above)
    )
    raise UserError(
        "off_tick",
        f"{format_price(price)} is not a multiple of the tick {format_price(tick)}; use {options}.",
    )
