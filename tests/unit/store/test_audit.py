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


async def test_a_line_never_written_is_closed_whole_in_one_insert(store: Store) -> None:
    line = store.audit.line(7, "tap", "cf:abc")
    assert line.id is None and await store.audit.latest() == []
    await line.close("refused: not_owner")
    [row] = await store.audit.latest()
    assert (row["user_id"], row["kind"], row["what"]) == (7, "tap", "cf:abc")
    assert row["outcome"] == "refused: not_owner" and row["at"]


async def test_a_line_written_in_another_unit_is_closed_by_its_id(store: Store) -> None:
    """The line's insert rides in a unit of work of someone else's (the desk's claim); its
    outcome then updates that row, and `write` does not write it twice."""
    line = store.audit.line(7, "tap", "cf:abc")
    await store.write(line.step)
    await line.write()
    [row] = await store.audit.latest()
    assert row["id"] == line.id and row["outcome"] is None
    await line.close("done")
    [row] = await store.audit.latest()
    assert row["id"] == line.id and row["outcome"] == "done"
