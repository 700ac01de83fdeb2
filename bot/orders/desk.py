"""The order desk: from a parsed request to a confirmed, sent order.

1. `prepare_*` applies the order policy and stores a PENDING intent (random id, owner, frozen
   payload, expiry) before the user sees a confirmation card.
2. `confirm` checks the owner, then moves the intent PENDING → SENDING with a compare-and-set in
   SQLite: whatever the taps, retries or restarts, exactly one caller wins, and an intent never
   goes back to PENDING, so a confirmation executes at most once.
3. Each order row is written (status SENDING, with our tag) before its request leaves. A timeout
   is an unknown outcome: the row becomes UNKNOWN and the tracker reconciles it by tag against the
   broker's order book. A place is never re-sent.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from bot.accounts import Account
from bot.clock import utcnow
from bot.errors import UserError
from bot.explain import explain
from bot.market.instruments import InstrumentIndex
from bot.orders.intents import (
    CancelPayload,
    ModifyPayload,
    OrderPayload,
    Payload,
    PlacePayload,
    dump_payload,
    load_payload,
)
from bot.orders.policy import OrderPlan, OrderTicket, PolicyConfig, plan_order
from bot.orders.protection import check_tick
from bot.orders.quantity import check_lots
from bot.parsing import ModifyArgs
from bot.store.connection import Store
from brokers.errors import BrokerError, UnknownOutcome
from brokers.models import (
    ModifyRequest,
    Order,
    OrderRequest,
    OrderType,
    Side,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int], Awaitable[None]]


def new_tag() -> str:
    """Our order tag: short, unique, ASCII; brokers echo it in the order book."""
    return "TB" + secrets.token_hex(5).upper()


# -- what a confirmation card shows ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreparedOrder:
    intent_id: str
    plan: OrderPlan
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PreparedModify:
    intent_id: str
    order: Order
    quantity: int
    price: Decimal
    trigger_price: Decimal | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PreparedCancel:
    intent_id: str
    order: Order
    expires_at: datetime


Prepared = PreparedOrder | PreparedModify | PreparedCancel


@dataclass(frozen=True, slots=True)
class SliceResult:
    quantity: int
    order_id: str | None = None
    error: str | None = None
    unknown: bool = False


OutcomeStatus = Literal["done", "partial", "failed", "unknown", "declined"]


@dataclass(frozen=True, slots=True)
class Outcome:
    prepared: Prepared
    status: OutcomeStatus
    results: tuple[SliceResult, ...] = field(default_factory=tuple)


class OrderDesk:
    def __init__(
        self,
        store: Store,
        account: Account,
        index: InstrumentIndex,
        *,
        confirm_ttl: timedelta,
        policy: PolicyConfig | None = None,
        now: Callable[[], datetime] = utcnow,
        on_orders_sent: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._account = account
        self.index = index
        self._ttl = confirm_ttl
        self._policy = policy or PolicyConfig()
        self._now = now
        self._on_orders_sent = on_orders_sent

    # -- prepare -----------------------------------------------------------------------------

    async def prepare_order(self, user_id: int, chat_id: int, ticket: OrderTicket) -> PreparedOrder:
        instrument = self.index.resolve(ticket.key)
        self._account.check_orders_open()
        quote = (await self._account.quotes([instrument])).get(instrument.key)
        plan = plan_order(ticket, instrument, quote, self._now(), self._policy)
        intent_id, expires = await self._store_intent(
            user_id, chat_id, PlacePayload.from_plan(plan)
        )
        return PreparedOrder(intent_id, plan, expires)

    async def prepare_modify(self, user_id: int, chat_id: int, args: ModifyArgs) -> PreparedModify:
        self._account.check_orders_open()
        order = await self._open_order(args.order_id)
        instrument = self.index.resolve(order.key)
        quantity = args.quantity if args.quantity is not None else order.quantity
        check_lots(quantity, instrument)
        if instrument.freeze_qty is not None and quantity > instrument.freeze_qty:
            raise UserError(
                "above_freeze",
                f"{quantity} is above the exchange freeze quantity {instrument.freeze_qty} for "
                f"{instrument.key}; a single order cannot be that large.",
            )
        price = args.price if args.price is not None else order.price
        check_tick(price, instrument.tick_size)
        trigger = order.trigger_price
        if args.trigger_price is not None:
            if order.order_type is not OrderType.SL:
                raise UserError(
                    "bad_trigger", "Only stop-loss orders have a trigger price to change."
                )
            check_tick(args.trigger_price, instrument.tick_size)
            trigger = args.trigger_price
        if trigger is not None and (
            (order.side is Side.BUY and price < trigger)
            or (order.side is Side.SELL and price > trigger)
        ):
            raise UserError(
                "bad_trigger",
                "For a stop-loss BUY the price must be at or above the trigger; for a SELL, at "
                "or below it.",
            )
        if (quantity, price, trigger) == (order.quantity, order.price, order.trigger_price):
            raise UserError("no_change", "The order already has those values; nothing to change.")
        payload = ModifyPayload(OrderPayload.from_order(order), quantity, price, trigger)
        intent_id, expires = await self._store_intent(user_id, chat_id, payload)
        return PreparedModify(intent_id, order, quantity, price, trigger, expires)

    async def prepare_cancel(self, user_id: int, chat_id: int, order_id: str) -> PreparedCancel:
        self._account.check_orders_open()
        order = await self._open_order(order_id)
        payload = CancelPayload(OrderPayload.from_order(order))
        intent_id, expires = await self._store_intent(user_id, chat_id, payload)
        return PreparedCancel(intent_id, order, expires)

    async def attach_card(self, intent_id: str, message_id: int) -> None:
        await self._store.intents.set_message(intent_id, message_id)

    async def _open_order(self, order_id: str) -> Order:
        try:
            book = await self._account.orders()
        except BrokerError as exc:
            raise explain(exc) from None
        for order in book:
            if order.order_id == order_id:
                if order.status.is_final:
                    raise UserError(
                        "order_closed",
                        f"Order {order_id} is already {order.status.value.lower()}; it cannot "
                        "be changed.",
                    )
                return order
        raise UserError("order_not_found", f"There is no order {order_id} in today's order book.")

    async def _store_intent(
        self, user_id: int, chat_id: int, payload: Payload
    ) -> tuple[str, datetime]:
        intent_id = secrets.token_urlsafe(9)
        expires = self._now() + self._ttl
        await self._store.intents.add(
            intent_id,
            user_id=user_id,
            chat_id=chat_id,
            action=payload.action,
            payload=dump_payload(payload),
            expires_at=expires,
        )
        return intent_id, expires

    # -- answer ------------------------------------------------------------------------------

    async def claim(self, intent_id: str, user_id: int, to_status: str = "SENDING") -> Prepared:
        """The owner check and the compare-and-set that only one tap can win. Fast (no broker
        call), so a front end can answer the tap before `execute` does the sending."""
        intent = await self._store.intents.get(intent_id)
        if intent is None:
            raise UserError("unknown_intent", "This confirmation is not valid; nothing was sent.")
        if intent.user_id != user_id:
            raise UserError("not_owner", "Only the person who asked can answer this.")
        if intent.status == "PENDING" and await self._store.intents.transition(
            intent_id, "PENDING", to_status, unexpired_at=self._now()
        ):
            return self._prepared(intent.id, intent.action, intent.payload, intent.expires_at)
        if await self._store.intents.transition(intent_id, "PENDING", "EXPIRED", unexpired_at=None):
            raise UserError(
                "expired",
                f"This confirmation expired after {int(self._ttl.total_seconds())} s; nothing "
                "was sent. Send the command again.",
            )
        raise UserError("already_answered", "This was already answered; nothing more was done.")

    def _prepared(
        self, intent_id: str, action: str, payload: dict[str, Any], expires: datetime
    ) -> Prepared:
        match load_payload(action, payload):
            case PlacePayload() as place:
                return PreparedOrder(intent_id, place.to_plan(self.index), expires)
            case ModifyPayload() as modify:
                return PreparedModify(
                    intent_id,
                    modify.order.to_order(),
                    modify.quantity,
                    modify.price,
                    modify.trigger_price,
                    expires,
                )
            case CancelPayload() as cancel:
                return PreparedCancel(intent_id, cancel.order.to_order(), expires)

    async def decline(self, intent_id: str, user_id: int) -> Outcome:
        prepared = await self.claim(intent_id, user_id, "DECLINED")
        await self._store.intents.finish(intent_id, "DECLINED", "declined by the user")
        return Outcome(prepared, "declined")

    async def execute(self, prepared: Prepared, progress: Progress | None = None) -> Outcome:
        """Send a claimed intent. Call only with what `claim` returned."""
        intent_id = prepared.intent_id
        intent = await self._store.intents.get(intent_id)
        if intent is None or intent.status != "SENDING":
            raise UserError("already_answered", "This was already answered; nothing more was done.")
        match prepared:
            case PreparedOrder():
                results = await self._place(prepared, intent.user_id, intent.chat_id, progress)
            case PreparedModify():
                results = (await self._modify(prepared),)
            case PreparedCancel():
                results = (await self._cancel(prepared),)
        status = _overall(results)
        summary = "; ".join(r.order_id or r.error or "?" for r in results)
        await self._store.intents.finish(intent_id, status.upper(), summary)
        self._on_orders_sent()
        return Outcome(prepared, status, results)

    async def _place(
        self, prepared: PreparedOrder, user_id: int, chat_id: int, progress: Progress | None
    ) -> tuple[SliceResult, ...]:
        plan = prepared.plan
        results: list[SliceResult] = []
        for number, quantity in enumerate(plan.slices, start=1):
            if results and results[-1].order_id is None:
                results.append(SliceResult(quantity, error="not sent: an earlier slice failed"))
                continue
            tag = new_tag()
            await self._store.orders.add(
                tag,
                intent_id=prepared.intent_id,
                broker=self._account.broker.name,
                user_id=user_id,
                chat_id=chat_id,
                symbol=plan.instrument.key,
                side=plan.side.value,
                quantity=quantity,
                price=str(plan.price),
            )
            request = OrderRequest(
                instrument=plan.instrument,
                side=plan.side,
                quantity=quantity,
                order_type=plan.order_type,
                price=plan.price,
                product=plan.product,
                tag=tag,
                trigger_price=plan.trigger_price,
            )
            results.append(await self._send_one(tag, request))
            if progress is not None and len(plan.slices) > 1:
                await progress(number, len(plan.slices))
        return tuple(results)

    async def _send_one(self, tag: str, request: OrderRequest) -> SliceResult:
        try:
            order_id = await self._account.place(request)
        except UnknownOutcome as exc:
            await self._store.orders.update(tag, status="UNKNOWN", message=exc.message)
            return SliceResult(request.quantity, error=explain(exc).text, unknown=True)
        except BrokerError as exc:
            text = explain(exc).text
            await self._store.orders.update(tag, status="FAILED", message=text)
            return SliceResult(request.quantity, error=text)
        except UserError as exc:
            await self._store.orders.update(tag, status="FAILED", message=exc.text)
            return SliceResult(request.quantity, error=exc.text)
        except Exception:
            # A bug or an unexpected failure after the request may have left: we cannot know
            # whether the order exists, so it is reconciled by tag like a timeout.
            log.exception("unexpected error while placing %s", tag)
            await self._store.orders.update(tag, status="UNKNOWN", message="unexpected error")
            return SliceResult(
                request.quantity,
                error="Something went wrong while sending; I am checking the order book.",
                unknown=True,
            )
        await self._store.orders.update(tag, broker_order_id=order_id, status="PENDING")
        return SliceResult(request.quantity, order_id=order_id)

    async def _modify(self, prepared: PreparedModify) -> SliceResult:
        order = prepared.order
        request = ModifyRequest(
            order_id=order.order_id,
            instrument=self.index.resolve(order.key),
            side=order.side,
            quantity=prepared.quantity,
            order_type=order.order_type,
            price=prepared.price,
            product=order.product,
            trigger_price=prepared.trigger_price,
        )
        try:
            order_id = await self._account.modify(request)
        except BrokerError as exc:
            return SliceResult(prepared.quantity, error=explain(exc).text, unknown=_unknown(exc))
        except UserError as exc:
            return SliceResult(prepared.quantity, error=exc.text)
        tracked = await self._store.orders.by_broker_id(order.order_id)
        if tracked is not None:
            await self._store.orders.update(
                tracked.tag, quantity=prepared.quantity, price=str(prepared.price)
            )
        return SliceResult(prepared.quantity, order_id=order_id)

    async def _cancel(self, prepared: PreparedCancel) -> SliceResult:
        order = prepared.order
        try:
            order_id = await self._account.cancel(order.order_id)
        except BrokerError as exc:
            return SliceResult(order.quantity, error=explain(exc).text, unknown=_unknown(exc))
        except UserError as exc:
            return SliceResult(order.quantity, error=exc.text)
        return SliceResult(order.quantity, order_id=order_id)

    async def expire_due(self) -> list[tuple[int, int]]:
        """Expire PENDING intents past their time; returns (chat_id, message_id) of their cards
        so the caller can take the buttons away."""
        expired = []
        for intent in await self._store.intents.in_status("PENDING"):
            if intent.expires_at > self._now():
                continue
            moved = await self._store.intents.transition(
                intent.id, "PENDING", "EXPIRED", unexpired_at=None
            )
            if moved and intent.message_id is not None:
                expired.append((intent.chat_id, intent.message_id))
        return expired


def _unknown(exc: BrokerError) -> bool:
    return isinstance(exc, UnknownOutcome)


def _overall(results: tuple[SliceResult, ...]) -> OutcomeStatus:
    if any(r.unknown for r in results):
        return "unknown"
    ok = sum(1 for r in results if r.order_id is not None)
    if ok == len(results):
        return "done"
    return "partial" if ok else "failed"
