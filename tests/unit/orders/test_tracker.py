"""The order tracker: pushed and polled updates feed one path and announce each change once;
unknown outcomes are settled from the order book (never on one miss), followed for the rest of
the day, and shown on the card that asked for them; start-up closes out earlier days."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pyotp

from bot.accounts import Account, SlidingWindowLimiter
from bot.accounts.totp import TotpSource
from bot.market.hours import MarketHours
from bot.market.instruments import InstrumentIndex
from bot.notify.events import (
    CardUpdate,
    ChangeSettled,
    Event,
    OrderFilled,
    OrderFound,
    OrderNotFound,
    OrderRejected,
    OrdersLapsed,
)
from bot.orders.desk import OrderDesk
from bot.orders.outcomes import Outcome
from bot.orders.policy import OrderTicket
from bot.orders.tracker import IST, OrderTracker, Patience
from bot.parsing import ModifyArgs
from bot.store.connection import Store
from brokers.kotak import KotakBroker
from brokers.kotak.config import KotakTimeouts
from brokers.models import OrderStatus, OrderType, Side
from brokers.paper import PaperBroker
from tests.fakes.kotak_sim import KotakSimulator, SimOrder, kotak_config

SBIN_LIMIT = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal("800"))
CARD = 42


def _early_today() -> datetime:
    """01:00 IST today: rows the store stamps with the real clock are of the same trading day,
    and a test can move the clock hours ahead without crossing into the next one."""
    today = datetime.now(IST).date()
    return datetime(today.year, today.month, today.day, 1, tzinfo=IST).astimezone(UTC)


@dataclass
class Clock:
    """The tracker's clock: tests move it instead of waiting minutes."""

    now: datetime = field(default_factory=_early_today)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Rig:
    store: Store
    account: Account
    index: InstrumentIndex
    desk: OrderDesk
    clock: Clock
    events: list[Event]
    path: Path

    def tracker(self, **options: Any) -> OrderTracker:
        async def publish(event: Event) -> None:
            self.events.append(event)

        return OrderTracker(
            self.store, self.account, publish, index=self.index, now=self.clock, **options
        )

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def confirmed(self, ticket: OrderTicket = SBIN_LIMIT) -> Outcome:
        prepared = await self.desk.prepare_order(1, 1, ticket)
        await self.desk.attach_card(prepared.intent_id, CARD)
        return await self.desk.execute(await self.desk.claim(prepared.intent_id, 1))


async def _rig(broker: Any, path: Path, account: Account, clock: Clock) -> Rig:
    store = await Store.open(path / "db.sqlite")
    await account.start()
    index = await InstrumentIndex.build(await account.instruments())
    desk = OrderDesk(store, account, index, confirm_ttl=timedelta(seconds=60))
    return Rig(store, account, index, desk, clock, [], path / "db.sqlite")


@asynccontextmanager
async def paper(tmp_path: Path) -> AsyncIterator[tuple[PaperBroker, Rig]]:
    broker = PaperBroker(tmp_path / "paper.json", tick_seconds=0)
    rig = await _rig(broker, tmp_path, Account(broker, SlidingWindowLimiter(10, 1.0)), Clock())
    try:
        yield broker, rig
    finally:
        await rig.account.stop()
        await rig.store.close()


@asynccontextmanager
async def kotak(tmp_path: Path) -> AsyncIterator[tuple[KotakSimulator, Rig]]:
    quick = httpx.Timeout(0.3, connect=2.0)
    async with KotakSimulator(expected_totp=lambda c: True, hang_seconds=1.0) as sim:
        broker = KotakBroker(kotak_config(sim, tmp_path, timeouts=KotakTimeouts(orders=quick)))
        totp = TotpSource(pyotp.random_base32())
        account = Account(broker, SlidingWindowLimiter(10, 1.0), totp=totp)
        rig = await _rig(broker, tmp_path, account, Clock())
        try:
            yield sim, rig
        finally:
            await account.stop()
            await rig.store.close()


def late_order(sim: KotakSimulator, tag: str) -> str:
    """The broker's book shows an order with our tag after all (its OMS was slow)."""
    number = f"{sim.today:%y%m%d}000000777"
    sim.orders[number] = SimOrder(
        no=number, inst=sim.instrument("NSE:SBIN"), side="B", qty=1, price_type="L",
        price=Decimal("800"), trigger=Decimal(0), product="CNC", validity="DAY", tag=tag,
    )  # fmt: skip
    return number


# -- fills ---------------------------------------------------------------------------------------


async def test_a_pushed_fill_and_a_later_poll_announce_once(tmp_path: Path) -> None:
    async with paper(tmp_path) as (broker, rig):
        tracker = rig.tracker()
        broker.set_price("NSE:SBIN", Decimal("808.30"))
        outcome = await rig.confirmed(
            OrderTicket(Side.BUY, "NSE:SBIN", 2, OrderType.LIMIT, price=Decimal("800"))
        )
        order_id = outcome.results[0].order_id
        broker.set_price("NSE:SBIN", Decimal("799.00"))
        [filled] = await broker.orders()
        assert filled.status is OrderStatus.COMPLETE and filled.order_id == order_id

        await tracker.apply(filled)
        await tracker.check_once()
        await tracker.apply(filled)
        assert [type(e) for e in rig.events] == [OrderFilled, CardUpdate]
        [card] = rig.of(CardUpdate)  # the card follows the order: filled
        assert [(r.state, r.filled) for r in card.content.results] == [("filled", 2)]
        assert (await rig.store.orders.live()) == []


# -- a place without a usable answer ---------------------------------------------------------------


async def test_one_miss_after_a_minute_does_not_declare_an_order_unplaced(tmp_path: Path) -> None:
    """Today's broker books can lag; the old rule (one miss at 60 s) told the user to send
    again an order that might exist. Here a lagging book shows it at minute four."""
    async with kotak(tmp_path) as (sim, rig):
        tracker = rig.tracker()  # the default patience: 3 looks over at least 3 minutes
        sim.fail_next("place", "http500")  # nothing reaches the book, the outcome is unknown
        outcome = await rig.confirmed()
        assert outcome.status == "unknown"
        [row] = await rig.store.orders.live()
        for _ in range(3):  # looks at 0 s, 61 s, 122 s: three misses, but not three minutes
            await tracker.check_once()
            rig.clock.advance(seconds=61)
        assert rig.of(OrderNotFound) == []
        assert (await rig.store.orders.by_tag(row.tag)).status == "UNKNOWN"  # type: ignore[union-attr]

        number = late_order(sim, row.tag)
        await tracker.check_once()
        [found] = rig.of(OrderFound)
        assert found.order_id == number
        assert len(sim.calls_of("place")) == 1  # reconciled, never re-sent


async def test_not_found_after_patience_then_watched_and_a_late_appearance_is_announced(
    tmp_path: Path,
) -> None:
    async with kotak(tmp_path) as (sim, rig):
        tracker = rig.tracker(patience=Patience(looks=3, window=timedelta(minutes=3)))
        sim.fail_next("place", "html")
        outcome = await rig.confirmed()
        [row] = await rig.store.orders.live()
        assert outcome.results[0].state == "unknown"

        for _ in range(3):  # 0, 90, 180 s: three looks over three minutes
            await tracker.check_once()
            rig.clock.advance(seconds=90)
        [missing] = rig.of(OrderNotFound)
        assert (missing.tag, missing.key, missing.quantity) == (row.tag, "NSE:SBIN", 1)
        [card] = rig.of(CardUpdate)
        assert card.card.message_id == CARD and card.card.chat_id == 1
        assert [r.state for r in card.content.results] == ["not_found"]
        assert (await rig.store.intents.get(outcome.prepared.intent_id)).status == "UNKNOWN"  # type: ignore[union-attr]

        rig.clock.advance(hours=2)  # still the same trading day: still watched
        await tracker.check_once()
        assert len(rig.of(OrderNotFound)) == 1  # announced once
        number = late_order(sim, row.tag)
        await tracker.check_once()
        [found] = rig.of(OrderFound)
        assert found.order_id == number
        latest = rig.of(CardUpdate)[-1]
        assert [(r.state, r.order_id) for r in latest.content.results] == [("sent", number)]
        assert latest.revision > card.revision > outcome.revision
        intent = await rig.store.intents.get(outcome.prepared.intent_id)
        assert intent is not None and intent.status == "DONE"
        assert len(sim.calls_of("place")) == 1


async def test_a_place_timeout_is_reconciled_by_tag_and_the_card_shows_it(tmp_path: Path) -> None:
    async with kotak(tmp_path) as (sim, rig):
        tracker = rig.tracker()
        sim.fail_next("place", "timeout")  # the order IS created; the reply never comes
        outcome = await rig.confirmed()
        assert outcome.status == "unknown" and outcome.results[0].unknown
        [row] = await rig.store.orders.live()
        assert row.status == "UNKNOWN" and row.broker_order_id is None

        await tracker.check_once()
        [found] = rig.of(OrderFound)
        [order_no] = sim.orders
        assert found.order_id == order_no
        assert len(sim.calls_of("place")) == 1  # reconciled, not re-sent
        reconciled = await rig.store.orders.by_tag(row.tag)
        assert reconciled is not None and reconciled.broker_order_id == order_no
        [card] = rig.of(CardUpdate)
        assert card.content.status == "done" and card.content.results[0].order_id == order_no


async def test_once_the_number_is_known_a_rewritten_tag_does_not_lose_the_order(
    tmp_path: Path,
) -> None:
    """A place times out; the user sees the order in /orders and cancels it through the bot
    before the tracker looked. Kotak rewrites the echoed tag on a cancel (`<tag>-<epoch>`), so
    from then on only the order number finds it: the desk notes the number when the book row
    still carries our tag."""
    async with kotak(tmp_path) as (sim, rig):
        tracker = rig.tracker()
        sim.fail_next("place", "timeout")
        await rig.confirmed()
        [row] = await rig.store.orders.live()
        [number] = sim.orders

        prepared = await rig.desk.prepare_cancel(1, 1, number)
        sim.orders[number].tag = f"{row.tag}-1775000000"  # what Kotak's book echoes after it
        done = await rig.desk.execute(await rig.desk.claim(prepared.intent_id, 1))
        assert done.status == "done"

        for _ in range(4):
            await tracker.check_once()
            rig.clock.advance(minutes=2)
        assert rig.of(OrderNotFound) == []
        assert [type(e).__name__ for e in rig.events] == ["OrderCancelled", "CardUpdate"]
        [card] = rig.of(CardUpdate)  # the place card: placed after all, and cancelled since
        assert [(r.state, r.order_id) for r in card.content.results] == [("cancelled", number)]
        tracked = await rig.store.orders.by_tag(row.tag)
        assert tracked is not None and tracked.status == "CANCELLED"
        assert tracked.broker_order_id == number


# -- modify / cancel without a usable answer ------------------------------------------------------


async def test_a_modify_that_timed_out_is_confirmed_from_the_book_and_the_card_says_so(
    tmp_path: Path,
) -> None:
    async with kotak(tmp_path) as (sim, rig):
        tracker = rig.tracker()
        placed = await rig.confirmed()
        number = placed.results[0].order_id
        assert number is not None
        prepared = await rig.desk.prepare_modify(1, 1, ModifyArgs(number, 2, Decimal("801"), None))
        await rig.desk.attach_card(prepared.intent_id, 43)
        sim.fail_next("modify", "timeout")  # the change IS made; the reply never comes
        outcome = await rig.desk.execute(await rig.desk.claim(prepared.intent_id, 1))
        assert outcome.status == "unknown"

        await tracker.check_once()
        [settled] = rig.of(ChangeSettled)
        assert (settled.action, settled.applied, settled.order_id) == ("modify", True, number)
        [card] = [u for u in rig.of(CardUpdate) if u.card.message_id == 43]
        assert card.content.status == "done"
        intent = await rig.store.intents.get(prepared.intent_id)
        assert intent is not None and intent.status == "DONE"
        tracked = await rig.store.orders.by_broker_id(number)
        assert tracked is not None and (tracked.quantity, tracked.price) == (2, "801")


async def test_a_cancel_that_did_not_happen_is_reported_after_patience(tmp_path: Path) -> None:
    async with kotak(tmp_path) as (sim, rig):
        tracker = rig.tracker()
        placed = await rig.confirmed()
        number = placed.results[0].order_id
        assert number is not None
        prepared = await rig.desk.prepare_cancel(1, 1, number)
        await rig.desk.attach_card(prepared.intent_id, 44)
        sim.fail_next("cancel", "http500")  # nothing happens at the broker
        outcome = await rig.desk.execute(await rig.desk.claim(prepared.intent_id, 1))
        assert outcome.status == "unknown"

        await tracker.check_once()
        rig.clock.advance(minutes=2)
        await tracker.check_once()
        assert rig.of(ChangeSettled) == []  # still open: too early to tell
        rig.clock.advance(minutes=2)
        await tracker.check_once()
        [settled] = rig.of(ChangeSettled)
        assert (settled.action, settled.applied, settled.status) == ("cancel", False, "open")
        [card] = [u for u in rig.of(CardUpdate) if u.card.message_id == 44]
        [result] = card.content.results
        assert result.state == "failed" and "still open" in (result.error or "")
        intent = await rig.store.intents.get(prepared.intent_id)
        assert intent is not None and intent.status == "FAILED"
        assert len(sim.calls_of("cancel")) == 1  # told, not retried behind the user's back


# -- start-up -----------------------------------------------------------------------------------


def _age_rows(db: Path, tags: list[str], days: int) -> None:
    """Pretend rows were written `days` ago (the store stamps them with the real clock)."""
    when = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    with sqlite3.connect(db) as conn:
        for tag in tags:
            conn.execute("UPDATE orders SET created_at = ? WHERE tag = ?", (when, tag))


async def test_start_up_lapses_earlier_days_with_one_push_per_chat(tmp_path: Path) -> None:
    async with paper(tmp_path) as (_, rig):
        rig.clock.now = datetime.now(UTC)
        for price in ("700", "701"):
            ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal(price))
            await rig.confirmed(ticket)
        today = await rig.confirmed()
        old = [r.tag for r in await rig.store.orders.live()][:2]
        _age_rows(rig.path, old, days=1)
        # and one whose place had no answer yesterday, for another chat
        intent = (await rig.desk.prepare_order(2, 2, SBIN_LIMIT)).intent_id
        await rig.store.orders.add(
            "TBLOSTYDAY", intent_id=intent, broker="paper", user_id=2, chat_id=2,
            symbol="NSE:SBIN", side="BUY", quantity=1, price="800",
        )  # fmt: skip
        await rig.store.orders.update("TBLOSTYDAY", status="UNKNOWN")
        _age_rows(rig.path, ["TBLOSTYDAY"], days=3)

        tracker = rig.tracker()
        await tracker.recover()
        lapsed = {e.chat_id: e for e in rig.of(OrdersLapsed)}
        assert sorted(lapsed) == [1, 2]
        assert len(lapsed[1].orders) == 2 and all(o.found for o in lapsed[1].orders)
        [lost] = lapsed[2].orders
        assert not lost.found and lost.order_id is None
        live = await rig.store.orders.live()
        assert [r.broker_order_id for r in live] == [today.results[0].order_id]
        assert (await rig.store.orders.by_tag("TBLOSTYDAY")).status == "LAPSED"  # type: ignore[union-attr]
        await tracker.check_once()
        assert len(rig.of(OrdersLapsed)) == 2  # once, not at every look


async def test_start_up_turns_what_a_crash_left_sending_into_unknown_outcomes(
    tmp_path: Path,
) -> None:
    async with kotak(tmp_path) as (sim, rig):
        prepared = await rig.desk.prepare_order(1, 1, SBIN_LIMIT)
        await rig.desk.attach_card(prepared.intent_id, CARD)
        # SENDING with its order row (one transaction), then the process died
        await rig.desk.claim(prepared.intent_id, 1)
        [row] = await rig.store.orders.for_intent(prepared.intent_id)
        assert row.status == "SENDING"
        number = late_order(sim, row.tag)  # it had reached the broker

        await rig.tracker().recover()
        [found] = rig.of(OrderFound)
        assert found.order_id == number
        cards = rig.of(CardUpdate)
        assert cards and cards[-1].content.results[0].order_id == number
        intent = await rig.store.intents.get(prepared.intent_id)
        assert intent is not None and intent.status == "DONE"


# -- the card follows its orders -------------------------------------------------------------------


async def test_a_rejection_seen_while_the_batch_is_sent_edits_the_card_after_the_desk(
    tmp_path: Path,
) -> None:
    """Each slice is taken and at once rejected by the RMS; the tracker looks at the book
    while the desk is still sending (here: as the batch reports its progress, after the last
    slice). The desk's own view says "sent": the tracker's, shown once the desk has closed
    the intent, is newer and says rejected."""
    async with paper(tmp_path) as (broker, rig):
        tracker = rig.tracker()
        future = next(i for i in await rig.index.search("nifty fut", limit=50) if i.freeze_qty)
        assert future.freeze_qty is not None
        per_slice = (future.freeze_qty // future.lot_size) * future.lot_size
        quote = (await broker.quotes([future]))[future.key]
        assert quote.ltp is not None  # far above the paper account's margin:
        ticket = OrderTicket(Side.BUY, future.key, 2 * per_slice, OrderType.LIMIT, quote.ltp)
        prepared = await rig.desk.prepare_order(1, 1, ticket)
        await rig.desk.attach_card(prepared.intent_id, CARD)

        async def look(done: int, total: int) -> None:
            await tracker.check_once()

        claimed = await rig.desk.claim(prepared.intent_id, 1)
        outcome = await rig.desk.execute(claimed, look)
        assert [r.state for r in outcome.results] == ["sent", "sent"]  # what the desk saw
        assert rig.of(CardUpdate) == []  # the desk's view comes first

        await tracker.check_once()
        [card] = rig.of(CardUpdate)
        assert card.revision > outcome.revision
        assert [r.state for r in card.content.results] == ["rejected", "rejected"]
        assert "insufficient funds" in (card.content.results[0].error or "")
        assert rig.of(OrderRejected) == []  # the card says it; no second message


async def test_start_up_expires_waiting_cards_and_shows_changes_in_flight(tmp_path: Path) -> None:
    async with paper(tmp_path) as (_, rig):
        waiting = await rig.desk.prepare_order(1, 1, SBIN_LIMIT)
        await rig.desk.attach_card(waiting.intent_id, 50)
        placed = await rig.confirmed()
        order_id = placed.results[0].order_id
        assert order_id is not None
        cancel = await rig.desk.prepare_cancel(1, 1, order_id)
        await rig.desk.attach_card(cancel.intent_id, 51)
        await rig.desk.claim(cancel.intent_id, 1)  # ...and the bot stopped before sending

        await rig.tracker().recover()
        cards = {u.card.message_id: u.content for u in rig.of(CardUpdate)}
        assert (
            cards[50].status == "expired" and cards[50].prepared.plan.instrument.key == "NSE:SBIN"
        )
        assert cards[51].status == "unknown"
        assert "restarted" in (cards[51].results[0].error or "")
        intent = await rig.store.intents.get(waiting.intent_id)
        assert intent is not None and intent.status == "EXPIRED"


def _stamp(db: Path, tag: str, when: datetime) -> None:
    with sqlite3.connect(db) as conn:
        stamp = when.astimezone(UTC).isoformat()  # as the store writes it
        conn.execute("UPDATE orders SET created_at = ? WHERE tag = ?", (stamp, tag))


async def test_an_evening_amo_is_lapsed_after_the_day_it_was_held_for(tmp_path: Path) -> None:
    """An AMO placed on Monday evening is for Tuesday's session: Tuesday's start does not lapse
    it (a regular order of Monday's is), Wednesday's does."""
    monday_evening = datetime(2026, 11, 30, 20, 0, tzinfo=IST)
    async with paper(tmp_path) as (_, rig):
        desk = OrderDesk(
            rig.store,
            rig.account,
            rig.index,
            confirm_ttl=timedelta(seconds=60),
            hours=MarketHours(),
            now=lambda: monday_evening,
        )
        prepared = await desk.prepare_order(1, 1, SBIN_LIMIT)
        assert prepared.plan.amo
        await desk.execute(await desk.claim(prepared.intent_id, 1))
        regular = await rig.confirmed()  # the rig's desk has no market hours
        [amo_row, regular_row] = await rig.store.orders.live()
        assert regular_row.broker_order_id == regular.results[0].order_id
        for row in (amo_row, regular_row):
            _stamp(rig.path, row.tag, monday_evening)

        rig.clock.now = datetime(2026, 12, 1, 10, 0, tzinfo=IST)
        tracker = rig.tracker()
        await tracker.recover()
        [lapsed] = rig.of(OrdersLapsed)
        assert [o.order_id for o in lapsed.orders] == [regular_row.broker_order_id]
        assert [r.tag for r in await rig.store.orders.live()] == [amo_row.tag]

        rig.clock.now = datetime(2026, 12, 2, 10, 0, tzinfo=IST)
        await tracker.check_once()
        assert await rig.store.orders.live() == []
