"""The paper account's after-market orders: held PENDING (margin blocked) while the segment is
shut, kept across the change of day, sent to the paper exchange once it opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from brokers.models import Instrument, OrderRequest, OrderStatus, OrderType, Product, Side
from brokers.paper import PaperBroker

SBIN = "NSE:SBIN"


class Market:
    """A settable clock and a shut/open switch standing in for the bot's market hours."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # 20:00 IST
        self.open = False

    def clock(self) -> datetime:
        return self.now

    def is_open(self, instrument: Instrument, at: datetime) -> bool:
        assert at == self.now and instrument.key == SBIN
        return self.open


async def _amo(broker: PaperBroker, price: str, tag: str, amo: bool = True) -> str:
    [sbin] = [i for i in await broker.instruments() if i.key == SBIN]
    return await broker.place_order(
        OrderRequest(sbin, Side.BUY, 10, OrderType.LIMIT, Decimal(price), Product.CNC, tag, amo=amo)
    )


async def test_an_amo_waits_for_the_open_across_the_night(tmp_path: Path) -> None:
    market = Market()
    broker = PaperBroker(
        tmp_path / "paper.json", tick_seconds=0, seed=7, clock=market.clock, is_open=market.is_open
    )
    broker.set_price(SBIN, Decimal("800.00"))
    funds_before = await broker.funds()
    order_id = await _amo(broker, "805", "AMO1")  # marketable, but the market is shut
    [order] = await broker.orders()
    assert (order.order_id, order.status, order.filled_quantity) == (
        order_id,
        OrderStatus.PENDING,
        0,
    )
    assert (await broker.funds()).used_margin > funds_before.used_margin  # blocked while held

    market.now += timedelta(hours=13)  # 09:00 IST the next day: a new day, still shut
    [order] = await broker.orders()
    assert order.status is OrderStatus.PENDING  # the day's change keeps held AMOs

    await broker.close()  # saved and read back: still an AMO, still held
    broker = PaperBroker(
        tmp_path / "paper.json", tick_seconds=0, seed=7, clock=market.clock, is_open=market.is_open
    )
    market.open = True
    market.now += timedelta(minutes=16)
    [order] = await broker.orders()  # the first call after the open sends it
    assert order.status is OrderStatus.COMPLETE and order.average_price is not None
    await broker.close()


async def test_a_held_amo_can_be_cancelled_and_a_regular_order_is_not_held(
    tmp_path: Path,
) -> None:
    market = Market()
    broker = PaperBroker(
        tmp_path / "paper.json", tick_seconds=0, seed=7, clock=market.clock, is_open=market.is_open
    )
    held = await _amo(broker, "700", "AMO2")
    await broker.cancel_order(held)
    regular = await _amo(broker, "700", "REG1", amo=False)  # the paper exchange takes it
    states = {o.order_id: o.status for o in await broker.orders()}
    assert states == {held: OrderStatus.CANCELLED, regular: OrderStatus.OPEN}
    await broker.close()


async def test_without_market_hours_an_amo_works_at_once(tmp_path: Path) -> None:
    broker = PaperBroker(tmp_path / "paper.json", tick_seconds=0, seed=7)
    await _amo(broker, "700", "AMO3")
    [order] = await broker.orders()
    assert order.status is OrderStatus.OPEN
    assert broker.amo_window("NSE") is not None and broker.amo_window("XYZ") is None
    await broker.close()
