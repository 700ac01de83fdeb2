"""A broker's instrument-master files for one trading day, kept on disk.

Kotak publishes one scrip master per IST trading date (several segment CSVs), mStock one JSON
instrument list; both are large, so each is downloaded once a day and read back from disk on a
restart the same day. Layout: `cache_dir/<YYYY-MM-DD>/<name><suffix>`, with a `manifest.json`
written last: a day folder without it is incomplete (a crash mid-download) and is fetched again.
Older day folders are removed once a new day is complete. What the files mean is the caller's
business: this module only stores bytes and hands back paths.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from brokers.errors import BrokerUnavailable

__all__ = ["DailyFiles", "TodaysMaster", "write_atomic"]

log = logging.getLogger(__name__)

_DAY_DIR = re.compile(r"\d{4}-\d{2}-\d{2}")
_MANIFEST = "manifest.json"


def write_atomic(path: Path, content: bytes) -> None:
    """Write `content` so that a reader sees the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def _read_manifest(day_dir: Path, suffix: str) -> dict[str, Path] | None:
    try:
        names = json.loads((day_dir / _MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    files = {str(name): day_dir / f"{name}{suffix}" for name in names}
    if not all(p.is_file() for p in files.values()):
        return None
    return files


def _prune(cache_dir: Path, keep: str) -> None:
    if not cache_dir.is_dir():
        return
    for child in cache_dir.iterdir():
        if child.is_dir() and _DAY_DIR.fullmatch(child.name) and child.name != keep:
            shutil.rmtree(child, ignore_errors=True)


class DailyFiles:
    """The day's master files under `cache_dir`, downloaded at most once per day.

    `what` names the master in messages ("Kotak scrip master"); `suffix` is the files' ending.
    """

    def __init__(self, cache_dir: Path, *, what: str, suffix: str) -> None:
        self.cache_dir = cache_dir
        self.what = what
        self.suffix = suffix

    async def fetch(
        self,
        day: date,
        sources: Callable[[], Awaitable[Mapping[str, str]]],
        download: Callable[[str], Awaitable[bytes]],
    ) -> dict[str, Path]:
        """The day's files by name: from disk when the day is complete there, else `sources()`
        (name -> URL or path) downloaded one by one with `download`, stored, and the older
        days pruned. All file work runs in a thread: the event loop never waits on the disk."""
        day_dir = self.cache_dir / day.isoformat()
        files = await asyncio.to_thread(_read_manifest, day_dir, self.suffix)
        if files is not None:
            return files
        chosen = await sources()
        if not chosen:
            raise BrokerUnavailable(f"{self.what}: nothing to download")
        files = {}
        for name, url in chosen.items():
            content = await download(url)
            path = day_dir / f"{name}{self.suffix}"
            await asyncio.to_thread(write_atomic, path, content)
            files[name] = path
        manifest = json.dumps(sorted(files)).encode()
        await asyncio.to_thread(write_atomic, day_dir / _MANIFEST, manifest)
        await asyncio.to_thread(_prune, self.cache_dir, day.isoformat())
        log.info("%s for %s: %d file(s) stored", self.what, day.isoformat(), len(files))
        return files


class _Dated(Protocol):
    day: date | None  # the trading day it is the master of (None: undated, as in tests)


M = TypeVar("M", bound=_Dated)


class TodaysMaster(Generic[M]):
    """The instrument master of the current trading day, loaded once per day: callers of the
    same day share one load (single flight), and the first call on a new day loads that day's.
    `today` is the IST trading date (tests move it on); `load` builds the master for a day."""

    def __init__(self, today: Callable[[], date], load: Callable[[date], Awaitable[M]]) -> None:
        self._today = today
        self._load = load
        self._master: M | None = None
        self._lock = asyncio.Lock()

    def version(self) -> str:
        """`VersionedInstruments`: the day whose master is served now."""
        return self._today().isoformat()

    async def get(self) -> M:
        today = self._today()
        if self._master is not None and self._master.day == today:
            return self._master
        async with self._lock:
            if self._master is None or self._master.day != today:
                self._master = await self._load(today)
        return self._master
