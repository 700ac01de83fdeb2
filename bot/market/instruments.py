"""The instrument index: symbol lookup and free-text search over the broker's instrument list.

Built once at start-up (and on a master refresh) from `Broker.instruments()`. Building is plain
CPU work over up to a few hundred thousand rows, so it runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import date

from bot.errors import UserError
from brokers.models import Instrument

EXCHANGES = ("NSE", "BSE", "NFO", "BFO", "CDS", "BCD", "MCX", "NSE_INDEX", "BSE_INDEX")


class InstrumentIndex:
    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._by_key: dict[str, Instrument] = {}
        self._search_rows: list[tuple[str, Instrument]] = []
        for inst in instruments:
            self._by_key[inst.key] = inst
            text = f"{inst.key} {inst.name} {inst.kind.value}".lower()
            self._search_rows.append((text, inst))

    @classmethod
    async def build(cls, instruments: Sequence[Instrument]) -> InstrumentIndex:
        return await asyncio.to_thread(cls, instruments)

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, key: str) -> Instrument | None:
        return self._by_key.get(key.upper())

    def resolve(self, key: str) -> Instrument:
        """The instrument for `EXCHANGE:SYMBOL`, or a UserError that says how to find it."""
        inst = self.get(key)
        if inst is None:
            symbol = key.partition(":")[2] or key
            raise UserError(
                "unknown_symbol",
                f"I don't know the instrument {key}. Find the exact symbol with "
                f"/search {symbol.lower()[:12]}.",
            )
        return inst

    def search(self, text: str, limit: int = 15) -> list[Instrument]:
        """Instruments whose key, name or kind contain every word of `text`, nearest expiry
        first, so `/search nifty 24000 ce` lists the current week's contract at the top."""
        words = [w for w in text.lower().split() if w]
        if not words:
            return []
        hits = [inst for row, inst in self._search_rows if all(w in row for w in words)]
        hits.sort(key=lambda i: (i.expiry or date.min, len(i.symbol), i.key))
        return hits[:limit]
