"""How numbers are written: Indian grouping for amounts, tick-true prices, signed P&L, and the
reports that use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.market import QuoteLine, SearchResult
from brokers.models import Funds, Instrument, InstrumentKind, Position, Product, Quote
from handlers import render
from handlers.render.numbers import age, change, indian_grouping, price, rupees, signed_rupees

SBIN = Instrument("NSE", "SBIN", "State Bank of India", InstrumentKind.EQUITY, Decimal("0.05"))
USDINR = Instrument("CDS", "USDINR26DECFUT", "USDINR", InstrumentKind.FUTURE, Decimal("0.0025"))


@pytest.mark.parametrize(
    ("whole", "text"),
    [(0, "0"), (999, "999"), (1000, "1,000"), (991826, "9,91,826"), (123456789, "12,34,56,789")],
)
def test_indian_grouping(whole: int, text: str) -> None:
    assert indian_grouping(whole) == text


def test_amounts() -> None:
    assert rupees(Decimal("991826")) == "₹9,91,826.00"
    assert rupees(Decimal("-1234.5")) == "-₹1,234.50"
    assert rupees(Decimal("0.005")) == "₹0.00"
    assert rupees(None) == "—"
    assert signed_rupees(Decimal("250")) == "+₹250.00"
    assert signed_rupees(Decimal("-1234.5")) == "-₹1,234.50"
    assert signed_rupees(Decimal(0)) == "₹0.00"


def test_prices_have_their_ticks_decimals() -> None:
    assert price(Decimal("812.3"), Decimal("0.05")) == "812.30"
    assert price(Decimal("812.3500"), Decimal("0.05")) == "812.35"
    assert price(Decimal("83.25"), Decimal("0.0025")) == "83.2500"
    assert price(Decimal("812.3333"), Decimal("0.01")) == "812.33"
    assert price(Decimal("26012"), Decimal("1")) == "26012.00"
    assert price(Decimal("808.3")) == "808.30"


def test_change_and_age() -> None:
    assert change(Decimal("824.65"), Decimal("812.35"), Decimal("0.05")) == "+12.30, +1.5 %"
    assert change(Decimal("800"), Decimal("812.35"), Decimal("0.05")) == "-12.35, -1.5 %"
    now = datetime(2026, 11, 23, 9, 2, 8, tzinfo=UTC)
    assert age(now - timedelta(seconds=3), now) == "3 s ago"
    assert age(now - timedelta(minutes=4, seconds=5), now) == "4 min ago"
    assert age(now - timedelta(hours=2, minutes=5), now) == "2 h 5 min ago"


def test_funds_use_indian_grouping() -> None:
    text = render.funds(Funds(Decimal("991826"), Decimal("-1234.5"), Decimal("12345678.9")))
    assert "Available: ₹9,91,826.00" in text
    assert "Used margin: -₹1,234.50" in text and "Total: ₹1,23,45,678.90" in text


def test_positions_show_signed_pnl_and_a_total() -> None:
    text = render.positions(
        [
            Position("NSE:SBIN", Product.MIS, 10, Decimal("800"), Decimal("812.35"), Decimal(0),
                     Decimal("123.5")),
            Position("CDS:USDINR26DECFUT", Product.NRML, -1000, Decimal("83.25"), Decimal("83.5"),
                     Decimal("-1000"), Decimal("-250")),
        ]
    )  # fmt: skip
    assert "NSE:SBIN MIS: 10 @ 800.00 · LTP 812.35 · P&amp;L +₹123.50" in text
    assert "@ 83.2500 · LTP 83.5000 · P&amp;L -₹1,250.00" in text
    assert "Total P&amp;L -₹1,126.50" in text


def test_quotes_show_change_and_age() -> None:
    now = datetime(2026, 11, 23, 9, 2, 8, tzinfo=UTC)  # 14:32:08 IST
    quote = Quote(
        "NSE:SBIN",
        Decimal("824.65"),
        at=now - timedelta(seconds=3),
        bid=Decimal("824.6"),
        ask=Decimal("824.7"),
        close=Decimal("812.35"),
    )
    text = render.quotes([QuoteLine(SBIN, quote)], now)
    assert text == (
        "<b>NSE:SBIN</b> 824.65 (+12.30, +1.5 %) · bid 824.60 / ask 824.70 · "
        "as of 14:32:05 IST, 3 s ago"
    )
    undated = render.quotes([QuoteLine(USDINR, Quote(USDINR.key, Decimal("83.25")))], now)
    assert undated == "<b>CDS:USDINR26DECFUT</b> 83.2500 · time unknown"


def test_search_says_when_it_cut_the_list() -> None:
    shown = tuple([SBIN] * 10)
    text = render.search(SearchResult(shown, 37, more=False), "sbin")
    assert text.endswith("Showing 10 of 37; add a strike or CE/PE to narrow.</i>")
    capped = render.search(SearchResult(shown, 1000, more=True), "nifty")
    assert "Showing 10 of 1000+" in capped
    assert "Showing" not in render.search(SearchResult(shown[:3], 3, more=False), "sbin")
    long = render.search(SearchResult((), 0, more=False), "y" * 300)
    assert long == "Nothing matches " + "y" * 40 + "…."
