"""Intent payloads: each action's request survives the store exactly, and payloads written before
the payload models existed still load."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from bot.errors import UserError
from bot.market.instruments import InstrumentIndex
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
from bot.orders.policy import OrderPlan
from brokers.models import Instrument, InstrumentKind, Order, OrderStatus, OrderType, Product, Side

D = Decimal
SBIN = Instrument("NSE", "SBIN", "STATE BANK OF INDIA", InstrumentKind.EQUITY, D("0.05"))
CALL = Instrument("NFO", "NIFTY24NOV2628000CE", "NIFTY", InstrumentKind.CALL, D("0.05"), 65, 1800)
INDEX = InstrumentIndex([SBIN, CALL])

MARKET_BUY = OrderPlan(
    instrument=SBIN, side=Side.BUY, quantity=10, order_type=OrderType.LIMIT, price=D("812.80"),
    trigger_price=None, product=Product.CNC, slices=(10,), requested_type=OrderType.MARKET,
    reference_price=D("812.35"), explanation="LTP 812.35 + 0.05%", lots=None,
)  # fmt: skip
STOP_SELL = OrderPlan(
    instrument=CALL, side=Side.SELL, quantity=3900, order_type=OrderType.SL, price=D("99.50"),
    trigger_price=D("100.00"), product=Product.NRML, slices=(1755, 1755, 390),
    requested_type=OrderType.SL_M, reference_price=None, explanation=None, lots=60,
)  # fmt: skip
OPEN_SL = Order(
    order_id="250401000012", key=CALL.key, side=Side.SELL, quantity=130, order_type=OrderType.SL,
    product=Product.MIS, status=OrderStatus.TRIGGER_PENDING, price=D("99.50"),
    trigger_price=D("100.00"), filled_quantity=0, tag="TB0A1B2C3D4E",
)  # fmt: skip
PART_FILLED = Order(
    order_id="250401000013", key=SBIN.key, side=Side.BUY, quantity=10, order_type=OrderType.LIMIT,
    product=Product.CNC, status=OrderStatus.PARTIALLY_FILLED, price=D("800"), filled_quantity=4,
)  # fmt: skip


def _stored(payload: Payload) -> tuple[str, dict[str, Any]]:
    """What the intents table keeps: the action and the payload's JSON text, read back."""
    return payload.action, json.loads(json.dumps(dump_payload(payload)))


@pytest.mark.parametrize("plan", [MARKET_BUY, STOP_SELL])
def test_a_place_round_trips_to_the_same_plan(plan: OrderPlan) -> None:
    action, data = _stored(PlacePayload.from_plan(plan))
    assert action == "place"
    loaded = load_payload(action, data)
    assert isinstance(loaded, PlacePayload)
    back = loaded.to_plan(INDEX)
    assert back == plan
    assert str(back.price) == str(plan.price)  # "812.80", not "812.8": the scale is kept


def test_decimals_are_strings_and_enums_their_values() -> None:
    _, data = _stored(PlacePayload.from_plan(STOP_SELL))
    assert data["key"] == "NFO:NIFTY24NOV2628000CE"
    assert (data["price"], data["trigger_price"], data["reference_price"]) == (
        "99.50",
        "100.00",
        None,
    )
    assert (data["order_type"], data["requested_type"], data["side"]) == ("SL", "SL-M", "SELL")
    assert data["slices"] == [1755, 1755, 390] and data["lots"] == 60


def test_a_place_resolves_its_instrument_from_the_index() -> None:
    action, data = _stored(PlacePayload.from_plan(MARKET_BUY))
    loaded = load_payload(action, data)
    assert isinstance(loaded, PlacePayload)
    with pytest.raises(UserError) as caught:
        loaded.to_plan(InstrumentIndex([CALL]))
    assert caught.value.reason == "unknown_symbol"


@pytest.mark.parametrize(
    ("order", "quantity", "price", "trigger"),
    [(OPEN_SL, 195, D("98.05"), D("98.50")), (PART_FILLED, 12, D("801.10"), None)],
)
def test_a_modify_round_trips(
    order: Order, quantity: int, price: Decimal, trigger: Decimal | None
) -> None:
    action, data = _stored(ModifyPayload(OrderPayload.from_order(order), quantity, price, trigger))
    assert action == "modify"
    loaded = load_payload(action, data)
    assert isinstance(loaded, ModifyPayload)
    assert loaded.order.to_order() == order
    assert (loaded.quantity, loaded.price, loaded.trigger_price) == (quantity, price, trigger)


def test_a_cancel_round_trips() -> None:
    action, data = _stored(CancelPayload(OrderPayload.from_order(OPEN_SL)))
    assert action == "cancel"
    loaded = load_payload(action, data)
    assert isinstance(loaded, CancelPayload)
    assert loaded.order.to_order() == OPEN_SL


def test_exits_round_trip_each_place_in_its_order() -> None:
    """An exits card's orders come back as they were, each in the shape a place is stored in
    (a regular order without its AMO fields)."""
    payload = ExitsPayload((PlacePayload.from_plan(STOP_SELL), PlacePayload.from_plan(MARKET_BUY)))
    action, data = _stored(payload)
    assert action == "exits"
    assert [set(o) for o in data["orders"]] == [set(_stored(p)[1]) for p in payload.orders]
    loaded = load_payload(action, data)
    assert isinstance(loaded, ExitsPayload)
    assert [o.to_plan(INDEX) for o in loaded.orders] == [STOP_SELL, MARKET_BUY]


def test_an_order_keeps_what_a_change_needs_not_its_fills() -> None:
    filled = Order(
        order_id="1", key=SBIN.key, side=Side.BUY, quantity=10, order_type=OrderType.LIMIT,
        product=Product.CNC, status=OrderStatus.PARTIALLY_FILLED, price=D("800"),
        filled_quantity=4, average_price=D("799.95"), message="partly filled",
    )  # fmt: skip
    _, data = _stored(CancelPayload(OrderPayload.from_order(filled)))
    assert "average_price" not in data["order"] and "message" not in data["order"]
    loaded = load_payload("cancel", data)
    assert isinstance(loaded, CancelPayload)
    order = loaded.order.to_order()
    assert (order.filled_quantity, order.average_price, order.message) == (4, None, "")


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="'alert'"):
        load_payload("alert", {})


# Payloads exactly as the desk wrote them before the payload models (hand-built dicts, JSON text in
# the intents table). Frozen: intents like these may be waiting in a database right now.
OLD_PLACE = (
    '{"key": "NFO:NIFTY24NOV2628000CE", "side": "SELL", "quantity": 3900, "order_type": "SL",'
    ' "price": "99.50", "trigger_price": "100.00", "product": "NRML", "slices": [1755, 1755, 390],'
    ' "requested_type": "SL-M", "reference_price": null, "explanation": null, "lots": 60}'
)
OLD_ORDER = (
    '{"order_id": "250401000012", "key": "NFO:NIFTY24NOV2628000CE", "side": "SELL",'
    ' "quantity": 130, "order_type": "SL", "product": "MIS", "status": "TRIGGER_PENDING",'
    ' "price": "99.50", "trigger_price": "100.00", "filled_quantity": 0, "tag": "TB0A1B2C3D4E"}'
)
OLD_MODIFY = (
    f'{{"order": {OLD_ORDER}, "quantity": 195, "price": "98.05", "trigger_price": "98.50"}}'
)
OLD_CANCEL = f'{{"order": {OLD_ORDER}}}'


def test_old_payloads_load_into_the_same_objects() -> None:
    place = load_payload("place", json.loads(OLD_PLACE))
    assert isinstance(place, PlacePayload) and place.to_plan(INDEX) == STOP_SELL
    modify = load_payload("modify", json.loads(OLD_MODIFY))
    assert isinstance(modify, ModifyPayload)
    assert modify.order.to_order() == OPEN_SL
    assert (modify.quantity, modify.price, modify.trigger_price) == (195, D("98.05"), D("98.50"))
    cancel = load_payload("cancel", json.loads(OLD_CANCEL))
    assert isinstance(cancel, CancelPayload) and cancel.order.to_order() == OPEN_SL


def test_new_payloads_have_the_old_shape() -> None:
    """Same JSON as before, so a database can be shared with the previous release both ways."""
    modify = ModifyPayload(OrderPayload.from_order(OPEN_SL), 195, D("98.05"), D("98.50"))
    assert _stored(PlacePayload.from_plan(STOP_SELL))[1] == json.loads(OLD_PLACE)
    assert _stored(modify)[1] == json.loads(OLD_MODIFY)
    assert _stored(CancelPayload(OrderPayload.from_order(OPEN_SL)))[1] == json.loads(OLD_CANCEL)
