"""The daily-limit guard over a real paper account and store: halts are written once and pushed
once, end with their trading day, and a resume waives the limit until an admin sets it again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.accounts import Account, SlidingWindowLimiter
from bot.errors import UserError
from bot.market.instruments import InstrumentIndex
from bot.notify.events import AdminEvent, LimitHalted
from bot.orders.guard import LimitGuard
from bot.orders.limits import DailyLimits, LimitKind
from bot.orders.policy import OrderPlan, OrderTicket, plan_order
from bot.store.connection import Store
from brokers.models import OrderRequest, OrderType, Product, Side
from brokers.paper import PaperBroker

# 10:00 IST on a weekday.
MORNING = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)


@dataclass
class Clock:
    at: datetime = MORNING

    def __call__(self) -> datetime:
        return self.at


@dataclass
class World:
    broker: PaperBroker
    index: InstrumentIndex
    guard: LimitGuard
    store: Store
    clock: Clock
    pushed: list[AdminEvent] = field(default_factory=list)

    def plan(self, side: Side, key: str, quantity: int, price: str) -> OrderPlan:
        ticket = OrderTicket(
            side, key, quantity, OrderType.LIMIT, Decimal(price), product=Product.MIS
        )
        return plan_order(ticket, self.index.resolve(key), None, MORNING)

    async def fill(self, side: Side, key: str, quantity: int, price: str) -> None:
        """An order straight at the paper broker, filled at `price`."""
        self.broker.set_price(key, Decimal(price))
        await self.broker.place_order(
            OrderRequest(
                self.index.resolve(key),
                side,
                quantity,
                OrderType.LIMIT,
                Decimal(price),
                Product.MIS,
                tag="T",
            )
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    broker = PaperBroker(tmp_path / "paper.json", capital=Decimal(10**9), tick_seconds=0)
    account = Account(broker, SlidingWindowLimiter(10, 1.0))
    store = await Store.open(tmp_path / "db.sqlite")
    await account.start()
    clock = Clock()
    pushed: list[AdminEvent] = []

    async def notify(event: AdminEvent) -> None:
        pushed.append(event)

    guard = LimitGuard(
        store.limits,
        account,
        name="family",
        defaults=DailyLimits(max_loss=Decimal(1000), max_orders=5),
        notify=notify,
        now=clock,
    )
    index = await InstrumentIndex.build(await account.instruments())
    try:
        yield World(broker, index, guard, store, clock, pushed)
    finally:
        await account.stop()
        await store.close()


async def _losing(world: World) -> None:
    """Long 100 SBIN from 800, now at 785: ₹1,500 down, past the ₹1,000 limit."""
    await world.fill(Side.BUY, "NSE:SBIN", 100, "800")
    world.broker.set_price("NSE:SBIN", Decimal("785"))


async def test_concurrent_checks_halt_once_and_push_once(world: World) -> None:
    await _losing(world)
    entry = world.plan(Side.BUY, "NSE:INFY", 1, "1498.30")
    results = await asyncio.gather(
        *(world.guard.check_order(entry) for _ in range(5)),
        world.guard.check_now(),
        return_exceptions=True,
    )
    refusals = [r for r in results if isinstance(r, UserError)]
    assert len(refusals) == 5 and {r.reason for r in refusals} == {"halted_loss"}
    assert refusals[0].text == (
        "Refused: new entries are halted since 10:00 IST: today's loss of ₹1,500.00 has "
        "reached the daily max loss of ₹1,000.00 (by ₹500.00). Exits (orders that only reduce "
        "an open position) are still allowed; an admin can lift the halt with /resume."
    )
    assert world.pushed == [LimitHalted("family", "loss", Decimal(1000), Decimal(1500), MORNING)]


async def test_exits_pass_while_halted_a_flip_does_not(world: World) -> None:
    await _losing(world)
    assert await world.guard.check_now() is not None
    await world.guard.check_order(world.plan(Side.SELL, "NSE:SBIN", 100, "785"))
    await world.guard.check_confirm(world.plan(Side.SELL, "NSE:SBIN", 40, "785"))
    with pytest.raises(UserError, match="halted"):
        await world.guard.check_order(world.plan(Side.SELL, "NSE:SBIN", 101, "785"))
    with pytest.raises(UserError, match="halted"):
        await world.guard.check_confirm(world.plan(Side.BUY, "NSE:SBIN", 1, "785"))


async def test_the_halt_ends_with_the_trading_day(world: World) -> None:
    await _losing(world)
    assert await world.guard.check_now() is not None
    world.clock.at = MORNING + timedelta(hours=18)  # 04:00 IST the next day
    assert await world.guard.halt() is None
    # Paper positions run on (a real broker's day positions would start flat): the loss is
    # still there, so the new day halts again, with a push of its own.
    assert await world.guard.check_now() is not None
    assert len(world.pushed) == 2


async def test_a_resume_waives_the_limit_until_it_is_set_again(world: World) -> None:
    await _losing(world)
    halt = await world.guard.check_now()
    assert halt is not None
    entry = world.plan(Side.BUY, "NSE:INFY", 1, "1498.30")
    await world.guard.resume(1, halt.id)
    with pytest.raises(UserError, match="no longer in force"):
        await world.guard.resume(1, halt.id)
    await world.guard.check_order(entry)  # the loss limit is waived for today
    view = await world.guard.view()
    assert view.halt is None and view.waived == {LimitKind.LOSS}
    world.clock.at += timedelta(seconds=1)
    await world.guard.set_limit(1, LimitKind.LOSS, Decimal(1200))  # re-armed, still hit
    with pytest.raises(UserError, match=r"max loss of ₹1,200\.00"):
        await world.guard.check_order(entry)
    assert len(world.pushed) == 2


async def test_an_admins_change_replaces_the_setting_and_off_removes_it(world: World) -> None:
    await world.guard.set_limit(1, LimitKind.ORDER_VALUE, Decimal(1000))
    await world.guard.set_limit(1, LimitKind.ORDERS, None)
    assert await world.guard.limits() == DailyLimits(Decimal(1000), None, Decimal(1000))
    with pytest.raises(UserError) as caught:
        await world.guard.check_order(world.plan(Side.BUY, "NSE:INFY", 1, "1498.30"))
    assert caught.value.reason == "limit_value"
    assert await world.guard.halt() is None and world.pushed == []


async def test_growing_an_order_is_an_entry_shrinking_or_an_exit_never(world: World) -> None:
    """A modify that adds to an open entry is refused while halted (as a new entry would be);
    one that shrinks it, or adds only what closes a position, passes; a re-price up must keep
    the order within the one-order value limit."""
    await _losing(world)
    assert await world.guard.check_now() is not None  # halted: ₹1,500 down
    infy = world.index.resolve("NSE:INFY")
    entry = await world.broker.place_order(
        OrderRequest(infy, Side.BUY, 2, OrderType.LIMIT, Decimal("1400"), Product.MIS, "E")
    )
    [open_entry] = [o for o in await world.broker.orders() if o.order_id == entry]
    with pytest.raises(UserError, match="halted"):
        await world.guard.check_modify(open_entry, 3, Decimal("1400"))
    await world.guard.check_modify(open_entry, 1, Decimal("1400"))  # shrinking: fine
    sbin = world.index.resolve("NSE:SBIN")
    world.broker.set_price("NSE:SBIN", Decimal("900"))  # the sell rests above the market
    exit_id = await world.broker.place_order(
        OrderRequest(sbin, Side.SELL, 40, OrderType.LIMIT, Decimal("950"), Product.MIS, "X")
    )
    [open_exit] = [o for o in await world.broker.orders() if o.order_id == exit_id]
    await world.guard.check_modify(open_exit, 100, Decimal("950"))  # still only closes
    with pytest.raises(UserError, match="halted"):
        await world.guard.check_modify(open_exit, 101, Decimal("950"))  # would flip


async def test_a_reprice_up_must_fit_the_one_order_limit(world: World) -> None:
    await world.guard.set_limit(1, LimitKind.ORDER_VALUE, Decimal(3000))
    infy = world.index.resolve("NSE:INFY")
    world.broker.set_price("NSE:INFY", Decimal("1600"))
    placed = await world.broker.place_order(
        OrderRequest(infy, Side.BUY, 2, OrderType.LIMIT, Decimal("1400"), Product.MIS, "E")
    )
    [order] = [o for o in await world.broker.orders() if o.order_id == placed]
    await world.guard.check_modify(order, 2, Decimal("1450"))  # ₹2,900
    with pytest.raises(UserError, match="value"):
        await world.guard.check_modify(order, 2, Decimal("1550"))  # ₹3,100
