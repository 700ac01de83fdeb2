"""The unfilled-limit watch: a market request that went out as a protected limit and is still
open after UNFILLED_ALERT_SECONDS gets one push, with a way to re-price it or cancel it.

A protected limit sits one band beyond the LTP it was priced from (rules.md §2.1), so it stays
open only when the market ran past the band before it reached the exchange: the trader asked
for "now" and is not getting it, and should hear so instead of finding out from /orders. The
watch makes no broker call of its own to notice: the tracker keeps the order rows up to date
from the book, and the watch reads them (OPEN, PENDING or PARTIALLY_FILLED) and the intent that
sent them (`requested_type` MARKET).

Time is counted from the first look that saw the order open, in memory: a restart starts the
count again, and an order still open after it may be pushed once more (a second reminder,
never a missed one). Each order is pushed at most once while the bot runs, a re-price
included: a modified order keeps its row.

The buttons lead to the desk's normal cards, never to an order: re-price is a modify whose
price is recomputed from the current LTP by the same order policy as a new market order (so a
stale or missing LTP is refused the same way), cancel is the normal cancel card.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

from bot.accounts import Account
from bot.clock import utcnow
from bot.errors import UserError
from bot.explain import explain_read
from bot.notify.events import LimitUnfilled
from bot.orders.desk import OrderDesk
from bot.orders.intents import PlacePayload, load_payload
from bot.orders.outcomes import PreparedCancel, PreparedModify
from bot.orders.policy import OrderTicket, PolicyConfig, plan_order
from bot.parsing import ModifyArgs
from bot.store.connection import Store
from bot.store.orders import OrderRow
from brokers.errors import BrokerError
from brokers.models import OrderType, Side

log = logging.getLogger(__name__)

Publish = Callable[[LimitUnfilled], Awaitable[None]]

# Order rows whose order is working at the exchange and not (fully) filled.
_WAITING = ("PENDING", "OPEN", "PARTIALLY_FILLED")


class UnfilledWatch:
    def __init__(
        self,
        store: Store,
        account: Account,
        desk: OrderDesk,
        publish: Publish,
        *,
        after: timedelta,
        every: float = 5.0,
        policy: PolicyConfig | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        """`after` is UNFILLED_ALERT_SECONDS (zero: the watch never runs); `every` how often
        the order rows are read; `policy` the desk's, so a re-price is priced as /buy prices."""
        self._store = store
        self._account = account
        self._desk = desk
        self._publish = publish
        self._after = after
        self._every = every
        self._policy = policy or PolicyConfig()
        self._now = now
        self._first_seen: dict[str, datetime] = {}
        self._told: set[str] = set()
        self._market: dict[str, bool] = {}  # intent id → it was a market request
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._after > timedelta(0):
            self._task = asyncio.create_task(self._run(), name="unfilled-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def check(self) -> None:
        """One look at the order rows: push each protected market order open too long."""
        rows = await self._store.orders.in_states(_WAITING)
        now = self._now()
        live = {row.tag for row in rows}
        for gone in [tag for tag in self._first_seen if tag not in live]:
            del self._first_seen[gone]
        self._told &= live
        for row in rows:
            if row.tag in self._told or row.broker_order_id is None:
                continue
            first = self._first_seen.setdefault(row.tag, now)
            if now - first < self._after:
                continue
            self._told.add(row.tag)
            if await self._was_market(row.intent_id):
                await self._publish(_event(row, int((now - first).total_seconds())))

    async def _was_market(self, intent_id: str) -> bool:
        if intent_id not in self._market:
            intent = await self._store.intents.get(intent_id)
            market = False
            if intent is not None and intent.action == "place":
                payload = load_payload(intent.action, intent.payload)
                market = isinstance(payload, PlacePayload) and (
                    payload.requested_type is OrderType.MARKET
                )
            self._market[intent_id] = market
        return self._market[intent_id]

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("unfilled-limit check failed")
            await asyncio.sleep(self._every)

    # -- the push's buttons -------------------------------------------------------------------

    async def reprice(self, user_id: int, chat_id: int, order_id: str) -> PreparedModify:
        """A modify card for the user's order with its limit recomputed from the current LTP,
        exactly as a new market order of the same side would be priced."""
        row = await self._own(order_id, user_id)
        instrument = self._desk.index.resolve(row.symbol)
        try:
            quote = (await self._account.quotes([instrument])).get(instrument.key)
        except BrokerError as exc:
            raise explain_read(exc, f"a price for {instrument.key}") from None
        ticket = OrderTicket(Side(row.side), row.symbol, row.quantity, OrderType.MARKET)
        plan = plan_order(ticket, instrument, quote, self._now(), self._policy)
        args = ModifyArgs(order_id, None, plan.price, None)
        why = f"re-priced from the current LTP: {plan.explanation}" if plan.explanation else None
        return await self._desk.prepare_modify(user_id, chat_id, args, explanation=why)

    async def cancel(self, user_id: int, chat_id: int, order_id: str) -> PreparedCancel:
        """The normal cancel card for the user's order."""
        await self._own(order_id, user_id)
        return await self._desk.prepare_cancel(user_id, chat_id, order_id)

    async def _own(self, order_id: str, user_id: int) -> OrderRow:
        row = await self._store.orders.by_broker_id(order_id)
        if row is None:
            raise UserError("order_not_found", f"Order {order_id} is not one the bot placed.")
        if row.user_id != user_id:
            raise UserError("not_owner", "Only the person who placed this order can change it.")
        return row


def _event(row: OrderRow, waited: int) -> LimitUnfilled:
    assert row.broker_order_id is not None  # checked by the caller
    return LimitUnfilled(
        chat_id=row.chat_id,
        user_id=row.user_id,
        order_id=row.broker_order_id,
        key=row.symbol,
        side=row.side,
        quantity=row.quantity,
        filled_quantity=row.filled_quantity,
        price=Decimal(row.price),
        waited_seconds=waited,
    )
