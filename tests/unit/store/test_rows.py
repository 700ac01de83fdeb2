"""The row mapper: columns to dataclass fields by name, converted by the field's type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from bot.store.rows import RowMapper


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    count: int
    at: datetime
    seen: datetime | None
    data: dict[str, Any]
    items: list[int] | None
    note: str | None


async def test_rows_map_by_name_and_type() -> None:
    async with aiosqlite.connect(":memory:") as db:
        db.row_factory = aiosqlite.Row
        await db.execute(
            "CREATE TABLE t (extra TEXT, note TEXT, items TEXT, data TEXT, seen TEXT, at TEXT,"
            " count INTEGER, name TEXT)"
        )
        await db.execute(
            "INSERT INTO t VALUES ('ignored', NULL, '[1, 2]', '{\"a\": {\"b\": null}}',"
            " NULL, '2026-04-01T04:30:00+00:00', 3, 'x')"
        )
        await db.execute(
            "INSERT INTO t VALUES ('', 'n', NULL, '{}', '2026-04-02T04:30:00.5+00:00',"
            " '2026-04-01T04:30:00+00:00', 0, 'y')"
        )
        rows = await RowMapper(Sample).select(db, "SELECT * FROM t ORDER BY name")
    at = datetime(2026, 4, 1, 4, 30, tzinfo=UTC)
    assert rows == [
        Sample("x", 3, at, None, {"a": {"b": None}}, [1, 2], None),
        Sample("y", 0, at, datetime(2026, 4, 2, 4, 30, 0, 500000, tzinfo=UTC), {}, None, "n"),
    ]
