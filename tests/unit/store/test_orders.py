"""The orders repository: rows written before a request leaves, then followed to the end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import utcnow
from bot.store.connection import Store
from bot.store.orders import LIVE_ORDER_STATES


async def _order(store: Store, tag: str, intent_id: str = "i1", quantity: int = 5) -> None:
    await store.orders.add(
        tag, intent_id=intent_id, broker="paper", user_id=1, chat_id=10, symbol="NSE:SBIN",
        side="BUY", quantity=quantity, price="700.05",
    )  # fmt: skip


@pytest.fixture
async def with_intents(store: Store) -> Store:
    for intent_id in ("i1", "i2"):
        await store.intents.add(
            intent_id, user_id=1, chat_id=10, action="place", payload={},
            expires_at=utcnow() + timedelta(seconds=60),
        )  # fmt: skip
    return store


async def test_a_new_order_is_sending_with_our_tag(with_intents: Store) -> None:
    store = with_intents
    await _order(store, "TBA")
    row = await store.orders.by_tag("TBA")
    assert row is not None
    assert (row.tag, row.intent_id, row.broker, row.symbol, row.side) == (
        "TBA",
        "i1",
        "paper",
        "NSE:SBIN",
        "BUY",
    )
    assert (row.quantity, row.price, row.status, row.filled_quantity) == (5, "700.05", "SENDING", 0)
    assert (row.broker_order_id, row.average_price, row.message) == (None, None, "")
    assert await store.orders.by_tag("TBNONE") is None


async def test_updates_change_only_the_named_columns(with_intents: Store) -> None:
    store = with_intents
    await _order(store, "TBA")
    await store.orders.update("TBA", broker_order_id="X1", status="PENDING")
    await store.orders.update("TBA", status="FILLED", filled_quantity=5, average_price="700.00")
    row = await store.orders.by_broker_id("X1")
    assert row is not None and row.tag == "TBA"
    assert (row.status, row.filled_quantity, row.average_price, row.price) == (
        "FILLED",
        5,
        "700.00",
        "700.05",
    )
    assert await store.orders.by_broker_id("X2") is None


async def test_only_the_follow_up_columns_are_updatable(with_intents: Store) -> None:
    store = with_intents
    await _order(store, "TBA")
    with pytest.raises(ValueError, match="symbol"):
        await store.orders.update("TBA", symbol="NSE:INFY", status="OPEN")
    row = await store.orders.by_tag("TBA")
    assert row is not None and (row.symbol, row.status) == ("NSE:SBIN", "SENDING")


async def test_live_orders_are_the_ones_still_followed(with_intents: Store) -> None:
    store = with_intents
    finals = ("FILLED", "CANCELLED", "REJECTED", "NOT_PLACED", "FAILED")
    states = (*LIVE_ORDER_STATES, *finals)
    for n, status in enumerate(states):
        await _order(store, f"TB{n:02d}")
        await store.orders.update(f"TB{n:02d}", status=status)
    live = await store.orders.live()
    assert [row.status for row in live] == list(LIVE_ORDER_STATES)


async def test_orders_of_one_intent(with_intents: Store) -> None:
    store = with_intents
    await _order(store, "TBB", "i1", 3)
    await _order(store, "TBA", "i1", 2)
    await _order(store, "TBC", "i2")
    assert sorted(r.tag for r in await store.orders.for_intent("i1")) == ["TBA", "TBB"]
    assert [r.tag for r in await store.orders.for_intent("i2")] == ["TBC"]
    assert await store.orders.for_intent("nope") == []
