"""The exchange's limit price protection range: band edges, tick rounding, families."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.errors import UserError
from bot.orders.lpp import DEFAULT_LPP, LppBands, check_lpp, lpp_range, parse_lpp, unchecked
from bot.orders.protection import parse_grid, protect
from brokers.models import Instrument, InstrumentKind, Side

D = Decimal
CALL = Instrument(
    "NFO", "NIFTY24NOV2628000CE", "NIFTY", InstrumentKind.CALL, D("0.05"), 65, 1800,
    underlying="NIFTY",
)  # fmt: skip
INDEX_FUT = Instrument(
    "NFO", "NIFTY30DEC25FUT", "NIFTY", InstrumentKind.FUTURE, D("0.10"), 65, 1800,
    underlying="NIFTY",
)  # fmt: skip
STOCK_FUT = Instrument(
    "NFO", "IDEA30DEC25FUT", "IDEA", InstrumentKind.FUTURE, D("0.01"), 1000, None,
    underlying="IDEA",
)  # fmt: skip
SBIN = Instrument("NSE", "SBIN", "STATE BANK OF INDIA", InstrumentKind.EQUITY, D("0.05"))
MCX_FUT = Instrument("MCX", "CRUDEOIL19FEB25FUT", "CRUDEOIL", InstrumentKind.FUTURE, D(1))


def bounds(inst: Instrument, reference: str) -> tuple[str, str, str]:
    allowed = lpp_range(inst, D(reference))
    assert allowed is not None
    return str(allowed.lower), str(allowed.upper), allowed.rule


@pytest.mark.parametrize(
    ("inst", "reference", "expected"),
    [
        (CALL, "60", ("36.00", "84.00", "options above 50.00: ±40%")),
        (CALL, "50", ("30.00", "70.00", "options up to 50.00: ±20.00")),  # 50 takes ±₹20
        (CALL, "50.05", ("30.05", "70.05", "options above 50.00: ±40%")),  # 40% = 20.02
        (CALL, "10", ("0.05", "30.00", "options up to 50.00: ±20.00")),  # never 0 or below
        (CALL, "61.30", ("36.80", "85.80", "options above 50.00: ±40%")),  # 36.78 up, 85.82 down
        (INDEX_FUT, "26147.30", ("25624.40", "26670.20", "index futures above 10000.00: ±2%")),
        (INDEX_FUT, "10000", ("9800.00", "10200.00", "index futures up to 10000.00: ±200.00")),
        (STOCK_FUT, "9.12", ("7.62", "10.62", "stock futures up to 50.00: ±1.50")),
        (STOCK_FUT, "50.01", ("48.51", "51.51", "stock futures above 50.00: ±3%")),
    ],
)
def test_range_edges_and_rounding(
    inst: Instrument, reference: str, expected: tuple[str, str, str]
) -> None:
    """The lower limit is rounded up to the tick and the upper down, so both are valid prices
    inside the range; an edge price belongs to the band below it."""
    assert bounds(inst, reference) == expected


def test_no_range_outside_nfo_bfo_derivatives() -> None:
    assert lpp_range(SBIN, D(800)) is None
    assert lpp_range(MCX_FUT, D(6000)) is None


def test_the_range_limits_are_allowed_and_one_tick_beyond_is_not() -> None:
    check_lpp(CALL, D("84.00"), None, D(60))
    check_lpp(CALL, D("36.00"), None, D(60))
    for price in ("84.05", "35.95"):
        with pytest.raises(UserError) as info:
            check_lpp(CALL, D(price), None, D(60))
        assert info.value.reason == "outside_lpp"
        assert "36.00 to 84.00 around the last price 60.00" in info.value.text


def test_a_stop_loss_limit_is_checked_around_its_trigger() -> None:
    """The exchange checks LPP when the SL triggers, when the LTP is at the trigger: a far stop
    is fine though its limit is outside today's range around the LTP."""
    check_lpp(CALL, D(28), D(30), D(60))  # 10.00 to 50.00 around 30
    with pytest.raises(UserError) as info:
        check_lpp(CALL, D(55), D(30), D(60))
    assert info.value.text == (
        "The limit 55.00 is outside the exchange's price protection range for "
        "NFO:NIFTY24NOV2628000CE once the stop-loss triggers: 10.00 to 50.00 around the trigger "
        "30.00 (options up to 50.00: ±20.00); the exchange would reject it."
    )


def test_without_a_reference_nothing_is_refused_and_it_says_so() -> None:
    check_lpp(CALL, D(500), None, None)
    assert unchecked(CALL, None, None, DEFAULT_LPP)
    assert not unchecked(CALL, D(30), None, DEFAULT_LPP)  # an SL has its trigger
    assert not unchecked(SBIN, None, None, DEFAULT_LPP)  # no LPP there


def test_index_futures_are_told_by_their_underlying() -> None:
    only_banknifty = LppBands(
        DEFAULT_LPP.options,
        DEFAULT_LPP.index_futures,
        DEFAULT_LPP.stock_futures,
        frozenset({"BANKNIFTY"}),
    )
    allowed = lpp_range(INDEX_FUT, D(26000), only_banknifty)
    assert allowed is not None and allowed.rule == "stock futures above 50.00: ±3%"


def test_a_protected_market_price_is_clamped_into_the_range() -> None:
    """A wide protection grid cannot carry a market buy past the exchange's range."""
    allowed = lpp_range(CALL, D(60))
    wide = protect(Side.BUY, D(60), D("0.05"), is_option=True, lpp=allowed)
    assert wide.price == D("61.80")  # the default grid: 3%, well inside
    grid = parse_grid("equity=*:1%;options=*:50%")
    buy = protect(Side.BUY, D(60), D("0.05"), is_option=True, grid=grid, lpp=allowed)
    sell = protect(Side.SELL, D(60), D("0.05"), is_option=True, grid=grid, lpp=allowed)
    assert (buy.price, sell.price) == (D("84.00"), D("36.00"))
    assert buy.explanation.endswith("capped at the exchange's price protection limit 84.00")
    assert sell.explanation.endswith("raised to the exchange's price protection limit 36.00")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("50:20", "the last band must be open-ended"),
        ("50:20,40:10%,*:40%", "band edges must increase strictly"),
        ("50:x,*:40%", "'x' is not a number"),
        ("50-20,*:40%", "must look like 'upper:value'"),
    ],
)
def test_a_bad_table_is_refused_naming_the_setting(text: str, words: str) -> None:
    with pytest.raises(ValueError, match="LPP_OPTIONS") as info:
        parse_lpp("LPP_OPTIONS", text)
    assert words in str(info.value)
