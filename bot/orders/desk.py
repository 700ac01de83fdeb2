"""The order desk: from a parsed request to a confirmed, sent order.

1. `prepare_*` applies the order policy and stores a PENDING intent (random id, owner, frozen
   payload, expiry) before the user sees a confirmation card.
2. `claim` checks the owner, then moves the intent PENDING → SENDING with a compare-and-set in
   SQLite: whatever the taps, retries or restarts, exactly one caller wins, and an intent never
   goes back to PENDING, so a confirmation executes at most once. The first order row is written
   in the same transaction as the claim (one commit, one trip to the database thread: the row
   exists only for the tap that won), so the claim and the row are both in SQLite before
   anything is sent, as every intent, order and audit line is before the bot acts on it.
3. Each order row is written (status SENDING, with our tag) before its request leaves. A timeout
   is an unknown outcome: the row becomes UNKNOWN and the tracker reconciles it by tag against the
   broker's order book. A place is never re-sent.
4. Never half: whatever fails while a batch is sent (a card edit, a bug), every slice is sent or
   explicitly skipped and the intent is closed with its outcome. No MARKET or SL-M order leaves,
   a modify included: a modify of such an order is sent as a protected LIMIT or SL one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.accounts import Account
from bot.clock import utcnow
from bot.errors import UserError
from bot.explain import explain, explain_read
from bot.market.hours import MarketHours
from bot.market.instruments import InstrumentIndex
from bot.notify.events import CardUpdate
from bot.orders.expiry import expire, expired_view
from bot.orders.guard import LimitGuard
from bot.orders.intents import (
    CancelPayload,
    ExitsPayload,
    ModifyPayload,
    OrderPayload,
    Payload,
    PlacePayload,
    dump_payload,
    load_payload,
)
from bot.orders.outcomes import (
    Outcome,
    Prepared,
    PreparedCancel,
    PreparedExits,
    PreparedModify,
    PreparedOrder,
    SliceResult,
    SliceState,
    overall,
    prepared_of,
    summary,
    with_skipped,
)
from bot.orders.policy import (
    OrderPlan,
    OrderTicket,
    PolicyConfig,
    check_band,
    check_stop_side,
    plan_order,
)
from bot.orders.protection import check_tick, protect_stop
from bot.orders.quantity import check_lots
from bot.orders.sessions import SessionCheck, check_session
from bot.store.connection import Store
from bot.store.intents import IntentRepo, IntentRow
from bot.store.orders import OrderRepo
from bot.store.unit import Step
from brokers.errors import BrokerError, UnknownOutcome
from brokers.models import (
    Instrument,
    MarginCheck,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderType,
    Quote,
    Side,
)

if TYPE_CHECKING:  # bot.parsing builds OrderTickets, so it imports this package
    from bot.parsing import ModifyArgs

log = logging.getLogger(__name__)

Progress = Callable[[int, int], Awaitable[None]]

# Order types that never reach a broker (SEBI retail-algo rules): the policy turns them into
# LIMIT / SL; this is the last check before a request leaves.
_NEVER_SENT = (OrderType.MARKET, OrderType.SL_M)
_UNEXPECTED = "Something went wrong on my side while sending; I am checking the order book."
# How long a card waits for the broker's margin check before it goes out without it: the check
# is for the user's information, never a reason to keep them waiting.
MARGIN_CHECK_SECONDS = 1.5


def new_tag() -> str:
    """Our order tag: short, unique, ASCII; brokers echo it in the order book."""
    return "TB" + secrets.token_hex(5).upper()


@dataclass
class _Batch:
    """What the desk knows while it sends: the answered orders, in order, and the tag of the
    one whose request may be on its way right now. `on_sending` is the caller's, called once,
    when the first request is on its way (see `Account.place`)."""

    results: list[SliceResult] = field(default_factory=list)
    leaving: str | None = None
    # The answered row of the request that ends the batch (a single order's, or the first not
    # accepted), written with the intent's outcome in one transaction; the rows of accepted
    # slices of a batch are written as their answers come, before its progress is reported.
    answered: Step | None = None
    on_sending: Callable[[], None] | None = None

    def sending(self) -> None:
        if self.on_sending is not None:
            on_sending, self.on_sending = self.on_sending, None
            on_sending()


class _Claim(NamedTuple):
    """A claimed intent's owner and chat, and the tag of its first order row (written with the
    claim; None for a modify or cancel, which write no row)."""

    user_id: int
    chat_id: int
    first_tag: str | None


class _Terms(NamedTuple):
    """A modify's new terms as they go on the wire."""

    order_type: OrderType
    price: Decimal
    trigger_price: Decimal | None
    explanation: str | None


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
        margin_timeout: float = MARGIN_CHECK_SECONDS,
        hours: MarketHours | None = None,
        limits: LimitGuard | None = None,
    ) -> None:
        """`hours`: the market's sessions and holidays; None (market hours off) sends every
        order as a regular one, whatever the time. `limits`: the account's daily limits (issue
        15), asked before an order's card and at its Confirm; None: no limits."""
        self._store = store
        self._account = account
        self.index = index
        self._ttl = confirm_ttl
        self._policy = policy or PolicyConfig()
        self._now = now
        self._on_orders_sent = on_orders_sent
        self._margin_timeout = margin_timeout
        self._hours = hours
        self._limits = limits
        # intent id -> its claim, for each intent this desk moved to SENDING and has not
        # executed yet. `execute` takes the entry, so an intent is sent at most once without a
        # second read of its row on the way to the broker (`claim` has just moved it).
        self._claimed: dict[str, _Claim] = {}
        # intent id -> its row as this desk stored it (PENDING), until a tap claims it or it
        # expires: the claim's transaction then goes out without a read of the row first. The
        # compare-and-set in SQLite still decides; a claim that loses it reads the row.
        self._stored: dict[str, IntentRow] = {}

    # -- prepare -----------------------------------------------------------------------------

    async def prepare_order(self, user_id: int, chat_id: int, ticket: OrderTicket) -> PreparedOrder:
        instrument = self.index.resolve(ticket.key)
        self._account.check_orders_open()
        quote = await self._quote(instrument)
        plan, session, amo_day = self._plan(ticket, instrument, quote)
        if self._limits is not None:
            await self._limits.check_order(plan)
        margin = await self._margin(plan)
        intent_id, expires = await self._store_intent(
            user_id, chat_id, PlacePayload.from_plan(plan, amo_day=amo_day)
        )
        ltp = quote.ltp if quote is not None else None
        return PreparedOrder(intent_id, plan, expires, ltp=ltp, margin=margin, session=session)

    async def prepare_exits(
        self, user_id: int, chat_id: int, tickets: Sequence[OrderTicket]
    ) -> PreparedExits:
        """One card for several exit orders (/exitall): each ticket priced as `prepare_order`
        prices it (one quote read for all), stored as one intent. No margin check: an exit
        releases margin."""
        self._account.check_orders_open()
        instruments = [self.index.resolve(t.key) for t in tickets]
        try:
            quotes = await self._account.quotes(instruments)
        except BrokerError as exc:
            raise explain_read(exc, "prices for the exits") from None
        payloads = []
        for ticket, instrument in zip(tickets, instruments, strict=True):
            plan, _, amo_day = self._plan(ticket, instrument, quotes.get(instrument.key))
            payloads.append(PlacePayload.from_plan(plan, amo_day=amo_day))
        payload = ExitsPayload(tuple(payloads))
        intent_id, expires = await self._store_intent(user_id, chat_id, payload)
        plans = tuple(p.to_plan(self.index) for p in payloads)
        return PreparedExits(intent_id, plans, expires)

    def _plan(
        self, ticket: OrderTicket, instrument: Instrument, quote: Quote | None
    ) -> tuple[OrderPlan, SessionCheck | None, date | None]:
        """The order policy's plan for `ticket` at this hour: refused out of hours where the
        broker takes no AMO, else marked as an AMO (with the day it is held for) when the
        market is closed."""
        session = check_session(
            self._hours,
            instrument,
            ticket,
            quote,
            self._now(),
            broker=self._account.broker.name,
            amo_window=self._account.amo_window(instrument.exchange),
        )
        plan = plan_order(ticket, instrument, quote, self._now(), self._policy)
        if session is None or not session.amo:
            return plan, session, None
        amo_day = session.state.next_open.date() if session.state.next_open else None
        return replace(plan, amo=True), session, amo_day

    async def _margin(self, plan: OrderPlan) -> MarginCheck | None:
        """The broker's margin answer for the whole order, when it can give one quickly. A
        broker that cannot tell, fails or is slow leaves the card without it (logged)."""
        request = _request(plan, plan.quantity, tag="")  # the whole order, never sent
        try:
            return await asyncio.wait_for(self._account.check_margin(request), self._margin_timeout)
        except TimeoutError:
            log.info(
                "margin check for %s took too long; the card goes without it", plan.instrument.key
            )
        except Exception:
            log.warning(
                "margin check for %s failed; the card goes without it",
                plan.instrument.key,
                exc_info=True,
            )
        return None

    async def _quote(self, instrument: Instrument) -> Quote | None:
        """The latest quote, or the broker's failure to give one in plain words."""
        try:
            return (await self._account.quotes([instrument])).get(instrument.key)
        except BrokerError as exc:
            raise explain_read(exc, f"a price for {instrument.key}") from None

    async def prepare_modify(
        self, user_id: int, chat_id: int, args: ModifyArgs, *, explanation: str | None = None
    ) -> PreparedModify:
        """`explanation`: how the caller derived a price it passes (shown on the card)."""
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
        if order.order_type in _NEVER_SENT:
            terms = await self._protected_terms(order, instrument, quantity, args)
        else:
            stop_market = await self._from_stop_market(order)
            terms = _limit_terms(order, instrument, args, self._policy, stop_market=stop_market)
            if args.price is not None or args.trigger_price is not None:
                quote = await self._quote(instrument)
                if args.trigger_price is not None:
                    check_stop_side(
                        order.key, order.side, args.trigger_price, quote, self._now(), self._policy
                    )
                check_band(instrument, terms.price, terms.trigger_price, quote, self._policy)
        if (quantity, terms.price, terms.trigger_price, terms.order_type) == (
            order.quantity,
            order.price,
            order.trigger_price,
            order.order_type,
        ):
            raise UserError("no_change", "The order already has those values; nothing to change.")
        if terms.explanation is None and explanation is not None:
            terms = terms._replace(explanation=explanation)
        if self._limits is not None:
            await self._limits.check_modify(order, quantity, terms.price)
        payload = ModifyPayload(
            OrderPayload.from_order(order),
            quantity,
            terms.price,
            terms.trigger_price,
            terms.order_type,
            terms.explanation,
        )
        intent_id, expires = await self._store_intent(user_id, chat_id, payload)
        return PreparedModify(
            intent_id,
            order,
            quantity,
            terms.price,
            terms.trigger_price,
            expires,
            terms.order_type,
            terms.explanation,
        )

    async def _protected_terms(
        self, order: Order, instrument: Instrument, quantity: int, args: ModifyArgs
    ) -> _Terms:
        """A MARKET or SL-M order in the book (placed outside the bot) may only be changed
        into what the bot itself would send: a LIMIT at the user's price or protected from
        the LTP, an SL with the user's limit or one protected from the trigger. The order
        policy prices it, with the same refusals as a new order."""
        stop = order.order_type is OrderType.SL_M
        if not stop and args.trigger_price is not None:
            raise UserError("bad_trigger", "Only stop-loss orders have a trigger price to change.")
        trigger = args.trigger_price if args.trigger_price is not None else order.trigger_price
        if stop and trigger is None:
            raise UserError(
                "bad_trigger",
                f"Order {order.order_id} is a stop-loss without a trigger price in the order "
                "book; give one with trigger=PRICE.",
            )
        if args.price is not None:
            requested = OrderType.SL if stop else OrderType.LIMIT
        else:
            requested = order.order_type
        ticket = OrderTicket(
            order.side,
            order.key,
            quantity,
            requested,
            price=args.price,
            trigger_price=trigger if stop else None,
            product=order.product,
        )
        quote = await self._quote(instrument)
        plan = plan_order(ticket, instrument, quote, self._now(), self._policy)
        return _Terms(plan.order_type, plan.price, plan.trigger_price, plan.explanation)

    async def _from_stop_market(self, order: Order) -> bool:
        """Whether the bot sent `order` for a stop-loss market request (an SL whose limit it
        derived from the trigger): a new trigger then gets its limit derived again."""
        placed = await self._placed(order)
        return placed is not None and placed.requested_type is OrderType.SL_M

    async def _placed(self, order: Order) -> PlacePayload | None:
        """What the bot asked for when it placed `order` (None: not placed through the bot)."""
        row = await self._store.orders.by_broker_id(order.order_id)
        intent = await self._store.intents.get(row.intent_id) if row is not None else None
        if intent is None or intent.action not in ("place", "exits"):
            return None
        payload = load_payload(intent.action, intent.payload)
        if isinstance(payload, ExitsPayload):
            return next((p for p in payload.orders if p.key == order.key), None)
        return payload if isinstance(payload, PlacePayload) else None

    async def _is_amo(self, order: Order) -> bool:
        """Whether `order` is an after-market order the bot placed: its modify and cancel must
        say so, also after a restart (the adapters remember only what this process placed)."""
        placed = await self._placed(order)
        return placed is not None and placed.amo

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
            raise explain_read(exc, "the order book") from None
        for order in book:
            if order.order_id.casefold() == order_id.casefold():  # typed by hand: paper000001
                if order.status.is_final:
                    raise UserError(
                        "order_closed",
                        f"Order {order_id} is already {order.status.value.lower()}; it cannot "
                        "be changed.",
                    )
                await self._adopt(order)
                return order
        raise UserError("order_not_found", f"There is no order {order_id} in today's order book.")

    async def _adopt(self, order: Order) -> None:
        """An order of ours whose place had no answer, seen here by its tag: note its number
        now. A modify or cancel makes the broker rewrite the tag it echoes (Kotak does), and
        from then on the order can only be matched by number."""
        if not order.tag or await self._store.orders.by_broker_id(order.order_id) is not None:
            return
        row = await self._store.orders.by_tag(order.tag)
        if row is not None and row.broker_order_id is None:
            await self._store.orders.update(row.tag, broker_order_id=order.order_id)

    async def _store_intent(
        self, user_id: int, chat_id: int, payload: Payload
    ) -> tuple[str, datetime]:
        intent_id = secrets.token_urlsafe(9)
        expires = self._now() + self._ttl
        self._stored[intent_id] = await self._store.intents.add(
            intent_id,
            user_id=user_id,
            chat_id=chat_id,
            action=payload.action,
            payload=dump_payload(payload),
            expires_at=expires,
        )
        return intent_id, expires

    # -- answer ------------------------------------------------------------------------------

    async def claim(
        self,
        intent_id: str,
        user_id: int,
        to_status: str = "SENDING",
        *,
        with_steps: Sequence[Step] = (),
    ) -> Prepared:
        """The owner check and the compare-and-set that only one tap can win, with an order's
        first row in the same transaction (one commit: the row is written only by the winner,
        and both are in SQLite before `execute` sends anything). Fast (no broker call), so a
        front end can answer the tap while `execute` does the sending. `with_steps` (the tap's
        audit line) go first in that transaction: committed with it, won or lost, and not
        written at all when there is nothing to claim."""
        intent = self._stored.get(intent_id) or await self._store.intents.get(intent_id)
        if intent is None:
            raise UserError("unknown_intent", "This confirmation is not valid; nothing was sent.")
        if intent.user_id != user_id:
            raise UserError("not_owner", "Only the person who asked can answer this.")
        if intent.status == "PENDING":
            prepared = prepared_of(intent, self.index)
            limits = self._limits if to_status == "SENDING" else None
            if limits is not None and isinstance(prepared, PreparedOrder):
                await limits.check_confirm(prepared.plan)  # no entry after a halt since the card
            steps = [
                *with_steps,
                self._store.intents.transition_step(intent_id, "PENDING", to_status, self._now()),
            ]
            first_tag = None
            if to_status == "SENDING" and isinstance(prepared, PreparedOrder):
                first_tag = new_tag()
                plan, claim = prepared.plan, _Claim(intent.user_id, intent.chat_id, None)
                steps.append(self._row_step(intent_id, plan, plan.slices[0], first_tag, claim))
            try:
                done = await self._store.write(*steps)
            finally:
                self._stored.pop(intent_id, None)
            if done.complete:
                if to_status == "SENDING":
                    self._claimed[intent_id] = _Claim(intent.user_id, intent.chat_id, first_tag)
                return prepared
            # Lost: the row as it is now tells an expiry from another tap's answer.
            intent = await self._store.intents.get(intent_id) or intent
        # Expired now, or earlier by the sweep: either way the user is told it expired.
        if intent.status == "EXPIRED" or await self._store.intents.transition(
            intent_id, "PENDING", "EXPIRED", unexpired_at=None
        ):
            raise UserError(
                "expired",
                f"This confirmation expired after {int(self._ttl.total_seconds())} s; nothing "
                "was sent. Send the command again.",
            )
        raise UserError("already_answered", "This was already answered; nothing more was done.")

    async def decline(self, intent_id: str, user_id: int) -> Outcome:
        prepared = await self.claim(intent_id, user_id, "DECLINED")
        await self._store.intents.finish(intent_id, "DECLINED", "declined by the user")
        return Outcome(prepared, "declined")

    async def execute(
        self,
        prepared: Prepared,
        progress: Progress | None = None,
        *,
        on_sending: Callable[[], None] | None = None,
    ) -> Outcome:
        """Send a claimed intent. Call only with what `claim` returned. Whatever happens on the
        way (an unexpected error, a cancelled task), the intent is closed with its outcome:
        sent, failed, unknown or skipped, slice by slice. `on_sending` is called once, when the
        first request is on its way (written, for an adapter that reports it: `Account.place`)
        or was refused before it left (not at all if the desk never gets that far), so a
        front end can do its own work (answering the tap) while the request travels instead
        of before it."""
        intent_id = prepared.intent_id
        claimed = self._claimed.pop(intent_id, None)
        if claimed is None:
            raise UserError("already_answered", "This was already answered; nothing more was done.")
        batch = _Batch(on_sending=on_sending)
        try:
            match prepared:
                case PreparedOrder():
                    await self._place(prepared, claimed, progress, batch)
                case PreparedModify():
                    batch.sending()
                    batch.results.append(await self._modify(prepared))
                case PreparedCancel():
                    batch.sending()
                    batch.results.append(await self._cancel(prepared))
                case PreparedExits():
                    await self._exits(prepared, claimed, progress, batch)
        except Exception:
            log.exception("unexpected error while sending intent %s", intent_id)
        finally:
            outcome = await self._close(prepared, batch)
        self._on_orders_sent()
        return outcome

    async def _close(self, prepared: Prepared, batch: _Batch) -> Outcome:
        """The outcome as the desk saw it, written to the intent. An order whose request may
        have left when the sending stopped is unknown (its row too, for the tracker); every
        slice after the last one answered is skipped. The outcome is built before the intent
        is finished, so its revision is older than any view the tracker builds afterwards."""
        results = list(batch.results)
        if batch.leaving is not None:
            await self._interrupted(batch.leaving)
        if isinstance(prepared, PreparedOrder | PreparedExits):
            slices = prepared.slices
            if batch.leaving is not None:
                results.append(
                    SliceResult(slices[len(results)], error=_UNEXPECTED, state="unknown")
                )
            results = with_skipped(results, slices)
        elif not results:
            if isinstance(prepared, PreparedModify):
                quantity = prepared.quantity
            else:
                quantity = prepared.order.quantity
            results = [SliceResult(quantity, error=_UNEXPECTED, state="unknown")]
        outcome = Outcome(prepared, overall(results), tuple(results))
        finish = IntentRepo.finish_step(
            prepared.intent_id, outcome.status.upper(), summary(outcome.results)
        )
        answered = () if batch.answered is None else (batch.answered,)
        await self._store.write(*answered, finish)
        return outcome

    async def _interrupted(self, tag: str) -> None:
        """Best effort: the row of an order that may have left becomes UNKNOWN, so the
        tracker reconciles it (at worst start-up does, for a row left SENDING)."""
        try:
            await self._store.orders.update(tag, status="UNKNOWN", message=_UNEXPECTED)
        except Exception:
            log.exception("could not mark order %s as unknown", tag)

    async def _place(
        self,
        prepared: PreparedOrder,
        claimed: _Claim,
        progress: Progress | None,
        batch: _Batch,
    ) -> None:
        """Send the slices in order; stop at the first that is not accepted (the rest are
        skipped, never sent blindly after a failure or an unknown outcome). The first slice's
        row was written with the claim; each later one is written before its request."""
        plan = prepared.plan
        total = len(plan.slices)
        for number, quantity in enumerate(plan.slices, start=1):
            if number == 1 and claimed.first_tag is not None:
                tag = claimed.first_tag
            else:
                tag = new_tag()
                await self._store.write(
                    self._row_step(prepared.intent_id, plan, quantity, tag, claimed)
                )
            result, answered = await self._send_slice(plan, quantity, tag, batch)
            if result.state != "sent" or total == 1:
                batch.answered = answered  # written with the outcome, in one commit
                return
            await self._store.write(answered)
            if progress is not None and total > 1:
                await _report(progress, number, total)

    async def _exits(
        self,
        prepared: PreparedExits,
        claimed: _Claim,
        progress: Progress | None,
        batch: _Batch,
    ) -> None:
        """Send every exit in order, each through the account's rate limit, each row written
        before its request. Unlike slices of one order, a failed exit does not stop the
        others: they are independent orders, and each one only reduces a position."""
        total = len(prepared.slices)
        number = 0
        for plan in prepared.plans:
            for quantity in plan.slices:
                number += 1
                tag = new_tag()
                await self._store.write(
                    self._row_step(prepared.intent_id, plan, quantity, tag, claimed)
                )
                _, answered = await self._send_slice(plan, quantity, tag, batch)
                await self._store.write(answered)
                if progress is not None and total > 1:
                    await _report(progress, number, total)

    async def _send_slice(
        self, plan: OrderPlan, quantity: int, tag: str, batch: _Batch
    ) -> tuple[SliceResult, Step]:
        """Send one order of a batch (its row is written): the batch knows it may be on its way
        while it is, and keeps its result; the answered row is the caller's to write."""
        batch.leaving = tag
        request = _request(plan, quantity, tag)
        result, answered = await self._send_one(tag, request, on_written=batch.sending)
        batch.sending()  # refused before it was written: the caller's work starts now
        batch.leaving = None
        batch.results.append(result)
        return result, answered

    def _row_step(
        self, intent_id: str, plan: OrderPlan, quantity: int, tag: str, claimed: _Claim
    ) -> Step:
        """The order row (status SENDING, our tag) of one order of `plan`."""
        return self._store.orders.add_step(
            tag,
            intent_id=intent_id,
            broker=self._account.broker.name,
            user_id=claimed.user_id,
            chat_id=claimed.chat_id,
            symbol=plan.instrument.key,
            side=plan.side.value,
            quantity=quantity,
            price=str(plan.price),
        )

    async def _send_one(
        self, tag: str, request: OrderRequest, *, on_written: Callable[[], None]
    ) -> tuple[SliceResult, Step]:
        """Hand one request to the account (`on_written` is the account's, see `place`); its
        answer and the row update that records it (the caller writes it: at once, or with the
        intent's outcome when it ends the batch)."""
        if request.order_type in _NEVER_SENT:
            text = f"{request.order_type} orders are never sent; this is a bug, nothing was sent."
            row = OrderRepo.update_step(tag, status="FAILED", message=text)
            return SliceResult(request.quantity, error=text, state="failed"), row
        try:
            order_id = await self._account.place(request, on_written=on_written)
        except UnknownOutcome as exc:
            text = explain(exc).text
            row = OrderRepo.update_step(tag, status="UNKNOWN", message=text)
            return SliceResult(request.quantity, error=text, state="unknown"), row
        except BrokerError as exc:
            text = explain(exc).text
            row = OrderRepo.update_step(tag, status="FAILED", message=text)
            return SliceResult(request.quantity, error=text, state="failed"), row
        except UserError as exc:
            row = OrderRepo.update_step(tag, status="FAILED", message=exc.text)
            return SliceResult(request.quantity, error=exc.text, state="failed"), row
        except Exception:
            # A bug or an unexpected failure after the request may have left: we cannot know
            # whether the order exists, so it is reconciled by tag like a timeout.
            log.exception("unexpected error while placing %s", tag)
            row = OrderRepo.update_step(tag, status="UNKNOWN", message=_UNEXPECTED)
            return SliceResult(request.quantity, error=_UNEXPECTED, state="unknown"), row
        row = OrderRepo.update_step(tag, broker_order_id=order_id, status="PENDING")
        return SliceResult(request.quantity, order_id=order_id), row

    async def _modify(self, prepared: PreparedModify) -> SliceResult:
        order = prepared.order
        if prepared.order_type in _NEVER_SENT:
            text = f"A modify to {prepared.order_type} is never sent; nothing was changed."
            return SliceResult(prepared.quantity, error=text, state="failed")
        request = ModifyRequest(
            order_id=order.order_id,
            instrument=self.index.resolve(order.key),
            side=order.side,
            quantity=prepared.quantity,
            order_type=prepared.order_type,
            price=prepared.price,
            product=order.product,
            trigger_price=prepared.trigger_price,
            amo=await self._is_amo(order),
        )
        try:
            order_id = await self._account.modify(request)
        except BrokerError as exc:
            return _refused(prepared.quantity, exc)
        except UserError as exc:
            return SliceResult(prepared.quantity, error=exc.text, state="failed")
        tracked = await self._store.orders.by_broker_id(order.order_id)
        if tracked is not None:
            await self._store.orders.update(
                tracked.tag, quantity=prepared.quantity, price=str(prepared.price)
            )
        return SliceResult(prepared.quantity, order_id=order_id)

    async def _cancel(self, prepared: PreparedCancel) -> SliceResult:
        order = prepared.order
        try:
            order_id = await self._account.cancel(order.order_id, amo=await self._is_amo(order))
        except BrokerError as exc:
            return _refused(order.quantity, exc)
        except UserError as exc:
            return SliceResult(order.quantity, error=exc.text, state="failed")
        return SliceResult(order.quantity, order_id=order_id)

    async def expire_due(self) -> list[CardUpdate[Any]]:
        """Expire PENDING intents past their time; returns their cards' final views (the
        order they asked for, marked expired, without buttons) for the caller to show."""
        now = self._now()
        self._stored = {i: row for i, row in self._stored.items() if row.expires_at > now}
        pending = await self._store.intents.in_status("PENDING")
        return await expire(self._store, self.index, pending, due_by=now)

    async def expired_view(self, intent_id: str) -> CardUpdate[Any] | None:
        """The final view of an expired intent's card (a tap found it expired: the card is
        ended even when the sweep has not got to it, or failed to edit it)."""
        intent = await self._store.intents.get(intent_id)
        if intent is None or intent.status != "EXPIRED":
            return None
        return expired_view(intent, self.index)


def _limit_terms(
    order: Order,
    instrument: Instrument,
    args: ModifyArgs,
    policy: PolicyConfig,
    *,
    stop_market: bool,
) -> _Terms:
    """New terms for a LIMIT or SL order: its type stays, each value is checked. The limit of
    an SL the bot derived from a stop-loss market request (`stop_market`) follows a new trigger,
    as it was derived at first, unless the user gives one."""
    price = args.price if args.price is not None else order.price
    check_tick(price, instrument.tick_size)
    trigger = order.trigger_price
    explanation = None
    if args.trigger_price is not None:
        if order.order_type is not OrderType.SL:
            raise UserError("bad_trigger", "Only stop-loss orders have a trigger price to change.")
        check_tick(args.trigger_price, instrument.tick_size)
        trigger = args.trigger_price
        if stop_market and args.price is None:
            stop = protect_stop(
                order.side,
                trigger,
                instrument.tick_size,
                is_option=instrument.kind.is_option,
                grid=policy.grid,
            )
            price, explanation = stop.price, stop.explanation
    if trigger is not None and (
        (order.side is Side.BUY and price < trigger)
        or (order.side is Side.SELL and price > trigger)
    ):
        raise UserError(
            "bad_trigger",
            "For a stop-loss BUY the price must be at or above the trigger; for a SELL, at "
            "or below it.",
        )
    return _Terms(order.order_type, price, trigger, explanation)


def _request(plan: OrderPlan, quantity: int, tag: str) -> OrderRequest:
    """The request for one order (`quantity`, a slice) of `plan`."""
    return OrderRequest(
        instrument=plan.instrument,
        side=plan.side,
        quantity=quantity,
        order_type=plan.order_type,
        price=plan.price,
        product=plan.product,
        tag=tag,
        trigger_price=plan.trigger_price,
        amo=plan.amo,
    )


async def _report(progress: Progress, done: int, total: int) -> None:
    """Progress is for the user's eyes only: its failure never stops or delays a batch."""
    try:
        await progress(done, total)
    except Exception:
        log.exception("progress report failed; the batch goes on")


def _refused(quantity: int, exc: BrokerError) -> SliceResult:
    state: SliceState = "unknown" if isinstance(exc, UnknownOutcome) else "failed"
    return SliceResult(quantity, error=explain(exc).text, state=state)
