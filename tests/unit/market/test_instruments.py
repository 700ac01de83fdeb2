"""The instrument index: search returns exactly what a full scan would (every word in the key,
name or kind; nearest expiry first; at most `limit`), through the trigram index or the worker
thread, and a rebuild replaces the contents in one step."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.errors import UserError
from bot.market.instruments import InstrumentIndex
from brokers.models import Instrument, InstrumentKind
from brokers.paper.instruments import build_instruments

INSTRUMENTS = build_instruments(date(2026, 3, 2))


def full_scan(instruments: list[Instrument], text: str, limit: int = 15) -> list[Instrument]:
    """The definition of a search result, the slow way."""
    words = text.lower().split()
    by_key = {i.key: i for i in instruments}
    hits = [
        i
        for i in by_key.values()
        if all(w in f"{i.key} {i.name} {i.kind.value}".lower() for w in words)
    ]
    hits.sort(key=lambda i: (i.expiry or date.min, len(i.symbol), i.key))
    return hits[:limit]


QUERIES = [
    "nifty", "NIFTY 24000 ce", "banknifty fut", "sbin", "state bank", "reliance",
    "ce", "pe 50", "c", "24", "mar26", "nse_index", "call", "future nifty",
    "xyzzy", "qz", "nifty xyzzy", "nfo:nifty", "infy tcs",
]  # fmt: skip


@pytest.mark.parametrize("text", QUERIES)
async def test_search_finds_what_a_full_scan_finds(text: str) -> None:
    index = InstrumentIndex(INSTRUMENTS)
    assert await index.search(text) == full_scan(INSTRUMENTS, text)
    assert await index.search(text, limit=500) == full_scan(INSTRUMENTS, text, limit=500)


async def test_many_candidates_are_checked_off_the_loop_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.market.instruments as module

    threaded: list[object] = []

    async def to_thread(fn, /, *args):  # type: ignore[no-untyped-def]
        threaded.append(fn)
        return fn(*args)

    monkeypatch.setattr(module.asyncio, "to_thread", to_thread)
    monkeypatch.setattr(module, "INLINE_CANDIDATES", 10)
    index = InstrumentIndex(INSTRUMENTS)
    assert await index.search("ce") == full_scan(INSTRUMENTS, "ce")
    assert threaded  # the broad query went to the thread
    threaded.clear()
    assert await index.search("xyzzy") == []
    assert threaded == []  # a trigram nobody holds is answered at once


async def test_a_rebuild_replaces_lookups_and_search_together() -> None:
    old = Instrument("NFO", "NIFTY02MAR2624000CE", "NIFTY", InstrumentKind.CALL, Decimal("0.05"),
                     lot_size=65, expiry=date(2026, 3, 2), strike=Decimal(24000))  # fmt: skip
    new = Instrument("NFO", "NIFTY09MAR2624000CE", "NIFTY", InstrumentKind.CALL, Decimal("0.05"),
                     lot_size=75, expiry=date(2026, 3, 9), strike=Decimal(24000))  # fmt: skip
    index = InstrumentIndex([old], version="2026-03-02")
    await index.rebuild([new], "2026-03-03")
    assert index.version == "2026-03-03"
    assert index.get(old.key) is None and index.resolve(new.key).lot_size == 75
    assert await index.search("nifty") == [new]
    with pytest.raises(UserError, match="/search nifty02mar26"):
        index.resolve(old.key)


async def test_search_postings_can_wait_until_the_bot_polls() -> None:
    """Built with `search=False` (the bot's start-up), the index serves lookups and searches
    before its postings exist, and makes them only once asked (after polling starts)."""
    instruments = INSTRUMENTS
    index = await InstrumentIndex.build(instruments, search=False)
    assert index.get(instruments[0].key) == instruments[0]
    before = await index.search("nifty")
    assert index._tables.grams is None  # no postings yet: the rows were scanned
    index.start_search_postings()
    await index.ready_for_search()
    assert index._tables.grams is not None
    assert await index.search("nifty") == before == full_scan(instruments, "nifty")


async def test_the_start_up_build_leaves_the_result_order_to_the_background() -> None:
    """The bot's start-up build makes only the lookups: the rows are put in result order by
    the postings' build or by the first search, in a worker thread, and /help's example is
    the same contract either way."""
    instruments = INSTRUMENTS
    index = await InstrumentIndex.build(instruments, search=False)
    assert index._tables.rows is None  # not sorted on the start-up path
    example = index.example_option()
    assert example is not None and example.underlying == "NIFTY"
    assert await index.search("banknifty fut") == full_scan(instruments, "banknifty fut")
    assert index._tables.rows is not None
    built = await InstrumentIndex.build(instruments)
    assert built.example_option() == example
