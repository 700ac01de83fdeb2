"""The order desk: a batch is never left half (every slice sent or explicitly skipped, the intent
always closed), no MARKET or SL-M order leaves on a modify either, and a broker that cannot give
a price is the broker's problem in plain words."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pyotp
import pytest

from bot.accounts import Account, SlidingWindowLimiter
from bot.accounts.totp import TotpSource
from bot.errors import UserError
from bot.market.hours import MarketHours
from bot.market.instruments import InstrumentIndex
from bot.orders.desk import OrderDesk
from bot.orders.lpp import lpp_range
from bot.orders.policy import OrderTicket
from bot.parsing import ModifyArgs
from bot.store.connection import Store
from brokers.errors import BrokerUnavailable
from brokers.kotak import KotakBroker
from brokers.kotak.config import KotakTimeouts
from brokers.models import (
    Instrument,
    InstrumentKind,
    MarginCheck,
    OrderRequest,
    OrderType,
    Product,
    Side,
)
from brokers.paper import PaperBroker
from tests.fakes.kotak_sim import KotakSimulator, SimOrder, kotak_config


@dataclass
class Desk:
    desk: OrderDesk
    store: Store
    index: InstrumentIndex
    account: Account


@asynccontextmanager
async def _desk(account: Account, tmp_path: Path) -> AsyncIterator[Desk]:
    """A started account, its store and index, and the desk over them; all closed after."""
    store = await Store.open(tmp_path / "db.sqlite")
    await account.start()
    index = await InstrumentIndex.build(await account.instruments())
    try:
        desk = OrderDesk(store, account, index, confirm_ttl=timedelta(60))
        yield Desk(desk, store, index, account)
    finally:
        await account.stop()
        await store.close()


@asynccontextmanager
async def paper_desk(tmp_path: Path) -> AsyncIterator[tuple[PaperBroker, Desk]]:
    broker = PaperBroker(tmp_path / "paper.json", capital=Decimal(10**10), tick_seconds=0)
    async with _desk(Account(broker, SlidingWindowLimiter(10, 1.0)), tmp_path) as desk:
        yield broker, desk


@asynccontextmanager
async def kotak_desk(
    tmp_path: Path, hang: float = 1.0, read_timeout: float = 0.3
) -> AsyncIterator[tuple[KotakSimulator, Desk]]:
    timeouts = KotakTimeouts(orders=httpx.Timeout(read_timeout, connect=2.0))
    async with KotakSimulator(expected_totp=lambda c: True, hang_seconds=hang) as sim:
        broker = KotakBroker(kotak_config(sim, tmp_path, timeouts=timeouts))
        account = Account(
            broker, SlidingWindowLimiter(10, 1.0), totp=TotpSource(pyotp.random_base32())
        )
        async with _desk(account, tmp_path) as desk:
            yield sim, desk


async def _nifty_future(index: InstrumentIndex) -> Instrument:
    return next(
        i
        for i in await index.search("nifty fut", limit=50)
        if i.kind is InstrumentKind.FUTURE and i.underlying == "NIFTY" and i.freeze_qty
    )


async def _resting_price(
    account: Account, instrument: Instrument, side: Side = Side.BUY
) -> Decimal:
    """A limit that rests: the edge away from the market of the day's band and of the
    exchange's price protection range (the desk refuses a price outside either)."""
    quote = (await account.quotes([instrument]))[instrument.key]
    edge = quote.lower_circuit if side is Side.BUY else quote.upper_circuit
    assert edge is not None
    allowed = lpp_range(instrument, quote.ltp) if quote.ltp is not None else None
    if allowed is None:
        return edge
    return max(edge, allowed.lower) if side is Side.BUY else min(edge, allowed.upper)


MIS = Product.MIS  # a sell without holdings: intraday, or the paper RMS rejects it
SBIN_700 = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal(700))


# -- never half -----------------------------------------------------------------------------------


async def test_a_failing_progress_report_never_stops_a_batch(tmp_path: Path) -> None:
    """Progress edits go to Telegram, which may be down or flood-limited: the batch goes on."""
    async with paper_desk(tmp_path) as (broker, d):
        future = await _nifty_future(d.index)
        assert future.freeze_qty is not None
        quantity = 3 * (future.freeze_qty // future.lot_size) * future.lot_size
        low = await _resting_price(d.account, future)
        ticket = OrderTicket(Side.BUY, future.key, quantity, OrderType.LIMIT, price=low)
        prepared = await d.desk.prepare_order(1, 1, ticket)
        calls: list[int] = []

        async def progress(done: int, total: int) -> None:
            calls.append(done)
            raise RuntimeError("Telegram is down")

        outcome = await d.desk.execute(await d.desk.claim(prepared.intent_id, 1), progress)
        assert outcome.status == "done" and len(outcome.results) == 3
        assert calls == [1, 2, 3]
        assert len(await broker.orders()) == 3
        intent = await d.store.intents.get(prepared.intent_id)
        assert intent is not None and intent.status == "DONE"


async def test_a_database_fault_mid_batch_skips_the_rest_and_closes_the_intent(
    tmp_path: Path,
) -> None:
    """After slice 1 the orders table cannot be written: slice 2 is not sent (its row would be
    missing), it and slice 3 are skipped by name, and the intent is closed as partial."""
    async with paper_desk(tmp_path) as (broker, d):
        future = await _nifty_future(d.index)
        assert future.freeze_qty is not None
        quantity = 3 * (future.freeze_qty // future.lot_size) * future.lot_size
        low = await _resting_price(d.account, future)
        ticket = OrderTicket(Side.BUY, future.key, quantity, OrderType.LIMIT, price=low)
        prepared = await d.desk.prepare_order(1, 1, ticket)

        async def progress(done: int, total: int) -> None:
            with sqlite3.connect(tmp_path / "db.sqlite") as db:
                db.execute("ALTER TABLE orders RENAME TO orders_gone")

        outcome = await d.desk.execute(await d.desk.claim(prepared.intent_id, 1), progress)
        assert [r.state for r in outcome.results] == ["sent", "skipped", "skipped"]
        reason = "not sent: something went wrong on my side before it left"
        assert [r.error for r in outcome.results[1:]] == [reason, reason]
        assert outcome.status == "partial"
        assert len(await broker.orders()) == 1
        intent = await d.store.intents.get(prepared.intent_id)
        assert intent is not None and intent.status == "PARTIAL"


async def test_after_a_slice_without_answer_each_later_slice_is_skipped_by_name(
    tmp_path: Path,
) -> None:
    async with kotak_desk(tmp_path) as (sim, d):
        option = next(
            i
            for i in await d.index.search("nifty ce", limit=200)
            if i.freeze_qty and i.lot_size > 1
        )
        assert option.freeze_qty is not None
        per_slice = (option.freeze_qty // option.lot_size) * option.lot_size
        low = await _resting_price(d.account, option)
        ticket = OrderTicket(Side.BUY, option.key, 4 * per_slice, OrderType.LIMIT, low)
        prepared = await d.desk.prepare_order(1, 1, ticket)
        assert len(prepared.plan.slices) == 4
        sim.fail_next("place", "malformed")  # slice 1 reaches nobody knows what
        outcome = await d.desk.execute(await d.desk.claim(prepared.intent_id, 1))
        states = [r.state for r in outcome.results]
        assert states == ["unknown", "skipped", "skipped", "skipped"]
        skipped = outcome.results[1:]
        assert all("order 1 of this batch has no answer yet" in (r.error or "") for r in skipped)
        assert len(sim.calls_of("place")) == 1
        intent = await d.store.intents.get(prepared.intent_id)
        assert intent is not None and intent.status == "UNKNOWN"


async def test_a_batch_cancelled_mid_way_still_closes_its_intent(tmp_path: Path) -> None:
    """Shutdown while slice 1 waits for its reply: it may have reached the broker (it did:
    unknown, for the tracker), slices 2 and 3 are skipped, the intent is closed, and nothing
    more is sent."""
    async with kotak_desk(tmp_path, hang=5.0, read_timeout=10.0) as (sim, d):
        future = await _nifty_future(d.index)
        assert future.freeze_qty is not None
        per_slice = (future.freeze_qty // future.lot_size) * future.lot_size
        high = await _resting_price(d.account, future, Side.SELL)
        ticket = OrderTicket(Side.SELL, future.key, 3 * per_slice, OrderType.LIMIT, high)
        prepared = await d.desk.prepare_order(1, 1, ticket)
        claimed = await d.desk.claim(prepared.intent_id, 1)
        sim.fail_next("place", "timeout")  # the order is created, the reply never comes
        task = asyncio.create_task(d.desk.execute(claimed))
        while not sim.orders:  # noqa: ASYNC110 - the simulator has no event to wait on
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        intent = await d.store.intents.get(prepared.intent_id)
        assert intent is not None and intent.status == "UNKNOWN"
        assert intent.result is not None and intent.result.count("not sent") == 2
        rows = await d.store.orders.in_send_order(prepared.intent_id)
        assert [r.status for r in rows] == ["UNKNOWN"]
        await asyncio.sleep(0.1)
        assert len(sim.calls_of("place")) == 1


# -- no market order leaves ---------------------------------------------------------------------


def _book_order(sim: KotakSimulator, price_type: str, trigger: str = "0") -> str:
    """An order placed outside the bot (the broker's app), as the book shows it."""
    number = f"{sim.today:%y%m%d}000000555"
    sim.orders[number] = SimOrder(
        no=number, inst=sim.instrument("NSE:SBIN"), side="B", qty=10, price_type=price_type,
        price=Decimal(0), trigger=Decimal(trigger), product="CNC", validity="DAY",
        tag="", status="trigger pending" if price_type == "SL-M" else "open",
    )  # fmt: skip
    return number


async def test_a_modify_of_a_market_order_goes_out_as_a_protected_limit(tmp_path: Path) -> None:
    async with kotak_desk(tmp_path) as (sim, d):
        number = _book_order(sim, "MKT")
        prepared = await d.desk.prepare_modify(1, 1, ModifyArgs(number, 20, None, None))
        assert prepared.order.order_type is OrderType.MARKET
        assert prepared.order_type is OrderType.LIMIT
        assert prepared.price == Decimal("816.45")  # LTP 812.35 + 0.5%, up to the tick
        assert prepared.explanation and "LTP 812.35" in prepared.explanation
        outcome = await d.desk.execute(await d.desk.claim(prepared.intent_id, 1))
        assert outcome.status == "done"
        [call] = sim.calls_of("modify")
        assert call.jdata is not None
        assert (call.jdata["pt"], call.jdata["pr"], call.jdata["qt"]) == ("L", "816.45", "20")


async def test_a_modify_of_a_market_order_at_the_users_price_is_a_limit(tmp_path: Path) -> None:
    async with kotak_desk(tmp_path) as (sim, d):
        number = _book_order(sim, "MKT")
        prepared = await d.desk.prepare_modify(1, 1, ModifyArgs(number, None, Decimal(810), None))
        assert (prepared.order_type, prepared.price) == (OrderType.LIMIT, Decimal(810))
        await d.desk.execute(await d.desk.claim(prepared.intent_id, 1))
        [call] = sim.calls_of("modify")
        assert call.jdata is not None and (call.jdata["pt"], call.jdata["pr"]) == ("L", "810")


async def test_a_modify_outside_the_exchanges_price_protection_is_refused(
    tmp_path: Path,
) -> None:
    """A modified limit is checked like a new one: inside the circuit but outside the F&O
    limit price protection range around the LTP is refused before the card, naming the range."""
    async with paper_desk(tmp_path) as (broker, d):
        future = await _nifty_future(d.index)
        low = await _resting_price(d.account, future)
        ticket = OrderTicket(Side.BUY, future.key, future.lot_size, OrderType.LIMIT, price=low)
        prepared = await d.desk.prepare_order(1, 1, ticket)
        await d.desk.execute(await d.desk.claim(prepared.intent_id, 1))
        [order] = await broker.orders()
        quote = (await broker.quotes([future]))[future.key]
        assert quote.ltp is not None and quote.lower_circuit is not None
        below = low - future.tick_size
        assert below >= quote.lower_circuit  # the circuit alone would let it through
        with pytest.raises(UserError) as info:
            await d.desk.prepare_modify(1, 1, ModifyArgs(order.order_id, None, below, None))
        assert info.value.reason == "outside_lpp"
        assert f"{low} to " in info.value.text and "(index futures above 10000.00: ±2%)" in (
            info.value.text
        )


async def test_a_modify_of_a_stop_loss_market_order_goes_out_as_a_stop_loss_limit(
    tmp_path: Path,
) -> None:
    async with kotak_desk(tmp_path) as (sim, d):
        number = _book_order(sim, "SL-M", trigger="820")
        prepared = await d.desk.prepare_modify(1, 1, ModifyArgs(number, 20, None, None))
        assert prepared.order_type is OrderType.SL and prepared.trigger_price == Decimal(820)
        assert prepared.price > Decimal(820)  # a BUY stop's limit is above its trigger
        await d.desk.execute(await d.desk.claim(prepared.intent_id, 1))
        [call] = sim.calls_of("modify")
        assert call.jdata is not None
        assert (call.jdata["pt"], call.jdata["tp"]) == ("SL", "820")
        assert Decimal(call.jdata["pr"]) == prepared.price


async def test_a_market_order_without_a_price_to_protect_from_cannot_be_modified(
    tmp_path: Path,
) -> None:
    async with kotak_desk(tmp_path) as (sim, d):
        number = _book_order(sim, "MKT")
        sim.set_ltp("NSE:SBIN", None)
        with pytest.raises(UserError) as refused:
            await d.desk.prepare_modify(1, 1, ModifyArgs(number, 20, None, None))
        assert refused.value.reason == "no_ltp"
        assert sim.calls_of("modify") == []


# -- the broker's problems in plain words ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["http500", "html", "malformed"])
async def test_a_quote_failure_on_the_way_to_a_card_is_the_brokers_problem(
    tmp_path: Path, mode: str
) -> None:
    async with kotak_desk(tmp_path) as (sim, d):
        for _ in range(3):  # however often a read is retried
            sim.fail_next("quotes", mode)
        with pytest.raises(UserError) as refused:
            await d.desk.prepare_order(1, 1, OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.MARKET))
        assert refused.value.reason == "broker_unavailable"
        assert refused.value.text.startswith("The broker could not give me a price for NSE:SBIN")
        assert "nothing was sent" in refused.value.text
        assert await d.store.intents.in_status("PENDING") == []


# -- what the card shows, and how it ends ----------------------------------------------------------


class MarginPaper(PaperBroker):
    """The paper broker whose margin check hangs or fails, as a broker's may."""

    def __init__(self, path: Path, mode: str) -> None:
        super().__init__(path, tick_seconds=0)
        self.mode = mode

    async def check_margin(self, request: OrderRequest) -> MarginCheck:
        if self.mode == "hang":
            await asyncio.Event().wait()
        if self.mode == "fail":
            raise BrokerUnavailable("margin service down")
        return await super().check_margin(request)


@pytest.mark.parametrize("mode", ["hang", "fail"])
async def test_a_slow_or_failing_margin_check_leaves_the_card_without_it(
    tmp_path: Path, mode: str
) -> None:
    broker = MarginPaper(tmp_path / "paper.json", mode)
    account = Account(broker, SlidingWindowLimiter(10, 1.0))
    async with _desk(account, tmp_path) as d:
        desk = OrderDesk(d.store, account, d.index, confirm_ttl=timedelta(60), margin_timeout=0.05)
        prepared = await desk.prepare_order(1, 1, SBIN_700)
        assert prepared.margin is None and prepared.ltp is not None
        assert await d.store.intents.in_status("PENDING") != []  # the card goes out


async def test_the_card_carries_the_margin_and_the_ltp(tmp_path: Path) -> None:
    async with paper_desk(tmp_path) as (broker, d):
        broker.set_price("NSE:SBIN", Decimal("807"))
        prepared = await d.desk.prepare_order(1, 1, SBIN_700)
        assert prepared.ltp == Decimal("807")
        assert prepared.margin == MarginCheck(Decimal("700.00"), Decimal("10000000000.00"), True)


async def test_after_the_sweep_a_tap_says_expired_and_the_card_keeps_its_order(
    tmp_path: Path,
) -> None:
    async with paper_desk(tmp_path) as (_, d):
        now = [datetime.now(UTC)]
        desk = OrderDesk(d.store, d.account, d.index, confirm_ttl=timedelta(60), now=lambda: now[0])
        prepared = await desk.prepare_order(1, 7, SBIN_700)
        await desk.attach_card(prepared.intent_id, 99)
        now[0] = prepared.expires_at + timedelta(seconds=1)
        [update] = await desk.expire_due()
        assert (update.card.chat_id, update.card.message_id) == (7, 99)
        assert update.content.status == "expired"
        assert update.content.prepared.plan.instrument.key == "NSE:SBIN"
        for _ in range(2):
            with pytest.raises(UserError) as refused:
                await desk.claim(prepared.intent_id, 1)
            assert refused.value.reason == "expired"
        view = await desk.expired_view(prepared.intent_id)
        assert view is not None and view.content.status == "expired"


async def test_a_new_trigger_on_a_stop_market_order_of_ours_moves_its_limit(
    tmp_path: Path,
) -> None:
    async with paper_desk(tmp_path) as (broker, d):
        broker.set_price("NSE:SBIN", Decimal("807"))
        stop = OrderTicket(
            Side.SELL, "NSE:SBIN", 1, OrderType.SL_M, trigger_price=Decimal(800), product=MIS
        )
        placed = await d.desk.prepare_order(1, 1, stop)
        assert placed.plan.price == Decimal("796.00")  # 800 - 0.5%, down to the tick
        outcome = await d.desk.execute(await d.desk.claim(placed.intent_id, 1))
        number = outcome.results[0].order_id
        assert number is not None

        moved = await d.desk.prepare_modify(1, 1, ModifyArgs(number, None, None, Decimal(790)))
        assert (moved.trigger_price, moved.price) == (Decimal(790), Decimal("786.05"))
        assert moved.explanation and "trigger 790" in moved.explanation
        own = await d.desk.prepare_modify(
            1, 1, ModifyArgs(number, None, Decimal(785), Decimal(790))
        )
        assert own.price == Decimal(785)  # a limit the user gives is theirs
        with pytest.raises(UserError) as refused:
            await d.desk.prepare_modify(1, 1, ModifyArgs(number, None, None, Decimal(810)))
        assert "below the LTP 807.00" in refused.value.text


async def test_a_new_trigger_on_a_stop_loss_limit_keeps_its_limit(tmp_path: Path) -> None:
    async with paper_desk(tmp_path) as (broker, d):
        broker.set_price("NSE:SBIN", Decimal("807"))
        stop = OrderTicket(
            Side.SELL, "NSE:SBIN", 1, OrderType.SL, Decimal(780), Decimal(800), product=MIS
        )
        placed = await d.desk.prepare_order(1, 1, stop)
        outcome = await d.desk.execute(await d.desk.claim(placed.intent_id, 1))
        number = outcome.results[0].order_id
        assert number is not None
        moved = await d.desk.prepare_modify(1, 1, ModifyArgs(number, None, None, Decimal(790)))
        assert (moved.trigger_price, moved.price) == (Decimal(790), Decimal(780))


async def test_an_amo_is_cancelled_as_an_amo_after_a_restart(tmp_path: Path) -> None:
    """The adapter remembers only the AMOs its own process placed; after a restart the desk
    says so from the order's own place in the store (Kotak `am: YES`), or the broker refuses
    the cancel of an AMO sent as a regular one."""
    evening = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)  # 18:30 IST, a Wednesday: AMO window
    async with kotak_desk(tmp_path) as (sim, d):
        before = OrderDesk(
            d.store, d.account, d.index, confirm_ttl=timedelta(60), hours=MarketHours(),
            now=lambda: evening,
        )  # fmt: skip
        sbin = d.index.resolve("NSE:SBIN")
        price = await _resting_price(d.account, sbin)
        ticket = OrderTicket(Side.BUY, sbin.key, 1, OrderType.LIMIT, price, product=Product.CNC)
        prepared = await before.prepare_order(1, 1, ticket)
        placed = await before.execute(await before.claim(prepared.intent_id, 1))
        [order_id] = [r.order_id for r in placed.results]
        assert order_id and sim.calls_of("place")[-1].jdata["am"] == "YES"

        restarted = Account(
            KotakBroker(kotak_config(sim, tmp_path / "again")),
            SlidingWindowLimiter(10, 1.0),
            totp=TotpSource(pyotp.random_base32()),
        )
        await restarted.start()
        try:
            after = OrderDesk(
                d.store, restarted, d.index, confirm_ttl=timedelta(60), hours=MarketHours(),
                now=lambda: evening,
            )  # fmt: skip
            cancel = await after.prepare_cancel(1, 1, order_id)
            await after.execute(await after.claim(cancel.intent_id, 1))
        finally:
            await restarted.stop()
        assert sim.calls_of("cancel")[-1].jdata == {"on": order_id, "am": "YES"}
