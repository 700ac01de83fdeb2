"""The shared daily master cache: one download per day, a crash mid-download refetches, older
days are pruned."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from brokers.master_cache import DailyFiles


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
