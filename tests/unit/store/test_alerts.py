"""The alerts table: rows and their state survive a reopen, removal is owner-only, a fired
one-shot leaves the active list, and the schema comes from the 0002 migration."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.store.alerts import AlertRepo, AlertState
from bot.store.connection import Store

T0 = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)


async def _add(repo: AlertRepo, user_id: int, symbol: str = "NSE:SBIN") -> int:
    row = await repo.add(
        user_id=user_id, chat_id=user_id, symbol=symbol, kind="above", level="812.5",
        reference=None, note="n", repeat=True, cooldown_seconds=60, side="below",
    )  # fmt: skip
    return row.id


async def test_alerts_and_their_state_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = await Store.open(path)
    assert await store.schema_version() >= 2
    first = await _add(store.alerts, 7)
    second = await _add(store.alerts, 7, "NSE:INFY")
    await store.alerts.save_states(
        [
            AlertState(first, "above", T0, fired=True, done=False),
            AlertState(second, "above", T0, fired=True, done=True),
        ]
    )
    await store.close()

    store = await Store.open(path)
    try:
        active = await store.alerts.active()
        assert [(r.id, r.side, r.fired_at, r.fire_count, r.status) for r in active] == [
            (first, "above", T0, 1, "ACTIVE")
        ]
        row = active[0]
        assert (row.symbol, row.kind, row.level, row.reference, row.note) == (
            "NSE:SBIN", "above", "812.5", None, "n",
        )  # fmt: skip
        assert (row.repeat, row.cooldown_seconds) == (1, 60)
        done = await store.alerts.get(second)
        assert done is not None and done.status == "FIRED"
    finally:
        await store.close()


async def test_removal_is_by_the_owner_and_a_late_state_is_dropped(store: Store) -> None:
    mine, theirs = await _add(store.alerts, 7), await _add(store.alerts, 8)
    assert not await store.alerts.remove(theirs, 7)
    assert await store.alerts.remove(mine, 7)
    assert not await store.alerts.remove(mine, 7)
    await store.alerts.save_states([AlertState(mine, "above", T0, fired=True, done=False)])
    assert await store.alerts.get(mine) is None
    assert [r.id for r in await store.alerts.of_user(8)] == [theirs]
    assert await store.alerts.of_user(7) == []
