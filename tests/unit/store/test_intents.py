"""The intents repository, and the compare-and-set that makes a confirmation single-use."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.clock import utcnow
from bot.store.connection import Store


async def _add(store: Store, intent_id: str, *, ttl: float = 60, **payload: object) -> None:
    await store.intents.add(
        intent_id, user_id=1, chat_id=10, action="place", payload=dict(payload),
        expires_at=utcnow() + timedelta(seconds=ttl),
    )  # fmt: skip


async def test_an_intent_reads_back_as_written(store: Store) -> None:
    expires = utcnow() + timedelta(seconds=60)
    await store.intents.add(
        "abc", user_id=1, chat_id=10, action="modify",
        payload={"price": "700.05", "trigger_price": None, "slices": [5, 5]}, expires_at=expires,
    )  # fmt: skip
    intent = await store.intents.get("abc")
    assert intent is not None
    assert (intent.id, intent.user_id, intent.chat_id, intent.action) == ("abc", 1, 10, "modify")
    assert intent.payload == {"price": "700.05", "trigger_price": None, "slices": [5, 5]}
    assert (intent.status, intent.message_id, intent.result) == ("PENDING", None, None)
    assert intent.expires_at == expires
    assert intent.created_at.tzinfo is not None and intent.created_at <= expires
    assert await store.intents.get("nope") is None


async def test_the_card_and_the_outcome_are_recorded(store: Store) -> None:
    await _add(store, "abc")
    await store.intents.set_message("abc", 4242)
    await store.intents.finish("abc", "DONE", "X1; X2")
    intent = await store.intents.get("abc")
    assert intent is not None
    assert (intent.message_id, intent.status, intent.result) == (4242, "DONE", "X1; X2")


async def test_intents_by_status_oldest_first(store: Store) -> None:
    for intent_id in ("first", "second", "third"):
        await _add(store, intent_id)
    await store.intents.finish("second", "DECLINED", "declined by the user")
    assert [i.id for i in await store.intents.in_status("PENDING")] == ["first", "third"]
    assert [i.id for i in await store.intents.in_status("DECLINED")] == ["second"]
    assert await store.intents.in_status("SENDING") == []


async def test_a_transition_needs_the_expected_state(store: Store) -> None:
    await _add(store, "abc")
    assert not await store.intents.transition("abc", "SENDING", "DONE", unexpired_at=None)
    assert await store.intents.transition("abc", "PENDING", "DECLINED", unexpired_at=None)
    assert not await store.intents.transition("abc", "PENDING", "SENDING", unexpired_at=None)
    assert not await store.intents.transition("nope", "PENDING", "SENDING", unexpired_at=None)
    intent = await store.intents.get("abc")
    assert intent is not None and intent.status == "DECLINED"


async def test_an_expired_intent_cannot_be_claimed_but_can_be_expired(store: Store) -> None:
    await _add(store, "old", ttl=-1)
    assert not await store.intents.transition("old", "PENDING", "SENDING", unexpired_at=utcnow())
    assert await store.intents.transition("old", "PENDING", "EXPIRED", unexpired_at=None)
    intent = await store.intents.get("old")
    assert intent is not None and intent.status == "EXPIRED"


async def test_only_one_of_many_concurrent_claims_wins(store: Store) -> None:
    await _add(store, "abc", x=1)
    claims = [
        store.intents.transition("abc", "PENDING", "SENDING", unexpired_at=utcnow())
        for _ in range(50)
    ]
    results = await asyncio.gather(*claims)
    assert results.count(True) == 1
    intent = await store.intents.get("abc")
    assert intent is not None and intent.status == "SENDING" and intent.payload == {"x": 1}


async def test_only_one_claim_wins_across_connections(tmp_path: Path) -> None:
    """Separate connections (as after a restart overlap) race in SQLite itself, not in one
    connection's queue: still exactly one UPDATE matches."""
    stores = [await Store.open(tmp_path / "db.sqlite") for _ in range(8)]
    try:
        for n in range(5):
            await _add(stores[0], f"i{n}")
        claims = [
            store.intents.transition(f"i{n}", "PENDING", to, unexpired_at=utcnow())
            for n in range(5)
            for store in stores
            for to in ("SENDING", "DECLINED")
        ]
        results = await asyncio.gather(*claims)
        assert results.count(True) == 5
        for n in range(5):
            intent = await stores[-1].intents.get(f"i{n}")
            assert intent is not None and intent.status in ("SENDING", "DECLINED")
    finally:
        for store in stores:
            await store.close()
