"""The daily-limit tables: keyed by account name (several accounts share one database), one open
halt per account and day, a resume that only one caller wins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.store.connection import Store

DAY = date(2026, 12, 2)
AT = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "db.sqlite")
    try:
        yield s
    finally:
        await s.close()


async def test_limits_and_halts_are_per_account(store: Store) -> None:
    repo = store.limits
    await repo.change("family", "loss", Decimal(5000), 1, AT)
    await repo.change("family", "loss", Decimal(4000), 1, AT)
    await repo.change("huf", "orders", Decimal(20), 1, AT)
    assert await repo.changed("family") == {"loss": Decimal(4000)}
    assert await repo.changed("huf") == {"orders": Decimal(20)}
    assert await repo.halt("family", DAY, "loss", Decimal(4000), Decimal(4100), AT)
    assert not await repo.halt("family", DAY, "orders", Decimal(20), Decimal(20), AT)
    assert await repo.halt("huf", DAY, "orders", Decimal(20), Decimal(20), AT)
    assert await repo.open_halt("family", DAY + timedelta(days=1)) is None
    halt = await repo.open_halt("family", DAY)
    assert halt is not None and (halt.kind, halt.actual) == ("loss", Decimal(4100))


async def test_a_resume_wins_once_and_waives_until_the_limit_changes(store: Store) -> None:
    repo = store.limits
    assert await repo.halt("family", DAY, "loss", Decimal(1000), Decimal(1500), AT)
    halt = await repo.open_halt("family", DAY)
    assert halt is not None
    assert not await repo.resume("huf", halt.id, 7, AT)  # another account's halt id
    assert await repo.resume("family", halt.id, 7, AT + timedelta(minutes=1))
    assert not await repo.resume("family", halt.id, 8, AT + timedelta(minutes=2))
    assert await repo.open_halt("family", DAY) is None
    assert await repo.waived("family", DAY) == {"loss"}
    await repo.change("family", "loss", Decimal(2000), 7, AT + timedelta(minutes=3))
    assert await repo.waived("family", DAY) == frozenset()
    # A new halt the same day is possible once the first is resumed.
    assert await repo.halt("family", DAY, "loss", Decimal(2000), Decimal(2100), AT)
