"""The order tracker: pushed and polled updates feed one path and announce each change once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bot.accounts import Account, SlidingWindowLimiter
from bot.market.instruments import InstrumentIndex
from bot.notify.events import Event, OrderFilled, OrderFound, OrderNotPlaced
from bot.orders.desk import OrderDesk
from bot.orders.policy import OrderTicket
from bot.orders.tracker import OrderTracker
from bot.store.connection import Store
from brokers.models import OrderStatus, OrderType, Side
from brokers.paper import PaperBroker


async def _rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    broker = PaperBroker(tmp_path / "paper.json", tick_seconds=0)
    store = await Store.open(tmp_path / "db.sqlite")
    account = Account(broker, SlidingWindowLimiter(10, 1.0))
    await account.start()
    index = await InstrumentIndex.build(await account.instruments())
    events: list[Event] = []

    async def publish(event: Event) -> None:
        events.append(event)

    tracker = OrderTracker(store, account, publish, unknown_grace=timedelta(0))
    desk = OrderDesk(store, account, index, confirm_ttl=timedelta(seconds=60))
    return broker, store, account, tracker, desk, events


async def test_a_pushed_fill_and_a_later_poll_announce_once(tmp_path: Path) -> None:
    broker, store, account, tracker, desk, events = await _rig(tmp_path)
    broker.set_price("NSE:SBIN", Decimal("808.30"))
    ticket = OrderTicket(Side.BUY, "NSE:SBIN", 2, OrderType.LIMIT, price=Decimal("800"))
    prepared = await desk.prepare_order(1, 1, ticket)
    outcome = await desk.execute(await desk.claim(prepared.intent_id, 1))
    order_id = outcome.results[0].order_id
    broker.set_price("NSE:SBIN", Decimal("799.00"))
    [filled] = await broker.orders()
    assert filled.status is OrderStatus.COMPLETE and filled.order_id == order_id

    await tracker.apply(filled)
    await tracker.check_once()
    await tracker.apply(filled)
    assert [type(e) for e in events] == [OrderFilled]
    assert (await store.orders.live()) == []
    await account.stop()
    await store.close()


async def test_an_unknown_order_missing_from_the_book_is_declared_not_placed(
    tmp_path: Path,
) -> None:
    broker, store, account, tracker, desk, events = await _rig(tmp_path)
    ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal("700"))
    prepared = await desk.prepare_order(1, 1, ticket)
    await store.orders.add(
        "TBLOST", intent_id=prepared.intent_id, broker="paper", user_id=1, chat_id=1,
        symbol="NSE:SBIN", side="BUY", quantity=1, price="700",
    )  # fmt: skip
    await store.orders.update("TBLOST", status="UNKNOWN")
    await tracker.check_once()  # first sighting starts the grace period (zero here)
    await tracker.check_once()
    assert [type(e) for e in events] == [OrderNotPlaced]
    assert await broker.orders() == []  # and it was never re-sent
    await account.stop()
    await store.close()


async def test_a_place_timeout_is_reconciled_by_tag_and_never_resent(tmp_path: Path) -> None:
    import httpx
    import pyotp

    from bot.accounts.totp import TotpSource
    from brokers.kotak import KotakBroker
    from brokers.kotak.config import KotakTimeouts
    from tests.fakes.kotak_sim import KotakSimulator, kotak_config

    quick = httpx.Timeout(0.3, connect=2.0)
    async with KotakSimulator(expected_totp=lambda c: True, hang_seconds=1.0) as sim:
        broker = KotakBroker(kotak_config(sim, tmp_path, timeouts=KotakTimeouts(orders=quick)))
        store = await Store.open(tmp_path / "db.sqlite")
        totp = TotpSource(pyotp.random_base32())
        account = Account(broker, SlidingWindowLimiter(10, 1.0), totp=totp)
        try:
            await account.start()
            index = await InstrumentIndex.build(await account.instruments())
            events: list[Event] = []

            async def publish(event: Event) -> None:
                events.append(event)

            tracker = OrderTracker(store, account, publish)
            desk = OrderDesk(store, account, index, confirm_ttl=timedelta(seconds=60))
            ticket = OrderTicket(Side.BUY, "NSE:SBIN", 1, OrderType.LIMIT, price=Decimal("800"))
            prepared = await desk.prepare_order(1, 1, ticket)
            sim.fail_next("place", "timeout")
            outcome = await desk.execute(await desk.claim(prepared.intent_id, 1))
            assert outcome.status == "unknown" and outcome.results[0].unknown
            [row] = await store.orders.live()
            assert row.status == "UNKNOWN" and row.broker_order_id is None

            await tracker.check_once()
            [found] = events
            assert isinstance(found, OrderFound)
            [order_no] = sim.orders
            assert found.order_id == order_no
            assert len(sim.calls_of("place")) == 1  # reconciled, not re-sent
            reconciled = await store.orders.by_tag(row.tag)
            assert reconciled is not None and reconciled.broker_order_id == order_no
        finally:
            await account.stop()
            await store.close()
