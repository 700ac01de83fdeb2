"""A unit of work: its statements land together in one commit, or not at all."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store.connection import Store
from bot.store.unit import RowId, Step


async def test_a_required_step_that_changes_no_row_stops_the_steps_after_it(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "db.sqlite")
    try:
        audit = Step("INSERT INTO audit (at, user_id, kind, what) VALUES ('t', 1, 'tap', 'x')")
        lost = Step("UPDATE audit SET outcome = 'won' WHERE id = -1", required=True)
        after = Step("INSERT INTO audit (at, user_id, kind, what) VALUES ('t', 1, 'tap', 'y')")
        done = await store.write(audit, lost, after)
        assert not done.complete and done.rowcounts == (1, 0)
        assert [line["what"] for line in await store.audit.latest()] == ["x"]
    finally:
        await store.close()


async def test_a_failing_step_rolls_the_whole_unit_back(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite")
    try:
        audit = Step("INSERT INTO audit (at, user_id, kind, what) VALUES ('t', 1, 'tap', 'x')")
        broken = Step("INSERT INTO no_such_table VALUES (1)")
        with pytest.raises(sqlite3.OperationalError):
            await store.write(audit, broken)
        assert await store.audit.latest() == []
        await store.audit.add(1, "tap", "later")  # the connection is usable after
        assert [line["what"] for line in await store.audit.latest()] == ["later"]
    finally:
        await store.close()


async def test_a_step_notes_its_row_id_only_when_its_unit_committed(tmp_path: Path) -> None:
    """A step handed to another caller's unit tells its owner the row it inserted; a unit that
    rolled back, or stopped before the step, leaves it unnoted."""
    store = await Store.open(tmp_path / "db.sqlite")
    try:
        sql = "INSERT INTO audit (at, user_id, kind, what) VALUES ('t', 1, 'tap', ?)"
        noted, rolled_back, skipped = RowId(), RowId(), RowId()
        await store.write(Step(sql, ("x",), rowid=noted))
        [line] = await store.audit.latest()
        assert noted.value == line["id"]
        with pytest.raises(sqlite3.OperationalError):
            await store.write(
                Step(sql, ("y",), rowid=rolled_back), Step("INSERT INTO no_such_table VALUES (1)")
            )
        lost = Step("UPDATE audit SET outcome = 'won' WHERE id = -1", required=True)
        await store.write(lost, Step(sql, ("z",), rowid=skipped))
        assert rolled_back.value is None and skipped.value is None
        assert [line["what"] for line in await store.audit.latest()] == ["x"]
    finally:
        await store.close()
