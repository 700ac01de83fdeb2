"""The instrument index follows the broker's master.

Kotak publishes a new scrip master every trading day: lot sizes and freeze limits change, new
expiries appear and expired contracts are gone. A broker whose master changes says which one
`instruments()` serves now with a cheap `version()` (the optional `VersionedInstruments`
capability of `brokers.base`; the wiring passes it in, so this room never looks into an
adapter). Every `every` seconds the follower compares it with the version the index was built
from and, when it moved, loads the new list through the account and rebuilds the index off the
event loop. A failed load keeps the old index and is tried again at the next check.

The master and its index are the largest long-lived objects in the process (150k instruments
and their tables). Left to the cyclic garbage collector, every full collection walks all of them
and stops the event loop for 150-250 ms (bench/gc_pause.py). They hold no reference cycles, so
once loaded they are moved out of its reach (`gc.freeze()`); reference counting still frees
them when the next day's master replaces them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.market.instruments import InstrumentIndex
from brokers.errors import BrokerError
from brokers.models import Instrument

log = logging.getLogger(__name__)

Load = Callable[[], Awaitable[Sequence[Instrument]]]


def keep_out_of_gc() -> None:
    """Move every object alive now (the loaded master and index among them) to the collector's
    permanent generation: later collections skip them. Call right after loading."""
    gc.freeze()


class IndexFollower:
    def __init__(
        self, load: Load, version: Callable[[], str] | None = None, *, every: float = 60.0
    ) -> None:
        """`load` is the account's `instruments`; `version` the broker's master version, or
        None for a broker whose list never changes (then the index is built once)."""
        self._load = load
        self._version = version
        self._every = every
        self.index: InstrumentIndex | None = None

    async def first(self, *, search: bool = True) -> InstrumentIndex:
        """Load the list and build the index (raises the broker's error if it cannot); its
        search postings start now, or with `search=False` when the caller says (see
        `InstrumentIndex.build`)."""
        version = self._version() if self._version else None
        gc.collect()  # once, before anything is served: no garbage gets frozen with the rest
        instruments = await self._load()
        keep_out_of_gc()  # before the build allocates: the new list is never walked
        self.index = await InstrumentIndex.build(instruments, version, search=search)
        keep_out_of_gc()
        return self.index

    async def refresh(self) -> bool:
        """Rebuild the index if the broker's master moved on; True when it did."""
        if self.index is None or self._version is None:
            return False
        version = self._version()
        if version == self.index.version:
            return False
        instruments = await self._load()
        keep_out_of_gc()
        await self.index.rebuild(instruments, version)
        keep_out_of_gc()
        log.info("instrument index rebuilt for master %s: %d instruments", version, len(self.index))
        return True

    async def run(self) -> None:
        """Check for a new master every `every` seconds, until cancelled."""
        if self._version is None:
            return
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.refresh()
            except BrokerError as exc:
                log.warning("new instrument master not loaded yet: %s", exc.message)
            except Exception:
                log.exception("instrument index refresh failed")
