"""Storage: migrations, WAL, and the compare-and-set that makes a confirmation single-use."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.clock import utcnow
from bot.store.connection import Store


async def test_migrations_wal_and_reopen(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = await Store.open(tmp_path / "sub" / "db.sqlite")
    assert await store.schema_version() == 1
    await store.close()
    store = await Store.open(tmp_path / "sub" / "db.sqlite")
    assert await store.schema_version() == 1
    async with store._db.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"
    await store.close()


async def test_only_one_claim_wins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = await Store.open(tmp_path / "db.sqlite")
    await store.add_intent(
        "abc", user_id=1, chat_id=1, action="place", payload={"x": 1},
        expires_at=utcnow() + timedelta(seconds=60),
    )  # fmt: skip
    claims = [
        store.transition_intent("abc", "PENDING", "SENDING", unexpired_at=utcnow())
        for _ in range(20)
    ]
    results = await asyncio.gather(*claims)
    assert results.count(True) == 1
    intent = await store.get_intent("abc")
    assert intent is not None and intent.status == "SENDING" and intent.payload == {"x": 1}
    await store.close()


async def test_expired_intent_cannot_be_claimed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = await Store.open(tmp_path / "db.sqlite")
    await store.add_intent(
        "old", user_id=1, chat_id=1, action="place", payload={},
        expires_at=utcnow() - timedelta(seconds=1),
    )  # fmt: skip
    assert not await store.transition_intent("old", "PENDING", "SENDING", unexpired_at=utcnow())
    await store.close()


async def test_audit_line_is_written_before_its_outcome(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = await Store.open(tmp_path / "db.sqlite")
    line = await store.audit(7, "command", "/buy NSE:SBIN 1")
    [row] = await store.audit_lines()
    assert row["what"] == "/buy NSE:SBIN 1" and row["outcome"] is None
    await store.audit_outcome(line, "ok")
    [row] = await store.audit_lines()
    assert row["outcome"] == "ok" and row["user_id"] == 7
    await store.close()
