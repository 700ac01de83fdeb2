"""What the order-feed tests of both adapters share: fast feed timings, a stream of updates in a
task, and a wait on simulator state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Protocol

import pytest

from brokers.feed_loop import FeedSettings
from brokers.models import Instrument, Order, OrderRequest, OrderStatus, OrderType, Product, Side

FAST = FeedSettings(
    ack_timeout=0.3,
    ping_interval=5.0,
    ping_timeout=5.0,
    open_timeout=2.0,
    close_timeout=1.0,
    backoff_initial=0.05,
    backoff_cap=0.2,
    session_poll=0.05,
)
WAIT = 3.0  # generous per-step ceiling; each step normally takes milliseconds


class FeedBroker(Protocol):
    """`StreamsOrders` plus the `settings` both adapters take for tests."""

    async def stream_orders(
        self,
        on_update: Callable[[Order], Awaitable[None]],
        *,
        settings: FeedSettings | None = None,
    ) -> None: ...


class Places(Protocol):
    async def resolve(self, key: str) -> Instrument: ...

    async def place_order(self, request: OrderRequest) -> str: ...


async def place(broker: Places, qty: int = 10, price: str = "812.00", tag: str = "t1") -> str:
    """A limit buy of NSE:SBIN (both simulators list it)."""
    request = OrderRequest(
        instrument=await broker.resolve("NSE:SBIN"),
        side=Side.BUY,
        quantity=qty,
        order_type=OrderType.LIMIT,
        price=Decimal(price),
        product=Product.CNC,
        tag=tag,
    )
    return await broker.place_order(request)


class Stream:
    """`broker.stream_orders` in a task, with every update queued for the test and kept in
    `seen`. `fail_first`: the consumer raises on its first update (a bug in it), which must not
    stop the feed."""

    def __init__(self, broker: FeedBroker, *, fail_first: bool = False) -> None:
        self.updates: asyncio.Queue[Order] = asyncio.Queue()
        self.seen: list[Order] = []
        self.broker = broker
        self.task: asyncio.Task[None] | None = None
        self._fail_first = fail_first

    async def on_update(self, order: Order) -> None:
        self.seen.append(order)
        await self.updates.put(order)
        if self._fail_first and len(self.seen) == 1:
            raise RuntimeError("consumer bug")

    def start(self) -> None:
        self.task = asyncio.create_task(self.broker.stream_orders(self.on_update, settings=FAST))

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        assert self.task.cancelled()

    async def next_for(self, order_id: str, status: OrderStatus) -> Order:
        """Updates for `order_id` until one has `status`; fails after WAIT."""
        async with asyncio.timeout(WAIT):
            while True:
                order = await self.updates.get()
                if order.order_id == order_id and order.status is status:
                    return order


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll simulator state (plain attributes, nothing to await) until `condition` holds."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for: {what}")
        await asyncio.sleep(0.01)
