"""The order tracker: follows every order the bot placed until it is final, and reconciles
unknown outcomes.

It polls the broker's order book (through the account) while any order is live, matches rows
by broker order id or, for a place that timed out, by our tag, and publishes one event per change.
An UNKNOWN order that does not appear within `unknown_grace` is declared not placed: the user is
told, and it is never re-sent automatically.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.accounts import Account
from bot.clock import utcnow
from bot.notify.events import (
    OrderCancelled,
    OrderFilled,
    OrderFound,
    OrderNotPlaced,
    OrderPartiallyFilled,
    OrderRejected,
    UserEvent,
)
from bot.store.connection import Store
from bot.store.orders import LIVE_ORDER_STATES, OrderRow
from brokers.errors import BrokerError
from brokers.models import Order, OrderStatus

log = logging.getLogger(__name__)


class OrderTracker:
    def __init__(
        self,
        store: Store,
        account: Account,
        publish: Callable[[UserEvent], Awaitable[None]],
        *,
        poll_seconds: float = 2.0,
        unknown_grace: timedelta = timedelta(seconds=60),
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._account = account
        self._publish = publish
        self._poll = poll_seconds
        self._grace = unknown_grace
        self._now = now
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unknown_since: dict[str, datetime] = {}
        self._lock = asyncio.Lock()  # a push and a poll must not both announce one change

    def wake(self) -> None:
        """Look at the order book now (called right after orders are sent)."""
        self._wake.set()

    async def start(self) -> None:
        """Orders left SENDING by a crash may or may not have reached the broker: they are
        unknown outcomes and get reconciled like timeouts."""
        for row in await self._store.orders.live():
            if row.status == "SENDING":
                await self._store.orders.update(row.tag, status="UNKNOWN")
        self._task = asyncio.create_task(self._run(), name="order-tracker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.check_once()
            except BrokerError as exc:
                log.warning("order book check failed: %s", exc.message)
            except Exception:
                log.exception("order tracker step failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            self._wake.clear()

    async def apply(self, order: Order) -> None:
        """A pushed update (a broker's order feed), handled exactly like a row of the polled
        book; updates for orders the bot did not place are ignored."""
        async with self._lock:
            row = await self._store.orders.by_broker_id(order.order_id)
            if row is None and order.tag:
                row = await self._store.orders.by_tag(order.tag)
            if row is not None and row.status in LIVE_ORDER_STATES and row.status != "SENDING":
                await self._update(row, order)

    async def check_once(self) -> None:
        async with self._lock:
            await self._check()

    async def _check(self) -> None:
        live = await self._store.orders.live()
        if not live:
            return
        book = await self._account.orders()
        by_id = {o.order_id: o for o in book}
        by_tag = {o.tag: o for o in book if o.tag}
        for row in live:
            if row.status == "SENDING":
                continue  # the desk is sending it right now
            order = by_id.get(row.broker_order_id or "") or by_tag.get(row.tag)
            if order is None:
                if row.status == "UNKNOWN":
                    await self._unknown_missing(row)
                continue
            await self._update(row, order)

    async def _unknown_missing(self, row: OrderRow) -> None:
        first = self._unknown_since.setdefault(row.tag, self._now())
        if self._now() - first < self._grace:
            return
        await self._store.orders.update(row.tag, status="NOT_PLACED")
        self._unknown_since.pop(row.tag, None)
        await self._publish(
            OrderNotPlaced(row.chat_id, row.symbol, row.side, row.quantity, row.tag)
        )

    async def _update(self, row: OrderRow, order: Order) -> None:
        status = order.status.value
        avg = str(order.average_price) if order.average_price is not None else None
        if (
            row.broker_order_id == order.order_id
            and row.status == status
            and row.filled_quantity == order.filled_quantity
        ):
            return
        await self._store.orders.update(
            row.tag,
            broker_order_id=order.order_id,
            status=status,
            filled_quantity=order.filled_quantity,
            average_price=avg,
            message=order.message,
        )
        self._unknown_since.pop(row.tag, None)
        base = (row.chat_id, order.order_id, row.symbol, row.side, order.quantity)
        if row.status == "UNKNOWN" and not order.status.is_final:
            await self._publish(OrderFound(*base))
        match order.status:
            case OrderStatus.COMPLETE:
                await self._publish(OrderFilled(*base, average_price=order.average_price))
            case OrderStatus.REJECTED:
                await self._publish(OrderRejected(*base, reason=order.message))
            case OrderStatus.CANCELLED:
                await self._publish(OrderCancelled(*base))
            case OrderStatus.PARTIALLY_FILLED if order.filled_quantity != row.filled_quantity:
                await self._publish(
                    OrderPartiallyFilled(
                        *base,
                        filled_quantity=order.filled_quantity,
                        average_price=order.average_price,
                    )
                )
            case _:
                pass
