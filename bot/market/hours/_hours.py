"""Whether a segment trades at a given moment, and when it opens next.

Pure: the clock is an argument, so tests (and a bot run on a settable clock) ask about any
moment. Times are India's (IST, no daylight saving); the one foreign clock is New York's, whose
daylight saving moves MCX's close (rules.md §3.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.market.hours._data import (
    Holiday,
    Segment,
    Window,
    YearFile,
    load_segments,
    load_years,
)
from brokers.models import AmoWindow, Instrument

IST = ZoneInfo("Asia/Kolkata")
_NEW_YORK = ZoneInfo("America/New_York")
# How far `next_open` looks ahead: longer than any run of holidays and weekends (Diwali).
_LOOK_AHEAD_DAYS = 15


class Phase(StrEnum):
    OPEN = "open"
    PRE_OPEN = "pre-open"  # order entry of the pre-open call auction
    CLOSED = "closed"
    HOLIDAY = "holiday"


@dataclass(frozen=True, slots=True)
class MarketState:
    """What a segment is doing at `at`. `next_open` is when its continuous market next opens
    (None if open now, or not found in the days looked at); `covered` is False when the holiday
    calendar does not cover the day, so a holiday may be taken for a trading day."""

    segment: str  # "NSE/BSE cash"
    phase: Phase
    at: datetime
    reason: str  # "Sunday", "Holi", "after the close"…
    next_open: datetime | None
    trading_day: bool
    covered: bool
    pre_open: tuple[time, time] | None = None  # the auction's order entry, when it applies

    @property
    def is_open(self) -> bool:
        """Whether a regular order goes to the exchange now (continuous market or pre-open)."""
        return self.phase in (Phase.OPEN, Phase.PRE_OPEN)


class MarketHours:
    """The sessions and holidays of every segment, from the shipped data (or given, in tests)."""

    def __init__(
        self,
        segments: tuple[Segment, ...] | None = None,
        years: dict[int, YearFile] | None = None,
    ) -> None:
        self._segments = segments if segments is not None else load_segments()
        self._years = years if years is not None else load_years()
        self._by_exchange = {ex: s for s in self._segments for ex in s.exchanges}

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    def source(self, year: int) -> str | None:
        found = self._years.get(year)
        return found.source if found is not None else None

    def state(self, instrument: Instrument, at: datetime) -> MarketState:
        """The state of `instrument`'s segment at `at` (aware). An exchange with no sessions in
        the data is always open: the hours never block what they do not know."""
        now = at.astimezone(IST)
        segment = self._by_exchange.get(instrument.exchange)
        if segment is None:
            return MarketState(instrument.exchange, Phase.OPEN, now, "", None, True, True)
        day = now.date()
        holiday = self._holiday(segment, day)
        pre_open = self._pre_open(segment, instrument, day)

        def make(phase: Phase, reason: str, trading_day: bool = True) -> MarketState:
            nxt = None if phase in (Phase.OPEN, Phase.PRE_OPEN) else self._next_open(segment, now)
            # A holiday of an uncovered year passes for a trading day: today's, or next open's.
            covered = day.year in self._years and (nxt is None or nxt.year in self._years)
            return MarketState(
                segment.name, phase, now, reason, nxt, trading_day, covered, pre_open
            )

        if holiday is not None and segment.code in holiday.segments:
            return make(Phase.HOLIDAY, holiday.name, trading_day=False)
        if day.weekday() >= 5:
            return make(Phase.CLOSED, f"{now:%A}", trading_day=False)
        opens, closes = self._hours(segment, day, holiday)
        clock = now.time()
        if pre_open is not None and pre_open[0] <= clock < pre_open[1]:
            return make(Phase.PRE_OPEN, "pre-open call auction")
        if opens <= clock < closes:
            return make(Phase.OPEN, "")
        if holiday is not None and clock < opens:
            return make(Phase.CLOSED, f"{holiday.name}; it opens at {opens:%H:%M} today")
        return make(Phase.CLOSED, "before the open" if clock < opens else "after the close")

    def is_open(self, instrument: Instrument, at: datetime) -> bool:
        return self.state(instrument, at).is_open

    def _next_open(self, segment: Segment, after: datetime) -> datetime | None:
        """When the continuous market opens next, strictly after `after`."""
        now = after.astimezone(IST)
        for offset in range(_LOOK_AHEAD_DAYS):
            day = now.date() + timedelta(days=offset)
            holiday = self._holiday(segment, day)
            if day.weekday() >= 5 or (holiday is not None and segment.code in holiday.segments):
                continue
            opens, _ = self._hours(segment, day, holiday)
            at = datetime.combine(day, opens, IST)
            if at > now:
                return at
        return None

    def amo_accepted(self, state: MarketState, window: AmoWindow) -> bool:
        """Whether a broker with AMO `window` takes an AMO now: only while the segment is
        closed, and on a trading day only outside the gap between the window's morning end and
        its evening start (the broker's own cut-offs around the session)."""
        if state.is_open:
            return False
        if not state.trading_day:
            return True
        clock = state.at.time()
        return clock >= window.opens or clock < window.closes

    def coverage_warning(self, at: datetime) -> str | None:
        """One sentence when the holiday calendar does not cover this year, or, in December,
        next year (cards then look into it): holidays of those years pass for trading days."""
        today = at.astimezone(IST).date()
        wanted = [today.year] + ([today.year + 1] if today.month == 12 else [])
        missing = [year for year in wanted if year not in self._years]
        if not missing:
            return None
        years = " and ".join(str(y) for y in missing)
        files = ", ".join(f"bot/market/hours/holidays/{y}.toml" for y in missing)
        return (
            f"The exchange holiday calendar does not cover {years}: every weekday of it is "
            f"taken for a trading day. Add {files} from the exchanges' holiday circulars."
        )

    def _holiday(self, segment: Segment, day: date) -> Holiday | None:
        found = self._years.get(day.year)
        holiday = found.holidays.get(day) if found is not None else None
        if holiday is None or (
            segment.code not in holiday.segments and segment.code not in holiday.late_open
        ):
            return None
        return holiday

    def _pre_open(
        self, segment: Segment, instrument: Instrument, day: date
    ) -> tuple[time, time] | None:
        window = segment.window(day)
        if window.pre_open is None or instrument.kind.value not in segment.pre_open_for:
            return None
        return window.pre_open

    def _hours(self, segment: Segment, day: date, holiday: Holiday | None) -> tuple[time, time]:
        window: Window = segment.window(day)
        closes = window.close
        if window.close_in_us_dst is not None and _us_dst(day):
            closes = window.close_in_us_dst
        opens = window.open
        if holiday is not None and segment.code in holiday.late_open:
            opens = holiday.late_open[segment.code]
        return opens, closes


def _us_dst(day: date) -> bool:
    """Whether New York is on daylight saving time that day (MCX closes 25 minutes earlier)."""
    noon = datetime.combine(day, time(12), _NEW_YORK)
    return bool(noon.dst())
