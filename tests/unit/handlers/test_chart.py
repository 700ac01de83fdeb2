"""The daily P&L chart: a PNG with a bar per position, nothing when there is no position."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.notify import DailySummary, PositionPnL
from handlers.render.chart import pnl_chart


def summary(*positions: PositionPnL) -> DailySummary:
    return DailySummary(date(2026, 4, 1), "paper", "paper", 2, 1, (), positions, ())


def test_a_png_with_the_positions() -> None:
    png = pnl_chart(
        summary(
            PositionPnL("NSE:SBIN", 10, Decimal("120.50"), Decimal("-40")),
            PositionPnL("NFO:NIFTY30DEC2524000CE", -75, Decimal("-900"), None),
        )
    )
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000


def test_no_chart_without_positions() -> None:
    assert pnl_chart(summary()) is None
