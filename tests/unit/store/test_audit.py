"""The audit repository: a line before acting, its outcome after."""

from __future__ import annotations

from bot.store.connection import Store


async def test_a_line_is_written_before_its_outcome(store: Store) -> None:
    line = await store.audit.add(7, "command", "/buy NSE:SBIN 1")
    [row] = await store.audit.latest()
    assert row["what"] == "/buy NSE:SBIN 1" and row["outcome"] is None
    await store.audit.set_outcome(line, "ok")
    [row] = await store.audit.latest()
    assert row["outcome"] == "ok" and row["user_id"] == 7 and row["kind"] == "command"
    assert row["id"] == line and row["at"]


async def test_the_newest_lines_come_first(store: Store) -> None:
    ids = [await store.audit.add(None, "tap", f"c:{n}") for n in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    rows = await store.audit.latest(limit=3)
    assert [r["what"] for r in rows] == ["c:4", "c:3", "c:2"]
    assert rows[0]["user_id"] is None
