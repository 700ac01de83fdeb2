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


async def test_a_claim_whose_order_row_cannot_be_written_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    """The claim and the first order row are one transaction: when the row cannot be written,
    the intent is not claimed either (still PENDING, confirmable once the database is back),
    nothing is handed over and nothing reaches the broker."""
    async with paper_desk(tmp_path) as (broker, d):
        ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal(800))
        prepared = await d.desk.prepare_order(1, 1, ticket)
        with sqlite3.connect(tmp_path / "db.sqlite") as db:
            db.execute("ALTER TABLE orders RENAME TO orders_gone")
        with pytest.raises(sqlite3.OperationalError):
            await d.desk.claim(prepared.intent_id, 1)
        intent = await d.store.intents.get(prepared.intent_id)
        assert intent is not None and intent.status == "PENDING"
        seen: list[str] = []
        with pytest.raises(UserError) as refused:
            await d.desk.execute(prepared, on_sending=lambda: seen.append("sending"))
        assert refused.value.reason == "already_answered" and seen == []
        assert await broker.orders() == []
        with sqlite3.connect(tmp_path / "db.sqlite") as db:
            db.execute("ALTER TABLE orders_gone RENAME TO orders")
        claimed = await d.desk.claim(prepared.intent_id, 1)
        outcome = await d.desk.execute(claimed, on_sending=lambda: seen.append("sending"))
        assert outcome.status == "done" and seen == ["sending"]
        assert len(await broker.orders()) == 1
        assert len(await d.store.orders.for_intent(prepared.intent_id)) == 1


async def test_an_intent_not_claimed_by_the_desk_is_never_sent(tmp_path: Path) -> None:
    async with paper_desk(tmp_path) as (broker, d):
        ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal(800))
        prepared = await d.desk.prepare_order(1, 1, ticket)  # PENDING: never confirmed
        with pytest.raises(UserError) as refused:
            await d.desk.execute(prepared)
        assert refused.value.reason == "already_answered"
        assert await broker.orders() == []
