"""Market hours end to end: the real bot on a settable clock, the paper broker holding AMOs.

Out of hours a /buy gets a card that says the market is closed and when it opens, and offers
the order as an after-market order; the tap sends it as one (the paper account holds it), and
it reaches the paper exchange at the open. Nothing is queued without the card saying so."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.market.hours import IST, MarketHours
from brokers.models import OrderStatus, OrderType
from brokers.paper import PaperBroker
from tests.e2e.harness import ADMIN, BotHarness

SBIN = "NSE:SBIN"


class SetClock:
    """A clock set to a moment that then runs on in real time; `set` moves it to another."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def set(self, at: datetime) -> None:
        self._start, self._since = at.astimezone(UTC), time.monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._since)


def _bot(tmp: Path, clock: SetClock) -> BotHarness:
    hours = MarketHours()
    broker = PaperBroker(
        tmp / "paper.json",
        capital=Decimal(1_000_000),
        tick_seconds=0,
        seed=7,
        clock=clock,
        is_open=hours.is_open,
    )
    return BotHarness(tmp, instance=broker, clock=clock, market_hours=True)


async def test_an_order_before_the_open_is_offered_as_an_amo_and_reaches_the_open(
    tmp_path: Path,
) -> None:
    # Tuesday 1 December 2026, 07:30 IST: a trading day, before the pre-open, inside the AMO
    # window (to 08:58).
    clock = SetClock(datetime(2026, 12, 1, 7, 30, tzinfo=IST))
    async with _bot(tmp_path, clock) as harness:
        broker = harness.broker
        assert isinstance(broker, PaperBroker)
        broker.set_price(SBIN, Decimal("805.00"))

        refused = await harness.say(ADMIN, "/buy NSE:SBIN 10")
        assert "NSE/BSE cash is closed (before the open)" in refused.plain
        assert "plain limit order at your price" in refused.plain
        assert "/buy NSE:SBIN 10 @805.00" in refused.plain
        assert refused.reply_markup is None and await broker.orders() == []

        card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @800")
        assert "NSE/BSE cash is closed (before the open); opens Tue 01 Dec 09:15 IST" in (
            card.plain
        )
        assert "after-market order (AMO)" in card.plain
        assert "AMOs are taken 15:45 to 08:58 IST" in card.plain
        labels = [b["text"] for row in card.reply_markup["inline_keyboard"] for b in row]
        assert labels == ["🌙 Send as AMO", "✖️ Cancel"]
        assert await broker.orders() == []  # nothing leaves before the tap

        placed = await harness.confirm(ADMIN, card)
        [order] = await broker.orders()
        assert order.order_id in placed.plain
        assert "After-market order (AMO)" in placed.plain
        assert order.status is OrderStatus.PENDING  # held by the broker for the open
        assert order.order_type is OrderType.LIMIT and order.price == Decimal("800")

        # 09:16: the paper account sends it to its exchange at the open, and it fills there.
        clock.set(datetime(2026, 12, 1, 9, 16, tzinfo=IST))
        broker.set_price(SBIN, Decimal("799.50"))
        [order] = await broker.orders()
        assert order.status is OrderStatus.COMPLETE
        assert order.average_price == Decimal("799.50")


async def test_on_a_holiday_the_card_names_it_and_the_next_trading_day(tmp_path: Path) -> None:
    clock = SetClock(datetime(2026, 12, 25, 11, 0, tzinfo=IST))  # Christmas, a Friday
    async with _bot(tmp_path, clock) as harness:
        card = await harness.say(ADMIN, "/sell NSE:SBIN 5 @900 MIS")
        assert "NSE/BSE cash is closed (Christmas); opens Mon 28 Dec 09:15 IST" in card.plain
        assert "Send as AMO" in str(card.reply_markup)
        assert harness.confirm_button(card).startswith("cf:")
        # In December the start-up message says next year's holidays are missing.
        [started] = [m for m in harness.telegram.messages(ADMIN) if "Bot started" in m.plain]
        assert "⚠️ The exchange holiday calendar does not cover 2027" in started.plain


async def test_between_the_auction_and_the_open_orders_are_refused_in_one_sentence(
    tmp_path: Path,
) -> None:
    """09:10: the pre-open's order entry has closed and every AMO window too (to 08:58)."""
    clock = SetClock(datetime(2026, 12, 1, 9, 10, tzinfo=IST))
    async with _bot(tmp_path, clock) as harness:
        reply = await harness.say(ADMIN, "/buy NSE:SBIN 10 @800")
        assert "opens Tue 01 Dec at 09:15 IST" in reply.plain
        assert "takes after-market orders only from 15:45 to 08:58 IST" in reply.plain
        assert reply.reply_markup is None
        assert await harness.broker.orders() == []  # type: ignore[union-attr]


async def test_in_the_pre_open_a_regular_order_goes_to_the_auction(tmp_path: Path) -> None:
    clock = SetClock(datetime(2026, 12, 1, 9, 3, tzinfo=IST))
    async with _bot(tmp_path, clock) as harness:
        card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @800")
        assert "Pre-open call auction (09:00–09:08)" in card.plain
        assert harness.button(card, "Confirm").startswith("cf:")
        stop = await harness.say(ADMIN, "/sell NSE:SBIN 10 @790 sl=795")
        assert "pre-open call auction, which takes no stop-loss orders" in stop.plain


async def test_an_evening_amo_outlives_midnight_and_is_followed_to_its_fill(
    tmp_path: Path,
) -> None:
    """An AMO placed at 20:00 is for the next day's session: the paper account's change of day
    keeps it, and its fill is pushed the next morning. (The store stamps rows with the wall
    clock, so the tracker's lapse by trading day is proven in tests/unit/orders/test_tracker.)"""
    clock = SetClock(datetime(2026, 11, 30, 20, 0, tzinfo=IST))  # a Monday evening
    async with _bot(tmp_path, clock) as harness:
        broker = harness.broker
        assert isinstance(broker, PaperBroker)
        broker.set_price(SBIN, Decimal("805.00"))
        card = await harness.say(ADMIN, "/buy NSE:SBIN 10 @800")
        assert "opens Tue 01 Dec 09:15 IST" in card.plain
        await harness.confirm(ADMIN, card)

        clock.set(datetime(2026, 12, 1, 9, 16, tzinfo=IST))
        broker.set_price(SBIN, Decimal("799.00"))
        fill = await harness.telegram.wait_for(
            lambda t: next((m for m in t.messages(ADMIN) if "Filled</b>:" in m.text), None),
            what="the fill push of the AMO",
        )
        assert "BUY 10 NSE:SBIN" in fill.plain
        assert not [m for m in harness.telegram.messages(ADMIN) if "lapsed" in m.plain.lower()]
