"""The shared daily master cache: one download per day, a crash mid-download refetches, older
days are pruned."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from brokers.master_cache import DailyFiles, TodaysMaster


async def test_one_download_per_day_then_disk_and_prune(tmp_path: Path) -> None:
    fetched: list[str] = []

    async def sources() -> dict[str, str]:
        return {"all": "https://cdn.test/master.json"}

    async def download(url: str) -> bytes:
        fetched.append(url)
        return b"[]"

    files = DailyFiles(tmp_path, what="test master", suffix=".json")
    first = await files.fetch(date(2026, 9, 1), sources, download)
    again = await DailyFiles(tmp_path, what="test master", suffix=".json").fetch(
        date(2026, 9, 1), sources, download
    )
    assert first == again == {"all": tmp_path / "2026-09-01" / "all.json"}
    assert len(fetched) == 1
    await files.fetch(date(2026, 9, 2), sources, download)
    assert len(fetched) == 2
    assert sorted(os.listdir(tmp_path)) == ["2026-09-02"]


async def test_a_day_without_its_manifest_is_fetched_again(tmp_path: Path) -> None:
    calls: list[int] = []

    async def sources() -> dict[str, str]:
        return {"all": "u"}

    async def download(url: str) -> bytes:
        calls.append(1)
        return b"[]"

    files = DailyFiles(tmp_path, what="test master", suffix=".json")
    await files.fetch(date(2026, 9, 1), sources, download)
    (tmp_path / "2026-09-01" / "manifest.json").unlink()  # as if the process died before it
    await files.fetch(date(2026, 9, 1), sources, download)
    assert len(calls) == 2


async def test_todays_master_loads_once_per_day_for_concurrent_callers() -> None:
    @dataclass
    class Master:
        day: date | None

    days = [date(2026, 4, 1)]
    loads: list[date] = []

    async def load(day: date) -> Master:
        loads.append(day)
        await asyncio.sleep(0.01)  # callers arrive while it loads
        return Master(day)

    master = TodaysMaster[Master](lambda: days[0], load)
    first = await asyncio.gather(*(master.get() for _ in range(5)))
    assert loads == [date(2026, 4, 1)] and len({id(m) for m in first}) == 1
    assert master.version() == "2026-04-01"

    days[0] = date(2026, 4, 2)  # the next trading day: its master, once
    again = await asyncio.gather(master.get(), master.get())
    assert loads == [date(2026, 4, 1), date(2026, 4, 2)]
    assert again[0] is again[1] and again[0].day == date(2026, 4, 2)


async def test_holders_of_one_kind_and_dir_share_one_load_until_the_last_is_gone(
    tmp_path: Path,
) -> None:
    """Accounts of one broker in one process: the first caller's load runs once for all the
    holders of a (kind, cache dir); another kind or dir loads its own; once no holder is left
    the master goes with them (a later holder loads again)."""

    @dataclass
    class Master:
        day: date | None

    day = date(2026, 4, 1)
    loads: list[str] = []

    def loader(who: str) -> Callable[[date], Awaitable[Master]]:
        async def load(when: date) -> Master:
            loads.append(who)
            await asyncio.sleep(0.01)
            return Master(when)

        return load

    def holder(who: str, kind: str = "k", where: Path = tmp_path) -> TodaysMaster[Master]:
        return TodaysMaster[Master](lambda: day, loader(who), kind=kind, cache_dir=where)

    a, b = holder("a"), holder("b", where=tmp_path / "x" / "..")
    other_kind, other_dir = holder("c", kind="k2"), holder("d", where=tmp_path / "x")
    got = await asyncio.gather(a.get(), b.get(), other_kind.get(), other_dir.get())
    assert got[0] is got[1] and a.master_key == b.master_key
    assert sorted(loads) == ["a", "c", "d"]
    assert len({id(m) for m in got}) == 3
    assert TodaysMaster[Master](lambda: day, loader("e")).master_key != a.master_key
    del a, b, got
    gc.collect()
    await holder("f").get()
    assert loads[-1] == "f"
