"""The desk's `on_sending` hook (a front end answers the tap while the order travels, not
before it) and its one-send-per-claim rule, kept without a second read of the intent."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from bot.errors import UserError
from bot.orders.policy import OrderTicket
from brokers.models import OrderType, Side
from tests.unit.orders.test_desk import _nifty_future, _resting_price, paper_desk


async def test_on_sending_fires_once_before_the_first_slice_reaches_the_broker(
    tmp_path: Path,
) -> None:
    async with paper_desk(tmp_path) as (broker, d):
        future = await _nifty_future(d.index)
        assert future.freeze_qty is not None
        quantity = 3 * (future.freeze_qty // future.lot_size) * future.lot_size
        low = await _resting_price(d.account, future)  # inside the band, below the market
        ticket = OrderTicket(Side.BUY, future.key, quantity, OrderType.LIMIT, price=low)
        prepared = await d.desk.prepare_order(1, 1, ticket)
        seen: list[int] = []
        claimed = await d.desk.claim(prepared.intent_id, 1)
        outcome = await d.desk.execute(
            claimed, on_sending=lambda: seen.append(len(broker._book.orders()))
        )
        assert outcome.status == "done" and len(outcome.results) == 3
        assert seen == [0]
        with pytest.raises(UserError) as again:
            await d.desk.execute(claimed, on_sending=lambda: seen.append(-1))
        assert again.value.reason == "already_answered"
        assert seen == [0] and len(await broker.orders()) == 3


async def test_on_sending_does_not_fire_when_nothing_is_handed_over(tmp_path: Path) -> None:
    async with paper_desk(tmp_path) as (broker, d):
        ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal(800))
        prepared = await d.desk.prepare_order(1, 1, ticket)
        claimed = await d.desk.claim(prepared.intent_id, 1)
        with sqlite3.connect(tmp_path / "db.sqlite") as db:
            db.execute("ALTER TABLE orders RENAME TO orders_gone")
        seen: list[str] = []
        outcome = await d.desk.execute(claimed, on_sending=lambda: seen.append("sending"))
        assert outcome.status == "failed" and seen == []
        assert await broker.orders() == []


async def test_an_intent_not_claimed_by_the_desk_is_never_sent(tmp_path: Path) -> None:
    async with paper_desk(tmp_path) as (broker, d):
        ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal(800))
        prepared = await d.desk.prepare_order(1, 1, ticket)  # PENDING: never confirmed
        with pytest.raises(UserError) as refused:
            await d.desk.execute(prepared)
        assert refused.value.reason == "already_answered"
        assert await broker.orders() == []
