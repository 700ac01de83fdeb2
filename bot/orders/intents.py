"""Intent payloads: the frozen request a confirmation card shows, as stored and as read back.

A confirmation must send exactly what the card showed, possibly after a restart, so the whole
request is stored with the intent: one typed model per action (place, modify, cancel, exits),
turned into JSON-ready data by a pydantic `TypeAdapter`. Decimals are written as strings (never
floats, so a price is never rounded), enums as their values. An instrument is stored by its key and
resolved from the instrument index on read, so the payload stays small and a read goes through
the same index as a new order.

The shape is field for field the one the desk wrote before these models existed, so intents
already stored still load; unknown extra fields are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from pydantic import TypeAdapter

from bot.market.instruments import InstrumentIndex
from bot.orders.policy import OrderPlan
from brokers.models import Order, OrderStatus, OrderType, Product, Side

T = TypeVar("T")


def _copy(source: Any, target: type[T], **given: Any) -> T:
    """Build the dataclass `target` from the fields it shares by name with the dataclass
    `source`, plus `given`: the payloads mirror the core's models field for field, so no mapper
    lists the fields a second time (a field added to both is carried without an edit here)."""
    shared = {f.name for f in fields(source)} & {f.name for f in fields(target)}  # type: ignore[arg-type]
    return target(**{name: getattr(source, name) for name in shared - given.keys()}, **given)


@dataclass(frozen=True, slots=True)
class PlacePayload:
    """An `OrderPlan`, with its instrument by key."""

    action: ClassVar[str] = "place"

    key: str
    side: Side
    quantity: int
    order_type: OrderType
    price: Decimal
    trigger_price: Decimal | None
    product: Product
    slices: tuple[int, ...]
    requested_type: OrderType
    reference_price: Decimal | None
    explanation: str | None
    lots: int | None
    amo: bool = False  # intents stored before AMOs existed are regular orders
    # The IST trading day an AMO was held for (the segment's next open when it was placed): its
    # order lives until that day ends, not the day it was placed (the tracker lapses by it).
    amo_day: date | None = None

    @classmethod
    def from_plan(cls, plan: OrderPlan, *, amo_day: date | None = None) -> PlacePayload:
        return _copy(plan, cls, key=plan.instrument.key, amo_day=amo_day)

    def to_plan(self, index: InstrumentIndex) -> OrderPlan:
        return _copy(self, OrderPlan, instrument=index.resolve(self.key))


@dataclass(frozen=True, slots=True)
class OrderPayload:
    """An order from the broker's book as it was when the user asked to change it: what the card
    showed and what a modify or cancel needs (not its fills' price, messages or times)."""

    order_id: str
    key: str
    side: Side
    quantity: int
    order_type: OrderType
    product: Product
    status: OrderStatus
    price: Decimal
    trigger_price: Decimal | None
    filled_quantity: int
    tag: str

    @classmethod
    def from_order(cls, order: Order) -> OrderPayload:
        return _copy(order, cls)

    def to_order(self) -> Order:
        return _copy(self, Order)


@dataclass(frozen=True, slots=True)
class ModifyPayload:
    """The order and its new terms (each already checked against the instrument). `order_type`
    is what goes on the wire when it differs from the book's (a MARKET or SL-M order becomes a
    protected LIMIT or SL one, priced as `explanation` says); intents stored before it existed
    have neither and keep the book's type."""

    action: ClassVar[str] = "modify"

    order: OrderPayload
    quantity: int
    price: Decimal
    trigger_price: Decimal | None
    order_type: OrderType | None = None
    explanation: str | None = None


@dataclass(frozen=True, slots=True)
class CancelPayload:
    action: ClassVar[str] = "cancel"

    order: OrderPayload


@dataclass(frozen=True, slots=True)
class ExitsPayload:
    """Several exit orders on one card (/exitall): each a place of its own instrument, sent
    one after the other through the account's rate limit when the card is confirmed."""

    action: ClassVar[str] = "exits"

    orders: tuple[PlacePayload, ...]


Payload = PlacePayload | ModifyPayload | CancelPayload | ExitsPayload

_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    model.action: TypeAdapter(model)
    for model in (PlacePayload, ModifyPayload, CancelPayload, ExitsPayload)
}


def dump_payload(payload: Payload) -> dict[str, Any]:
    """JSON-ready data for the store; `payload.action` names the model to read it back with."""
    data: dict[str, Any] = _ADAPTERS[payload.action].dump_python(payload, mode="json")
    if isinstance(payload, PlacePayload) and not payload.amo:
        del data["amo"], data["amo_day"]  # a regular order keeps the previous release's shape
    if isinstance(payload, ExitsPayload):
        data["orders"] = [dump_payload(order) for order in payload.orders]
    if isinstance(payload, ModifyPayload):
        # A modify that keeps the order's type is stored in the shape the previous release
        # reads and writes.
        for name in ("order_type", "explanation"):
            if data[name] is None:
                del data[name]
    return data


def load_payload(action: str, data: dict[str, Any]) -> Payload:
    """The stored payload of an intent whose action is `action`."""
    adapter = _ADAPTERS.get(action)
    if adapter is None:
        raise ValueError(f"no payload model for intent action {action!r}")
    payload: Payload = adapter.validate_python(data)
    return payload
