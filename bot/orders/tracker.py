"""The order tracker: follows every order the bot placed until it is final, and settles unknown
outcomes against the broker's order book.

It polls the order book (through the account) while anything is followed and publishes one
event per change. Book rows are matched by our tag until the broker's order number is known,
then by the number only: Kotak rewrites the tag it echoes after a modify or a cancel
(kotak-neo.md §4.1, Kotak-neo-api-v2#33).

An order whose place had no usable answer (UNKNOWN) is never declared unplaced on one miss: only
after `patience.looks` looks over at least `patience.window` is the user told it is *not found
yet* (NOT_FOUND), and it stays watched for the rest of the trading day, so a late appearance is
announced. A modify or cancel with no usable answer is followed up the same way, by comparing the
book with what was asked for. Whenever such an outcome becomes known, the card that asked for it
is edited to show it (a `CardUpdate`), besides the push. Outcomes are settled only once the desk
has closed the intent, so the desk's own view of a card is always the older one.

A place card follows its orders: every change the book shows (a rejection right after the broker
took the order, a fill, a cancellation) edits the card, which is rebuilt from the order rows. A
change seen while the desk is still sending the card's batch is shown once the desk has closed
the intent (on the next look, which the desk's wake-up brings at once). A rejection is not pushed
as well when its card shows it: it comes at order entry, while the user is looking at the card;
fills and cancellations, which come any time later, are pushed besides.

At start-up (`recover`, before Telegram updates are read) orders left SENDING by a crash become
unknown outcomes, and orders still followed from an earlier (IST) trading day are closed out as
lapsed, with one push per chat, instead of being polled for ever. No card of an earlier run keeps
its buttons: one still waiting for an answer is expired (its card says so, with the order it
asked for), and one whose request was in flight shows that the book is being checked until the
tracker settles it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from bot.accounts import Account
from bot.clock import utcnow
from bot.market.instruments import InstrumentIndex
from bot.notify.events import (
    CardRef,
    CardUpdate,
    ChangeSettled,
    LapsedOrder,
    OrderCancelled,
    OrderFilled,
    OrderFound,
    OrderNotFound,
    OrderPartiallyFilled,
    OrderRejected,
    OrdersLapsed,
    UserEvent,
)
from bot.orders.changes import judge, not_applied
from bot.orders.expiry import expire
from bot.orders.intents import CancelPayload, ModifyPayload, PlacePayload, load_payload
from bot.orders.outcomes import (
    Outcome,
    PreparedCancel,
    PreparedExits,
    PreparedModify,
    PreparedOrder,
    SliceResult,
    place_outcome,
    prepared_of,
    summary,
)
from bot.store.connection import Store
from bot.store.intents import IntentRow
from bot.store.orders import LIVE_ORDER_STATES, OrderRow
from brokers.errors import BrokerError
from brokers.models import Order, OrderStatus

log = logging.getLogger(__name__)

IST = timezone(timedelta(hours=5, minutes=30))
# Rows followed: the live ones, and those not found yet (watched until their day ends).
WATCHED = (*LIVE_ORDER_STATES, "NOT_FOUND")
_UNSETTLED = ("UNKNOWN", "NOT_FOUND")
_INTERRUPTED = "The bot restarted while sending this order; I am checking the order book."
_INTERRUPTED_CHANGE = "The bot restarted while sending this; I am checking the order book."
# The intents whose cards are rebuilt from their order rows: a place, and several exits.
_PLACES = ("place", "exits")


@dataclass(frozen=True, slots=True)
class Patience:
    """How long an absence must last before it means something: at least `looks` successful
    looks at the order book, the first and last at least `window` apart. A broker's book can
    lag its order entry by seconds (more on a busy morning), so one miss proves nothing."""

    looks: int = 3
    window: timedelta = timedelta(minutes=3)


class _Absences:
    """Counts the looks that did not find something (an order, a change), per key."""

    def __init__(self, patience: Patience) -> None:
        self._patience = patience
        self._seen: dict[str, tuple[datetime, int]] = {}

    def missed(self, key: str, now: datetime) -> bool:
        """Note one more miss; True once patience has run out."""
        first, count = self._seen.get(key, (now, 0))
        self._seen[key] = (first, count + 1)
        return count + 1 >= self._patience.looks and now - first >= self._patience.window

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)


class OrderTracker:
    def __init__(
        self,
        store: Store,
        account: Account,
        publish: Callable[[UserEvent], Awaitable[None]],
        *,
        index: InstrumentIndex | None = None,
        poll_seconds: float = 2.0,
        patience: Patience | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._account = account
        self._publish = publish
        self._index = index
        self._poll = poll_seconds
        self._now = now
        self._absent = _Absences(patience or Patience())
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._day: date | None = None
        self._recovered = False
        self._lock = asyncio.Lock()  # a push and a poll must not both announce one change
        self._deferred: set[str] = set()  # cards changed while the desk was still sending

    def wake(self) -> None:
        """Look at the order book now (called right after orders are sent)."""
        self._wake.set()

    async def recover(self) -> None:
        """Start-up reconciliation; await it before Telegram updates are read. Orders of an
        earlier trading day are lapsed; orders and intents left SENDING by a crash may or may
        not have reached the broker, so they become unknown outcomes and their cards say so;
        then one look at the order book settles what it can (a failing broker is logged, and
        the polling goes on trying)."""
        self._recovered = True
        async with self._lock:
            await self._lapse_earlier_days()
            for row in await self._store.orders.in_states(("SENDING",)):
                await self._store.orders.update(row.tag, status="UNKNOWN", message=_INTERRUPTED)
            for intent in await self._store.intents.in_status("SENDING"):
                await self._store.intents.finish(intent.id, "UNKNOWN", "interrupted")
                if intent.action in _PLACES:
                    await self._refresh_card(intent.id)
                else:
                    await self._show_interrupted(intent)
            pending = await self._store.intents.in_status("PENDING")
            for update in await expire(self._store, self._index, pending):
                await self._publish(update)
        try:
            await self.check_once()
        except Exception:
            log.warning("start-up look at the order book failed", exc_info=True)

    async def start(self) -> None:
        """Recover (unless already done) and follow the order book in the background."""
        if not self._recovered:
            await self.recover()
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
                if row is not None and row.broker_order_id not in (None, order.order_id):
                    return
            if row is None or not await self._may_settle(row):
                return
            if await self._update(row, order):
                await self._refresh_card(row.intent_id)

    async def check_once(self) -> None:
        async with self._lock:
            await self._check()

    async def _check(self) -> None:
        await self._lapse_earlier_days()
        await self._show_deferred()
        rows = await self._store.orders.in_states(WATCHED)
        changes = [
            i for i in await self._store.intents.in_status("UNKNOWN") if i.action not in _PLACES
        ]
        if not rows and not changes:
            return
        book = await self._account.orders()
        now = self._now()
        by_id = {o.order_id: o for o in book}
        by_tag = {o.tag: o for o in book if o.tag}
        cards: set[str] = set()
        for row in rows:
            if not await self._may_settle(row):
                continue
            # by our tag only until the broker's number is known (the tag may be rewritten)
            number = row.broker_order_id
            order = by_id.get(number) if number else by_tag.get(row.tag)
            if order is None:
                if row.status == "UNKNOWN" and self._absent.missed(row.tag, now):
                    await self._not_found(row)
                    cards.add(row.intent_id)
                continue
            if await self._update(row, order):
                cards.add(row.intent_id)
        for intent in changes:
            await self._follow_change(intent, by_id, now)
        for intent_id in cards:
            await self._refresh_card(intent_id)

    async def _may_settle(self, row: OrderRow) -> bool:
        """SENDING rows are the desk's, and so are the unknown ones of an intent it has not
        closed yet: its view of the card must come first."""
        if row.status == "SENDING":
            return False
        if row.status not in _UNSETTLED:
            return row.status in WATCHED
        intent = await self._store.intents.get(row.intent_id)
        return intent is None or intent.status != "SENDING"

    async def _not_found(self, row: OrderRow) -> None:
        await self._store.orders.update(row.tag, status="NOT_FOUND")
        await self._publish(OrderNotFound(row.chat_id, row.symbol, row.side, row.quantity, row.tag))

    async def _update(self, row: OrderRow, order: Order) -> bool:
        """Write the book's view of `order` to its row and announce the change; False when
        the row already showed it."""
        status = order.status.value
        avg = str(order.average_price) if order.average_price is not None else None
        self._absent.forget(row.tag)
        if (
            row.broker_order_id == order.order_id
            and row.status == status
            and row.filled_quantity == order.filled_quantity
        ):
            return False
        await self._store.orders.update(
            row.tag,
            broker_order_id=order.order_id,
            status=status,
            filled_quantity=order.filled_quantity,
            average_price=avg,
            message=order.message,
        )
        base = (row.chat_id, order.order_id, row.symbol, row.side, order.quantity)
        if row.status in _UNSETTLED and not order.status.is_final:
            await self._publish(OrderFound(*base))
        match order.status:
            case OrderStatus.COMPLETE:
                await self._publish(OrderFilled(*base, average_price=order.average_price))
            case OrderStatus.REJECTED if not await self._has_card(row):
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
        return True

    async def _has_card(self, row: OrderRow) -> bool:
        """Whether the order's confirmation card can be edited to show what became of it."""
        if self._index is None:
            return False
        intent = await self._store.intents.get(row.intent_id)
        return intent is not None and intent.message_id is not None and intent.action in _PLACES

    # -- modify / cancel follow-ups ---------------------------------------------------------

    async def _follow_change(
        self, intent: IntentRow, book: dict[str, Order], now: datetime
    ) -> None:
        asked = load_payload(intent.action, intent.payload)
        if not isinstance(asked, ModifyPayload | CancelPayload):
            return
        order = book.get(asked.order.order_id)
        applied = judge(asked, order)
        if applied is None:
            if not self._absent.missed(intent.id, now):
                return
            applied = False
        self._absent.forget(intent.id)
        prepared = prepared_of(intent, self._index)
        quantity = asked.quantity if isinstance(asked, ModifyPayload) else asked.order.quantity
        if applied:
            result = SliceResult(quantity, order_id=asked.order.order_id)
            if isinstance(asked, ModifyPayload):
                await self._note_modified(asked)
        else:
            result = SliceResult(quantity, error=not_applied(asked, order), state="failed")
        outcome = Outcome(prepared, "done" if applied else "failed", (result,))
        await self._store.intents.finish(intent.id, outcome.status.upper(), summary((result,)))
        await self._publish(
            ChangeSettled(
                intent.chat_id,
                asked.order.order_id,
                asked.order.key,
                asked.order.side.value,
                "cancel" if isinstance(asked, CancelPayload) else "modify",
                applied,
                order.status.value.lower() if order is not None else None,
            )
        )
        await self._show(intent, outcome)

    async def _note_modified(self, asked: ModifyPayload) -> None:
        tracked = await self._store.orders.by_broker_id(asked.order.order_id)
        if tracked is not None:
            await self._store.orders.update(
                tracked.tag, quantity=asked.quantity, price=str(asked.price)
            )

    # -- cards --------------------------------------------------------------------------------

    async def _show_deferred(self) -> None:
        """Show the cards whose orders changed while the desk was sending them, once it is
        done: the desk's outcome was built before it closed the intent, so this view is newer
        and the notifier keeps it."""
        for intent_id in list(self._deferred):
            intent = await self._store.intents.get(intent_id)
            if intent is None or intent.status != "SENDING":
                self._deferred.discard(intent_id)
                await self._refresh_card(intent_id)

    async def _refresh_card(self, intent_id: str) -> None:
        """Rebuild a place card from its rows; close the intent once nothing on it is
        unknown any more; show the card. A card still being sent is shown later."""
        intent = await self._store.intents.get(intent_id)
        if intent is None or intent.action not in _PLACES:
            return
        if intent.status == "SENDING":
            self._deferred.add(intent_id)
            return
        if self._index is None:
            return  # no instruments to rebuild the card with (a tracker without cards)
        try:
            prepared = prepared_of(intent, self._index)
        except Exception:  # e.g. the instrument left the master since
            log.warning("cannot rebuild the card of intent %s", intent_id, exc_info=True)
            return
        assert isinstance(prepared, PreparedOrder | PreparedExits)
        outcome = place_outcome(prepared, await self._store.orders.in_send_order(intent_id))
        if intent.status == "UNKNOWN" and outcome.status != "unknown":
            await self._store.intents.finish(
                intent_id, outcome.status.upper(), summary(outcome.results)
            )
        await self._show(intent, outcome)

    async def _show_interrupted(self, intent: IntentRow) -> None:
        """A modify or cancel card whose request was in flight when the bot stopped: it loses
        its buttons and says the book is being checked (`_follow_change` settles it)."""
        try:
            prepared = prepared_of(intent, self._index)
        except Exception:
            log.warning("cannot rebuild the card of intent %s", intent.id, exc_info=True)
            return
        match prepared:
            case PreparedModify():
                quantity = prepared.quantity
            case PreparedCancel():
                quantity = prepared.order.quantity
            case _:
                return
        result = SliceResult(quantity, error=_INTERRUPTED_CHANGE, state="unknown")
        await self._show(intent, Outcome(prepared, "unknown", (result,)))

    async def _show(self, intent: IntentRow, outcome: Outcome) -> None:
        if intent.message_id is None:
            return
        card = CardRef(intent.chat_id, intent.message_id)
        await self._publish(CardUpdate(card, outcome, outcome.revision))

    # -- trading days -------------------------------------------------------------------------

    async def _amo_waits(self, row: OrderRow, today: date) -> bool:
        """Whether `row` is an AMO held for a session of today or later: it lives until the end
        of the trading day it was held for, not of the day it was placed (an evening AMO)."""
        intent = await self._store.intents.get(row.intent_id)
        if intent is None or intent.action != "place":
            return False
        payload = load_payload(intent.action, intent.payload)
        return (
            isinstance(payload, PlacePayload)
            and payload.amo_day is not None
            and payload.amo_day >= today
        )

    async def _lapse_earlier_days(self) -> None:
        """Once per IST day: close out what is still followed from an earlier day. Day orders
        end with their day; an order never found is not looked for any more."""
        today = self._now().astimezone(IST).date()
        if self._day == today:
            return
        self._day = today
        midnight = datetime(today.year, today.month, today.day, tzinfo=IST)
        rows = [
            row
            for row in await self._store.orders.created_before(midnight, WATCHED)
            if not await self._amo_waits(row, today)
        ]
        lapsed: dict[int, list[LapsedOrder]] = defaultdict(list)
        cards: set[str] = set()
        for row in rows:
            await self._store.orders.update(row.tag, status="LAPSED")
            self._absent.forget(row.tag)
            found = row.broker_order_id is not None
            lapsed[row.chat_id].append(
                LapsedOrder(row.symbol, row.side, row.quantity, row.broker_order_id, found)
            )
            if row.status in (*_UNSETTLED, "SENDING"):
                cards.add(row.intent_id)
        for chat_id, orders in lapsed.items():
            await self._publish(OrdersLapsed(chat_id, tuple(orders)))
        for intent_id in cards:
            intent = await self._store.intents.get(intent_id)
            if intent is not None and intent.status == "SENDING":
                await self._store.intents.finish(intent_id, "UNKNOWN", "interrupted")
            await self._refresh_card(intent_id)
