"""Market hours: sessions per segment, the pre-open, the shipped holidays, MCX's US-DST close,
dated changes, AMO windows and the warning for a year the calendar does not cover."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from bot.market.hours import IST, MarketHours, Phase
from bot.market.hours._data import load_years
from brokers.amo import STANDARD
from brokers.models import Instrument, InstrumentKind

SBIN = Instrument("NSE", "SBIN", "SBI", InstrumentKind.EQUITY, Decimal("0.05"))
NIFTY_FUT = Instrument("NFO", "NIFTY29DEC26FUT", "NIFTY", InstrumentKind.FUTURE, Decimal("0.1"))
NIFTY_CE = Instrument("NFO", "NIFTY29DEC2624000CE", "NIFTY", InstrumentKind.CALL, Decimal("0.05"))
USDINR = Instrument("CDS", "USDINR29DEC26FUT", "USDINR", InstrumentKind.FUTURE, Decimal("0.0025"))
GOLD = Instrument("MCX", "GOLD05FEB27FUT", "GOLD", InstrumentKind.FUTURE, Decimal("1"))

HOURS = MarketHours()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST)


@pytest.mark.parametrize(
    ("instrument", "moment", "phase"),
    [
        (SBIN, "2026-12-01 08:59", Phase.CLOSED),
        (SBIN, "2026-12-01 09:00", Phase.PRE_OPEN),
        (SBIN, "2026-12-01 09:08", Phase.CLOSED),  # auction matching and buffer: no orders
        (SBIN, "2026-12-01 09:15", Phase.OPEN),
        (SBIN, "2026-12-01 15:29", Phase.OPEN),
        (SBIN, "2026-12-01 15:30", Phase.CLOSED),
        (NIFTY_FUT, "2026-12-01 09:05", Phase.PRE_OPEN),  # F&O pre-open: futures only
        (NIFTY_CE, "2026-12-01 09:05", Phase.CLOSED),
        (NIFTY_CE, "2026-12-01 15:35", Phase.OPEN),  # F&O to 15:40 from 2026-08-03
        (NIFTY_CE, "2026-07-31 15:35", Phase.CLOSED),  # to 15:30 before
        (USDINR, "2026-12-01 16:59", Phase.OPEN),
        (USDINR, "2026-12-01 17:00", Phase.CLOSED),
        (GOLD, "2026-12-01 23:45", Phase.OPEN),  # US winter time: MCX to 23:55
        (GOLD, "2026-07-01 23:45", Phase.CLOSED),  # US summer time: to 23:30
        (SBIN, "2026-12-05 11:00", Phase.CLOSED),  # a Saturday
        (SBIN, "2026-03-03 11:00", Phase.HOLIDAY),  # Holi
        (GOLD, "2026-03-03 11:00", Phase.CLOSED),  # MCX: morning shut on Holi…
        (GOLD, "2026-03-03 18:00", Phase.OPEN),  # …evening session open
        (GOLD, "2026-12-25 18:00", Phase.HOLIDAY),  # Christmas: shut all day
    ],
)
def test_phase(instrument: Instrument, moment: str, phase: Phase) -> None:
    assert HOURS.state(instrument, at(moment)).phase is phase


def test_the_state_names_the_holiday_and_the_next_trading_day() -> None:
    state = HOURS.state(SBIN, at("2026-12-25 10:00").astimezone(UTC))  # any zone in
    assert (state.reason, state.trading_day, state.is_open) == ("Christmas", False, False)
    assert state.next_open == at("2026-12-28 09:15")
    after_close = HOURS.state(SBIN, at("2026-12-24 16:00"))
    assert after_close.reason == "after the close" and after_close.trading_day
    assert after_close.next_open == at("2026-12-28 09:15")  # over Christmas and a weekend
    morning = HOURS.state(GOLD, at("2026-03-03 10:00"))
    assert morning.next_open == at("2026-03-03 17:00") and "Holi" in morning.reason


def test_the_shipped_2026_file_is_the_exchanges_list_with_its_source() -> None:
    year = load_years()[2026]
    assert len(year.holidays) == 16
    assert all(day.weekday() < 5 for day in year.holidays)  # weekends are never listed
    assert "nseindia.com" in year.source and "exchange_calendars" in year.source
    assert year.holidays[datetime(2026, 11, 10).date()].name == "Diwali Balipratipada"
    assert HOURS.years[0] == 2026


def test_a_year_without_a_file_is_warned_about_and_marks_states_uncovered() -> None:
    assert HOURS.coverage_warning(at("2026-06-15 10:00")) is None
    december = HOURS.coverage_warning(at("2026-12-02 10:00"))
    assert december is not None and "does not cover 2027" in december
    assert "bot/market/hours/holidays/2027.toml" in december
    assert "2027" in (HOURS.coverage_warning(at("2027-03-01 10:00")) or "")
    assert not HOURS.state(SBIN, at("2027-01-26 10:00")).covered  # Republic Day, unknown
    assert HOURS.state(SBIN, at("2027-01-26 10:00")).phase is Phase.OPEN  # taken for a day
    assert not HOURS.state(SBIN, at("2026-12-31 20:00")).covered  # next open is in 2027
    assert HOURS.state(SBIN, at("2026-12-30 20:00")).covered


def test_amo_windows() -> None:
    window = STANDARD["NSE"]  # 15:45 to 08:58
    evening = HOURS.state(SBIN, at("2026-12-01 15:40"))
    assert not HOURS.amo_accepted(evening, window)  # after the close, before the window
    assert HOURS.amo_accepted(HOURS.state(SBIN, at("2026-12-01 15:45")), window)
    assert HOURS.amo_accepted(HOURS.state(SBIN, at("2026-12-01 08:57")), window)
    assert not HOURS.amo_accepted(HOURS.state(SBIN, at("2026-12-01 09:10")), window)
    assert not HOURS.amo_accepted(HOURS.state(SBIN, at("2026-12-01 10:00")), window)  # open
    assert HOURS.amo_accepted(HOURS.state(SBIN, at("2026-12-05 12:00")), window)  # Saturday


def test_an_exchange_without_sessions_is_never_blocked() -> None:
    other = Instrument("XYZ", "A", "A", InstrumentKind.EQUITY, Decimal("0.05"))
    assert HOURS.is_open(other, at("2026-12-05 03:00"))
    assert HOURS.state(SBIN, at("2026-12-01 09:03")).pre_open == (time(9, 0), time(9, 8))
