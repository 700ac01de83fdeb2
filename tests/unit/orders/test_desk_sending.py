"""The desk's `on_sending` hook (a front end answers the tap while the order travels, not
before it) and its one-send-per-claim rule, kept without a second read of the intent."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.errors import UserError
from bot.orders.desk import OrderDesk
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


async def test_the_taps_audit_line_lands_in_the_claims_commit(tmp_path: Path) -> None:
    """The tap's audit line goes in the claim's transaction: written when that transaction
    commits (the tap that wins, before anything is sent; a tap that loses the compare-and-set
    in it too), not at all when it rolls back, and not by a tap with nothing left to claim
    (the guard then writes the line with its outcome)."""
    async with paper_desk(tmp_path) as (broker, d):
        ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal(800))
        prepared = await d.desk.prepare_order(1, 1, ticket)
        with sqlite3.connect(tmp_path / "db.sqlite") as db:
            db.execute("ALTER TABLE orders RENAME TO orders_gone")
        failed = d.store.audit.line(1, "tap", "cf:1")
        with pytest.raises(sqlite3.OperationalError):
            await d.desk.claim(prepared.intent_id, 1, with_steps=(failed.step,))
        assert failed.id is None and await d.store.audit.latest() == []
        with sqlite3.connect(tmp_path / "db.sqlite") as db:
            db.execute("ALTER TABLE orders_gone RENAME TO orders")

        won = d.store.audit.line(1, "tap", "cf:2")
        claimed = await d.desk.claim(prepared.intent_id, 1, with_steps=(won.step,))
        [line] = await d.store.audit.latest()
        assert line["id"] == won.id and line["what"] == "cf:2" and line["outcome"] is None
        intent = await d.store.intents.get(prepared.intent_id)
        assert intent is not None and intent.status == "SENDING" and await broker.orders() == []

        late = d.store.audit.line(1, "tap", "cf:3")
        with pytest.raises(UserError) as refused:
            await d.desk.claim(prepared.intent_id, 1, with_steps=(late.step,))
        assert refused.value.reason == "already_answered" and late.id is None
        assert [row["what"] for row in await d.store.audit.latest()] == ["cf:2"]
        assert (await d.desk.execute(claimed)).status == "done"


async def test_a_tap_that_loses_the_race_in_the_claims_transaction_is_audited_there(
    tmp_path: Path,
) -> None:
    """Two taps read the intent PENDING and race in their transactions: one wins, the other's
    compare-and-set changes nothing, and both lines are committed with their transactions."""
    async with paper_desk(tmp_path) as (broker, d):
        ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal(800))
        prepared = await d.desk.prepare_order(1, 1, ticket)
        lines = [d.store.audit.line(1, "tap", f"cf:{n}") for n in range(2)]
        results = await asyncio.gather(
            *(d.desk.claim(prepared.intent_id, 1, with_steps=(line.step,)) for line in lines),
            return_exceptions=True,
        )
        [won] = [r for r in results if not isinstance(r, BaseException)]
        [lost] = [r for r in results if isinstance(r, UserError)]
        assert lost.reason == "already_answered"
        assert all(line.id is not None for line in lines)
        assert sorted(row["what"] for row in await d.store.audit.latest()) == ["cf:0", "cf:1"]
        assert (await d.desk.execute(won)).status == "done" and len(await broker.orders()) == 1


async def test_a_claim_from_the_desks_own_copy_of_the_intent_is_still_decided_in_sqlite(
    tmp_path: Path,
) -> None:
    """The desk claims an intent it stored without reading its row first, but the row
    decides: answered elsewhere (another desk on the same database) it is already answered,
    and past its time (before its sweep, or after another desk's) it is expired; nothing is
    sent twice or late."""
    async with paper_desk(tmp_path) as (broker, d):
        now = [datetime.now(UTC)]
        ttl = timedelta(seconds=60)
        desk = OrderDesk(d.store, d.account, d.index, confirm_ttl=ttl, now=lambda: now[0])
        ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal(800))
        answered = await desk.prepare_order(1, 1, ticket)
        elsewhere = await d.desk.claim(answered.intent_id, 1)
        assert (await d.desk.execute(elsewhere)).status == "done"
        with pytest.raises(UserError) as refused:
            await desk.claim(answered.intent_id, 1)
        assert refused.value.reason == "already_answered"

        late = await desk.prepare_order(1, 1, ticket)
        now[0] = late.expires_at + timedelta(seconds=1)
        with pytest.raises(UserError) as refused:
            await desk.claim(late.intent_id, 1)
        assert refused.value.reason == "expired"
        intent = await d.store.intents.get(late.intent_id)
        assert intent is not None and intent.status == "EXPIRED"

        now[0] = datetime.now(UTC) - timedelta(seconds=120)
        swept = await desk.prepare_order(1, 1, ticket)
        await d.desk.expire_due()  # the other desk's sweep, on the real clock
        with pytest.raises(UserError) as refused:
            await desk.claim(swept.intent_id, 1)
        assert refused.value.reason == "expired"
        assert len(await broker.orders()) == 1
