"""What a confirmation card shows: the prepared request and, once answered, what became of it.

The desk builds an `Outcome` when it has sent an intent; the tracker rebuilds one from the store
whenever an outcome that was unknown becomes known, so the card itself can be edited to say so.
Both come from here, so a card reads the same whoever edits it. Every `Outcome` carries a
revision (the notifier's card counter, taken when it is built): an older view of a card never
overwrites a newer one, however the edits race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from bot.market.instruments import InstrumentIndex
from bot.notify.events import next_revision
from bot.orders.intents import (
    CancelPayload,
    ExitsPayload,
    ModifyPayload,
    PlacePayload,
    load_payload,
)
from bot.orders.policy import OrderPlan
from bot.orders.sessions import SessionCheck
from bot.store.intents import IntentRow
from bot.store.orders import OrderRow
from brokers.models import MarginCheck, Order, OrderType


@dataclass(frozen=True, slots=True)
class PreparedOrder:
    """`ltp`, `margin` and `session` are what the market and the broker said when the card was
    made (for the user's eyes: nothing sent depends on them; whether the order is an AMO is in
    the plan); a card rebuilt from the store has none of them."""

    intent_id: str
    plan: OrderPlan
    expires_at: datetime
    ltp: Decimal | None = None
    margin: MarginCheck | None = None
    session: SessionCheck | None = None  # the market's state, when market hours are on

    @property
    def slices(self) -> tuple[int, ...]:
        """The orders the card sends (more than one above the freeze quantity)."""
        return self.plan.slices


@dataclass(frozen=True, slots=True)
class PreparedModify:
    """`order_type` is what goes on the wire: the book's type, except that a MARKET or SL-M
    order is changed into a protected LIMIT or SL one (`explanation` says how it was priced)."""

    intent_id: str
    order: Order
    quantity: int
    price: Decimal
    trigger_price: Decimal | None
    expires_at: datetime
    order_type: OrderType
    explanation: str | None = None


@dataclass(frozen=True, slots=True)
class PreparedCancel:
    intent_id: str
    order: Order
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PreparedExits:
    """Several exit orders on one card (/exitall), one plan per position, sent in order."""

    intent_id: str
    plans: tuple[OrderPlan, ...]
    expires_at: datetime

    @property
    def slices(self) -> tuple[int, ...]:
        """Every order the card sends, plan after plan (a plan above the freeze quantity is
        several)."""
        return tuple(q for plan in self.plans for q in plan.slices)


Prepared = PreparedOrder | PreparedModify | PreparedCancel | PreparedExits

# What became of one order of a card:
# sent       the broker took it (order_id is its number); `filled` says how much has traded
# filled     the broker took it and it traded in full (`average_price`, when the broker says)
# cancelled  the broker took it and it was cancelled later (`filled` may have traded before)
# rejected   the broker took it, then its risk system or the exchange refused it (error: why)
# failed     refused, by us or the broker, before it had a number (error says why)
# skipped    never sent, because an earlier slice failed or is unknown (error says which)
# unknown    sent without a usable answer; the order book is being checked
# not_found  not in the order book after several looks; still watched for the rest of the day
# lapsed     never found in the order book on its trading day; no longer looked for
SliceState = Literal[
    "sent", "filled", "cancelled", "rejected", "failed", "skipped", "unknown", "not_found", "lapsed"
]
# The states of an order the broker took and that stands (the request itself succeeded).
_TAKEN: frozenset[SliceState] = frozenset({"sent", "filled", "cancelled"})


@dataclass(frozen=True, slots=True)
class SliceResult:
    quantity: int
    order_id: str | None = None
    error: str | None = None
    state: SliceState = "sent"
    filled: int = 0
    average_price: Decimal | None = None

    @property
    def unknown(self) -> bool:
        """Whether it may yet turn out to exist: never send it again before that is settled."""
        return self.state in ("unknown", "not_found")


# `expired`: the card was never answered in time (or the bot restarted); nothing was sent.
OutcomeStatus = Literal["done", "partial", "failed", "unknown", "declined", "expired"]


@dataclass(frozen=True, slots=True)
class Outcome:
    prepared: Prepared
    status: OutcomeStatus
    results: tuple[SliceResult, ...] = ()
    revision: int = field(default_factory=next_revision)


def overall(results: Sequence[SliceResult]) -> OutcomeStatus:
    if any(r.unknown for r in results):
        return "unknown"
    sent = sum(1 for r in results if r.state in _TAKEN)
    if sent == len(results):
        return "done"
    return "partial" if sent else "failed"


def summary(results: Sequence[SliceResult]) -> str:
    """The intent's stored result: one entry per order, in order."""
    return "; ".join(r.order_id or r.error or r.state for r in results)


def prepared_of(intent: IntentRow, index: InstrumentIndex | None) -> Prepared:
    """The card's request, read back from its stored intent. A place needs the instrument
    index (its instrument is stored by key); a modify or cancel does not."""
    match load_payload(intent.action, intent.payload):
        case PlacePayload() as place:
            if index is None:
                raise LookupError("a place card is rebuilt with the instrument index")
            return PreparedOrder(intent.id, place.to_plan(index), intent.expires_at)
        case ModifyPayload() as modify:
            order = modify.order.to_order()
            return PreparedModify(
                intent.id,
                order,
                modify.quantity,
                modify.price,
                modify.trigger_price,
                intent.expires_at,
                modify.order_type or order.order_type,
                modify.explanation,
            )
        case CancelPayload() as cancel:
            return PreparedCancel(intent.id, cancel.order.to_order(), intent.expires_at)
        case ExitsPayload() as exits:
            if index is None:
                raise LookupError("an exits card is rebuilt with the instrument index")
            plans = tuple(order.to_plan(index) for order in exits.orders)
            return PreparedExits(intent.id, plans, intent.expires_at)


# Order-row states → what the card says about that order. A row with a broker order number
# in any other state was sent (and is still working, or LAPSED with its day); one without, in
# any other state (LAPSED), was never found. The tracker writes the book's state to the row, so
# the card follows the order: a rejection, a fill or a cancellation edits it.
_ROW_STATES: dict[str, SliceState] = {
    "FAILED": "failed",
    "SENDING": "unknown",
    "UNKNOWN": "unknown",
    "NOT_FOUND": "not_found",
    "REJECTED": "rejected",
    "COMPLETE": "filled",
    "CANCELLED": "cancelled",
}


def place_outcome(prepared: PreparedOrder | PreparedExits, rows: Sequence[OrderRow]) -> Outcome:
    """A place (or exits) card from its order rows (in the order they were sent). Slices
    without a row were never sent: a batch stops at the first slice that fails or has no
    answer (an exits card goes on past a failure, so only an interruption leaves one out)."""
    results = with_skipped([_slice_of(row) for row in rows], prepared.slices)
    return Outcome(prepared, overall(results), tuple(results))


def with_skipped(results: Sequence[SliceResult], slices: Sequence[int]) -> list[SliceResult]:
    """`results` for the first slices, then each later slice explicitly skipped, saying why."""
    reason = _skip_reason(len(results), results[-1] if results else None)
    skipped = [SliceResult(q, error=reason, state="skipped") for q in slices[len(results) :]]
    return [*results, *skipped]


def _slice_of(row: OrderRow) -> SliceResult:
    state = _ROW_STATES.get(row.status)
    if state is None:
        state = "sent" if row.broker_order_id else "lapsed"
    numbered = state in (*_TAKEN, "rejected")
    order_id = row.broker_order_id if numbered else None
    error = (row.message or None) if state in ("failed", "unknown", "rejected") else None
    average = Decimal(row.average_price) if row.average_price else None
    return SliceResult(
        row.quantity,
        order_id=order_id,
        error=error,
        state=state,
        filled=row.filled_quantity if numbered else 0,
        average_price=average if numbered else None,
    )


def _skip_reason(number: int, last: SliceResult | None) -> str:
    """Why the slices after slice `number` (`last`, None when none was sent) were not sent."""
    if last is not None and last.unknown:
        return f"not sent: order {number} of this batch has no answer yet"
    if last is not None and last.state == "failed":
        return f"not sent: order {number} of this batch failed"
    return "not sent: something went wrong on my side before it left"
