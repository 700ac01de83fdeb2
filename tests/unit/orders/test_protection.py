"""The protection grid, MARKET → LIMIT and SL-M → SL pricing, and the tick check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserError
from bot.orders.protection import (
    DEFAULT_GRID,
    Band,
    ProtectionGrid,
    check_tick,
    parse_grid,
    protect,
    protect_stop,
)
from brokers.models import Side

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
T05 = D("0.05")

# (ltp, is_option, band shown on the card, BUY price, SELL price) at tick 0.05.
# Every edge of Kotak's grid, exactly on it and one tick either side (lower edge inclusive).
EDGES = [
    ("99.95", False, "2%", "101.95", "97.95"),
    ("100.00", False, "1%", "101.00", "99.00"),
    ("100.05", False, "1%", "101.10", "99.00"),
    ("499.95", False, "1%", "504.95", "494.95"),
    ("500.00", False, "0.5%", "502.50", "497.50"),
    ("500.05", False, "0.5%", "502.60", "497.50"),
    ("0.95", True, "0.10", "1.05", "0.85"),
    ("1.00", True, "10%", "1.10", "0.90"),
    ("1.05", True, "10%", "1.20", "0.90"),
    ("4.95", True, "10%", "5.45", "4.45"),
    ("5.00", True, "5%", "5.25", "4.75"),
    ("5.05", True, "5%", "5.35", "4.75"),
    ("9.95", True, "5%", "10.45", "9.45"),
    ("10.00", True, "3%", "10.30", "9.70"),
    ("10.05", True, "3%", "10.40", "9.70"),
    ("99.95", True, "3%", "102.95", "96.95"),
    ("100.00", True, "2%", "102.00", "98.00"),
    ("100.05", True, "2%", "102.10", "98.00"),
    ("499.95", True, "2%", "509.95", "489.95"),
    ("500.00", True, "1%", "505.00", "495.00"),
    ("500.05", True, "1%", "505.10", "495.00"),
]


@pytest.mark.parametrize(("ltp", "is_option", "band", "buy", "sell"), EDGES)
def test_band_edges(ltp: str, is_option: bool, band: str, buy: str, sell: str) -> None:
    bought = protect(BUY, D(ltp), T05, is_option=is_option)
    sold = protect(SELL, D(ltp), T05, is_option=is_option)
    assert DEFAULT_GRID.band_for(D(ltp), is_option).describe() == band
    assert (bought.price, sold.price) == (D(buy), D(sell))
    assert bought.band == sold.band == DEFAULT_GRID.band_for(D(ltp), is_option)
    assert bought.reference == sold.reference == D(ltp)


def test_futures_use_equity_bands() -> None:
    assert DEFAULT_GRID.band_for(D("99"), is_option=False).percent == D(2)
    assert DEFAULT_GRID.band_for(D("99"), is_option=True).percent == D(3)


# (ltp, tick, BUY, SELL) on the ticks NSE uses: 0.01 / 0.05 / 0.10 / 0.20 / 0.50 / 1 / 5.
TICKS = [
    ("123.45", "0.01", "124.69", "122.21"),
    ("808.30", "0.05", "812.35", "804.25"),
    ("24012.30", "0.10", "24132.40", "23892.20"),
    ("52001.40", "0.20", "52261.60", "51741.20"),
    ("6000.50", "0.50", "6031.00", "5970.00"),
    ("12345", "1", "12407", "12283"),
    ("25005", "5", "25135", "24875"),
]


@pytest.mark.parametrize(("ltp", "tick", "buy", "sell"), TICKS)
def test_ticks(ltp: str, tick: str, buy: str, sell: str) -> None:
    assert protect(BUY, D(ltp), D(tick), is_option=False).price == D(buy)
    assert protect(SELL, D(ltp), D(tick), is_option=False).price == D(sell)


def test_price_carries_the_tick_decimals() -> None:
    assert str(protect(BUY, D("1000"), T05, is_option=False).price) == "1005.00"


def test_explanations() -> None:
    assert (
        protect(BUY, D("808.30"), T05, is_option=False).explanation
        == "market → limit 812.35 = LTP 808.30 + 0.5%, rounded up to tick 0.05"
    )
    assert (
        protect(SELL, D("808.3"), T05, is_option=False).explanation
        == "market → limit 804.25 = LTP 808.30 − 0.5%, rounded down to tick 0.05"
    )
    assert (
        protect(BUY, D("0.55"), T05, is_option=True, reference_name="ask").explanation
        == "market → limit 0.65 = ask 0.55 + 0.10, rounded up to tick 0.05"
    )


def test_off_tick_ltp_still_lands_on_tick_beyond_it() -> None:
    assert protect(BUY, D("808.32"), T05, is_option=False).price == D("812.40")
    assert protect(SELL, D("808.32"), T05, is_option=False).price == D("804.25")


def test_buy_capped_at_upper_circuit() -> None:
    p = protect(BUY, D("808.30"), T05, is_option=False, upper_circuit=D("810.00"))
    assert p.price == D("810.00")
    assert p.explanation == (
        "market → limit 810.00 = LTP 808.30 + 0.5%, rounded up to tick 0.05, "
        "capped at upper circuit 810.00"
    )


def test_sell_raised_to_lower_circuit() -> None:
    p = protect(SELL, D("808.30"), T05, is_option=False, lower_circuit=D("806.00"))
    assert p.price == D("806.00")
    assert p.explanation.endswith(", raised to lower circuit 806.00")


def test_off_tick_circuits_are_rounded_inward() -> None:
    buy = protect(BUY, D("808.30"), T05, is_option=False, upper_circuit=D("810.03"))
    sell = protect(SELL, D("808.30"), T05, is_option=False, lower_circuit=D("805.97"))
    assert (buy.price, sell.price) == (D("810.00"), D("806.00"))


def test_ltp_at_the_circuit_prices_at_the_circuit() -> None:
    buy = protect(BUY, D("850.00"), T05, is_option=False, upper_circuit=D("850.00"))
    sell = protect(SELL, D("765.00"), T05, is_option=False, lower_circuit=D("765.00"))
    assert (buy.price, sell.price) == (D("850.00"), D("765.00"))


def test_circuits_that_do_not_bind_change_nothing() -> None:
    p = protect(
        BUY,
        D("808.30"),
        T05,
        is_option=False,
        lower_circuit=D("700"),
        upper_circuit=D("900"),
    )
    assert p.price == D("812.35")
    assert "circuit" not in p.explanation
    s = protect(SELL, D("808.30"), T05, is_option=False, upper_circuit=D("810"))
    assert s.price == D("804.25")  # a SELL ignores the upper circuit


def test_tiny_option_sell_uses_one_tick() -> None:
    p = protect(SELL, D("0.10"), T05, is_option=True)
    assert p.price == D("0.05")
    assert p.explanation == (
        "market → limit 0.05 = one tick, because LTP 0.10 − 0.10 would be 0 or less"
    )


def test_tiny_option_sell_with_no_tick_below_is_refused() -> None:
    with pytest.raises(UserError) as info:
        protect(SELL, D("0.05"), T05, is_option=True)
    assert info.value.reason == "no_valid_price"
    assert "LTP 0.05" in info.value.text


def test_tiny_option_buy_and_plain_sell() -> None:
    assert protect(BUY, D("0.05"), T05, is_option=True).price == D("0.15")
    assert protect(SELL, D("0.15"), T05, is_option=True).price == D("0.05")


def test_absolute_band_on_a_fine_tick() -> None:
    assert protect(BUY, D("0.57"), D("0.01"), is_option=True).price == D("0.67")
    assert protect(SELL, D("0.57"), D("0.01"), is_option=True).price == D("0.47")


@pytest.mark.parametrize(("ltp", "tick"), [("0", "0.05"), ("-1", "0.05"), ("10", "0")])
def test_protect_rejects_nonsense_inputs(ltp: str, tick: str) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        protect(BUY, D(ltp), D(tick), is_option=False)


def test_custom_grid() -> None:
    grid = parse_grid("equity=*:1%;options=*:0.20")
    assert protect(BUY, D("808.30"), T05, is_option=False, grid=grid).price == D("816.40")
    assert protect(SELL, D("3.00"), T05, is_option=True, grid=grid).price == D("2.80")


# --- SL-M → SL ---------------------------------------------------------------------------------


def test_stop_sell_explanation() -> None:
    p = protect_stop(SELL, D("794.00"), T05, is_option=False)
    assert p.price == D("790.00")  # 794 − 3.97 = 790.03, rounded down
    assert p.reference == D("794.00")
    assert p.explanation == (
        "stop-loss market → SL limit 790.00 = trigger 794.00 − 0.5%, rounded down to tick 0.05"
    )


def test_stop_buy_rounds_up() -> None:
    p = protect_stop(BUY, D("794.00"), T05, is_option=False)
    assert p.price == D("798.00")  # 794 + 3.97 = 797.97, rounded up
    assert p.explanation.startswith("stop-loss market → SL limit 798.00 = trigger 794.00 + 0.5%")


def test_stop_band_exactly_on_tick_is_still_beyond_trigger() -> None:
    assert protect_stop(BUY, D("100"), T05, is_option=False).price == D("101.00")
    assert protect_stop(BUY, D("0.50"), T05, is_option=True).price == D("0.60")


def test_stop_sell_at_or_below_zero_is_refused() -> None:
    with pytest.raises(UserError) as info:
        protect_stop(SELL, D("0.10"), T05, is_option=True)
    assert info.value.reason == "no_valid_price"
    assert "trigger 0.10" in info.value.text


# --- check_tick --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "tick", "text"),
    [
        ("812.53", "0.05", "812.53 is not a multiple of the tick 0.05; use 812.50 or 812.55."),
        (
            "24012.35",
            "0.10",
            "24012.35 is not a multiple of the tick 0.10; use 24012.30 or 24012.40.",
        ),
        ("812.5", "1", "812.50 is not a multiple of the tick 1.00; use 812.00 or 813.00."),
        ("0.03", "0.05", "0.03 is not a multiple of the tick 0.05; use 0.05."),
        ("812.531", "0.01", "812.531 is not a multiple of the tick 0.01; use 812.53 or 812.54."),
    ],
)
def test_check_tick_refuses(price: str, tick: str, text: str) -> None:
    with pytest.raises(UserError) as info:
        check_tick(D(price), D(tick))
    assert info.value.reason == "off_tick"
    assert info.value.text == text


@pytest.mark.parametrize(
    ("price", "tick"), [("812.55", "0.05"), ("812.5", "0.05"), ("100", "1"), ("25005", "5")]
)
def test_check_tick_accepts(price: str, tick: str) -> None:
    assert check_tick(D(price), D(tick)) is None


# --- the grid as data --------------------------------------------------------------------------

KOTAK_TEXT = "equity=100:2%,500:1%,*:0.5%;options=1:0.10,5:10%,10:5%,100:3%,500:2%,*:1%"


def test_parse_grid_matches_default() -> None:
    assert parse_grid(KOTAK_TEXT) == DEFAULT_GRID
    spaced = " Equity = 100 : 2% , *:1 % ; options=*:0.10 ; "
    assert parse_grid(spaced) == ProtectionGrid(
        equity=(Band(D(100), percent=D(2)), Band(None, percent=D(1))),
        options=(Band(None, absolute=D("0.10")),),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "missing section 'equity'"),
        ("equity=*:1%", "missing section 'options'"),
        ("futures=*:1%;equity=*:1%;options=*:1%", "unknown section 'futures'"),
        ("equity=*:1%;equity=*:2%;options=*:1%", "section 'equity' is given twice"),
        ("equity*:1%;options=*:1%", "expected 'equity=...;options=...'"),
        ("equity=100;options=*:1%", "equity: entry '100' must look like 'upper:value'"),
        ("equity=;options=*:1%", "equity: entry '' must look like 'upper:value'"),
        ("equity=*:1%;options=1:,*:1%", "options: entry '1:' must look like 'upper:value'"),
        ("equity=abc:1%,*:1%;options=*:1%", "equity: 'abc' is not a number"),
        ("equity=100:x%,*:1%;options=*:1%", "equity: 'x' is not a number"),
        ("equity=NaN:1%,*:1%;options=*:1%", "equity: 'NaN' is not a number"),
        ("equity=*:Infinity;options=*:1%", "equity: 'Infinity' is not a number"),
        ("equity=500:1%,100:2%,*:1%;options=*:1%", "equity: band edges must increase strictly"),
        ("equity=100:1%,100:2%,*:1%;options=*:1%", "equity: band edges must increase strictly"),
        ("equity=100:2%,500:1%;options=*:1%", "equity: the last band must be open-ended"),
        ("equity=*:2%,500:1%,*:1%;options=*:1%", "equity: only the last band may be open-ended"),
        ("equity=100:0%,*:1%;options=*:1%", "equity: percent 0% must be above 0 and below 100"),
        ("equity=*:100%;options=*:1%", "equity: percent 100% must be above 0 and below 100"),
        ("equity=*:-1%;options=*:1%", "equity: percent -1% must be above 0"),
        ("equity=*:1%;options=1:0,*:1%", "options: absolute amount 0 must be positive"),
        ("equity=*:1%;options=1:-0.10,*:1%", "options: absolute amount -0.10 must be positive"),
        ("equity=-5:1%,*:1%;options=*:1%", "equity: band edge -5 must be positive"),
    ],
)
def test_parse_grid_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_grid(text)
    assert message in str(info.value)


def test_band_needs_exactly_one_amount() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Band(None)
    with pytest.raises(ValueError, match="exactly one"):
        Band(None, percent=D(1), absolute=D(1))


def test_grid_needs_bands() -> None:
    with pytest.raises(ValueError, match="options: at least one band"):
        ProtectionGrid(equity=(Band(None, percent=D(1)),), options=())


# --- properties --------------------------------------------------------------------------------

TICK_CHOICES = [D("0.01"), D("0.05"), D("0.10"), D("0.20"), D("0.50"), D("1")]
steps = st.one_of(st.integers(1, 300), st.integers(1, 2_000_000))
circuit_steps = st.none() | st.integers(0, 2_000)


@given(
    tick=st.sampled_from(TICK_CHOICES),
    n=steps,
    side=st.sampled_from(list(Side)),
    is_option=st.booleans(),
    below=circuit_steps,
    above=circuit_steps,
)
def test_protect_properties(
    tick: Decimal, n: int, side: Side, is_option: bool, below: int | None, above: int | None
) -> None:
    """For an on-tick LTP inside tick-aligned circuits: the price is on the tick, positive,
    inside the circuits, and beyond the LTP by the band (rounded out by less than one tick)
    unless a circuit or the one-tick floor stopped it; it equals the LTP only when the LTP is
    the circuit itself."""
    ltp = n * tick
    lower = None if below is None else max(ltp - below * tick, tick)
    upper = None if above is None else ltp + above * tick
    band = DEFAULT_GRID.band_for(ltp, is_option).amount(ltp)
    try:
        p = protect(side, ltp, tick, is_option=is_option, lower_circuit=lower, upper_circuit=upper)
    except UserError as exc:
        assert exc.reason == "no_valid_price"
        assert side is SELL and ltp == tick  # no tick strictly between 0 and the LTP
        return
    assert p.price % tick == 0
    assert p.price > 0
    assert p.reference == ltp
    if side is BUY:
        assert p.price <= ltp + band + tick
        assert upper is None or p.price <= upper
        assert p.price >= ltp + band or p.price == upper
        assert p.price > ltp or p.price == ltp == upper
    else:
        assert p.price >= ltp - band - tick
        assert lower is None or p.price >= lower
        assert p.price <= ltp - band or p.price in (lower, tick)
        assert p.price < ltp or p.price == ltp == lower


@given(
    tick=st.sampled_from(TICK_CHOICES),
    n=steps,
    side=st.sampled_from(list(Side)),
    is_option=st.booleans(),
)
def test_protect_stop_properties(tick: Decimal, n: int, side: Side, is_option: bool) -> None:
    trigger = n * tick
    band = DEFAULT_GRID.band_for(trigger, is_option).amount(trigger)
    try:
        p = protect_stop(side, trigger, tick, is_option=is_option)
    except UserError as exc:
        assert exc.reason == "no_valid_price"
        assert side is SELL and trigger - band < tick
        return
    assert p.price % tick == 0
    assert p.price > 0
    if side is BUY:
        assert trigger + band <= p.price < trigger + band + tick
    else:
        assert trigger - band - tick < p.price <= trigger - band


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("812.3500", "812.35"), ("800", "800.00"), ("808.3", "808.30"), ("83.2525", "83.2525")],
)
def test_format_price_drops_padding_zeros(raw: str, shown: str) -> None:
    from bot.orders.protection import format_price

    assert format_price(Decimal(raw)) == shown
