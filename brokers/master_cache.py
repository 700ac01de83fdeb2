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
import weakref
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

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


class _Slot:
    """What the holders of one master share: the loaded master and the lock of its load."""

    __slots__ = ("__weakref__", "lock", "master")

    def __init__(self) -> None:
        self.master: Any = None
        self.lock = asyncio.Lock()


# (what the master is, resolved cache dir) -> the slot its holders share. Weak: a slot, and the
# 150k instruments in it, go once the last adapter that holds it is gone (tests make many).
_SHARED: weakref.WeakValueDictionary[str, _Slot] = weakref.WeakValueDictionary()


def _shared_slot(key: str) -> _Slot:
    slot = _SHARED.get(key)
    if slot is None:
        slot = _SHARED[key] = _Slot()
    return slot


class TodaysMaster(Generic[M]):
    """The instrument master of the current trading day, loaded once per day: callers of the
    same day share one load (single flight), and the first call on a new day loads that day's.
    `today` is the IST trading date (tests move it on); `load` builds the master for a day.

    Several accounts of one broker in one process (the accounts file) read one master: holders
    made with the same `kind` and `cache_dir` share it, loaded once for all of them (the first
    caller's `load` runs; the others wait for it) and handed to each as the same object, so the
    core can build one instrument index per broker (`master_key`). `kind` names the broker and
    whatever else changes its parse (Kotak's segments, mStock's freeze table): holders whose
    masters differ must not share. Without them the holder is its own (tests, paper)."""

    def __init__(
        self,
        today: Callable[[], date],
        load: Callable[[date], Awaitable[M]],
        *,
        kind: str | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._today = today
        self._load = load
        if kind is not None and cache_dir is not None:
            self.master_key = f"{kind}@{cache_dir.resolve()}"
            self._slot = _shared_slot(self.master_key)
        else:
            self._slot = _Slot()
            self.master_key = f"own@{id(self._slot)}"

    def version(self) -> str:
        """`VersionedInstruments`: the day whose master is served now."""
        return self._today().isoformat()

    async def get(self) -> M:
        slot, today = self._slot, self._today()
        master: M | None = slot.master
        if master is not None and master.day == today:
            return master
        async with slot.lock:
            master = slot.master
            if master is None or master.day != today:
                master = slot.master = await self._load(today)
        return master
