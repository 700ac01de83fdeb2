"""The instrument index: symbol lookup and free-text search over the broker's instrument list.

Built at start-up and again whenever the broker's master changes (see `bot.market.follow`), from
`Broker.instruments()`. Building is plain CPU work over up to a few hundred thousand rows, so it
runs in a worker thread, off the event loop; the finished tables replace the old ones in one
assignment, so a reader sees the old index or the new one, never a mix.

Search is the one read that could scan everything: a linear pass over the Kotak master's 150k
rows takes about 100 ms, all of it on the event loop. So the rows are kept in result order
(nearest expiry first) with a trigram index over their text: a query looks only at the rows
that hold the rarest trigram of its words, in order, and stops at the limit. That is well under
a millisecond; a query whose candidates are still many (only short words, or very common ones)
is checked in a worker thread instead, stopping as early.
"""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Iterable, Sequence
from datetime import date

from bot.echo import clip
from bot.errors import UserError
from brokers.memory import return_free_memory
from brokers.models import Instrument, InstrumentKind

EXCHANGES = ("NSE", "BSE", "NFO", "BFO", "CDS", "BCD", "MCX", "NSE_INDEX", "BSE_INDEX")

GRAM = 3
# Rows per block of the search postings (see `_Grams`).
BLOCK = 8
# Candidates checked on the event loop at most (about 0.6 µs each, their text made on the way);
# more go to a thread.
INLINE_CANDIDATES = 500
# Narrowing the candidates by another trigram's posting stops once they are this few, or when
# that posting is so much longer that making a set of it (~40 ns a row) costs more than checking
# the candidates' texts (~300 ns each).
NARROW_ENOUGH = 64
NARROW_RATIO = 8


def _search_text(inst: Instrument) -> str:
    return f"{inst.key} {inst.name} {inst.kind.value}".lower()


def _expiry_then_length(inst: Instrument) -> int:
    return (inst.expiry or date.min).toordinal() << 16 | len(inst.key) - len(inst.exchange)


def _grams(text: str) -> set[str]:
    return {text[i : i + GRAM] for i in range(len(text) - GRAM + 1)}


EXAMPLE_ROOT = "NIFTY"


def _example_option(rows: Iterable[Instrument]) -> Instrument | None:
    """The NIFTY call of the nearest expiry whose strike is the middle of that expiry's listed
    strikes: listed strikes are spread around the money, so the middle one is near it without
    asking the broker for a price. Examples in /help use it, so they always name a contract
    that trades today."""
    calls = [
        i
        for i in rows
        if i.kind is InstrumentKind.CALL and i.underlying == EXAMPLE_ROOT and i.strike is not None
    ]
    if not calls:
        return None
    nearest = min(i.expiry or date.max for i in calls)
    strikes = sorted(
        (i for i in calls if (i.expiry or date.max) == nearest), key=lambda i: i.strike or 0
    )
    return strikes[(len(strikes) - 1) // 2]


class _Grams:
    """For each trigram, the ascending numbers of the row blocks (`BLOCK` rows in result order)
    whose search texts hold it; and every one- and two-character piece of some text (each
    text, key + name + kind, is longer than a trigram): a shorter word that is not among them
    matches nothing.

    Blocks rather than rows: rows next to each other in result order mostly share their
    trigrams (one underlying, one expiry), so a posting names each block once where it would
    name up to `BLOCK` rows, in 16-bit numbers where the rows would take 32: 16 MB less on a
    150k-row master, for a few more texts to check per match."""

    __slots__ = ("postings", "short")

    def __init__(self, rows: Sequence[Instrument]) -> None:
        self.postings: dict[str, array[int]] = {}
        postings = self.postings
        code = "H" if len(rows) // BLOCK < 1 << 16 else "I"
        for number, inst in enumerate(rows):
            block = number // BLOCK
            for gram in _grams(_search_text(inst)):
                posting = postings.get(gram)
                if posting is None:
                    postings[gram] = array(code, (block,))
                elif posting[-1] != block:
                    posting.append(block)
        self.short = frozenset(
            gram[i : i + size]
            for gram in postings
            for size in (1, 2)
            for i in range(GRAM - size + 1)
        )


class _Tables:
    """One build of the index: lookups by key, rows in result order and, once `index_grams`
    has run, the trigram postings over their search texts. The texts themselves are not kept
    (11 MB on a 150k-row master): a candidate's text is made again when it is checked.

    The lookups are what orders need and take a fraction of the build; the result order and
    the postings only serve /search (and /help's example). So `InstrumentIndex.build` returns
    once the lookups exist and sorts and makes the postings in the background (a restart is
    80 ms sooner up, bench/startup.py); a search before then sorts and scans the rows in a
    worker thread."""

    __slots__ = ("_example", "by_key", "grams", "rows")

    def __init__(self, instruments: Iterable[Instrument], *, grams: bool = True) -> None:
        self.by_key: dict[str, Instrument] = {inst.key: inst for inst in instruments}
        self.rows: list[Instrument] | None = None
        self._example: tuple[Instrument | None] | None = None
        self.grams: _Grams | None = None
        if grams:
            self.index_grams()
        else:
            return_free_memory()

    def ordered(self) -> list[Instrument]:
        """The rows in result order: (expiry or date.min, len(symbol), key), made by two stable
        sorts on plain strings and ints, which compare several times faster than those tuples.
        Sorted on first use, in a worker thread (the postings' build or an early search): two
        threads that both sort make the same order, so either one's rows serve."""
        rows = self.rows
        if rows is None:
            rows = list(map(self.by_key.__getitem__, sorted(self.by_key)))
            rows.sort(key=_expiry_then_length)
            self.rows = rows
        return rows

    def example(self) -> Instrument | None:
        """`_example_option`, found once (its one pass over the rows needs no order)."""
        if self._example is None:
            self._example = (_example_option(self.by_key.values()),)
        return self._example[0]

    def index_grams(self) -> None:
        rows = self.ordered()
        self.example()
        self.grams = _Grams(rows)  # one assignment: a reader sees none or all of it
        return_free_memory()

    def candidates(self, words: Sequence[str]) -> Sequence[int]:
        """The row blocks that can match, ascending: the blocks holding every trigram of the
        words, narrowed from the shortest posting by the next shortest ones while that is
        cheap. A trigram or a short word that no row holds means nothing matches; with no word
        long enough to have a trigram (or no postings yet), every block is a candidate."""
        grams = self.grams
        every = range(-(-len(self.by_key) // BLOCK))
        if grams is None:
            return every
        postings = []
        for word in words:
            if len(word) < GRAM and word not in grams.short:
                return ()
            for gram in _grams(word):
                posting = grams.postings.get(gram)
                if posting is None:
                    return ()
                postings.append(posting)
        if not postings:
            return every
        postings.sort(key=len)
        best: Sequence[int] = postings[0]
        for posting in postings[1:]:
            if len(best) <= NARROW_ENOUGH or len(posting) > NARROW_RATIO * len(best):
                break
            best = list(filter(set(posting).__contains__, best))  # both loops run in C
        return best

    def matches(self, words: Sequence[str], blocks: Sequence[int], limit: int) -> list[int]:
        """The first `limit` rows of the candidate blocks whose text contains every word."""
        rows, found = self.ordered(), []
        for block in blocks:
            for number in range(block * BLOCK, min(block * BLOCK + BLOCK, len(rows))):
                text = _search_text(rows[number])
                if all(word in text for word in words):
                    found.append(number)
                    if len(found) == limit:
                        return found
        return found


class InstrumentIndex:
    def __init__(self, instruments: Iterable[Instrument], version: str | None = None) -> None:
        self._tables = _Tables(instruments)
        self.version = version  # which master this was built from (see bot.market.follow)
        self._gram_build: asyncio.Task[None] | None = None

    @classmethod
    async def build(
        cls, instruments: Sequence[Instrument], version: str | None = None, *, search: bool = True
    ) -> InstrumentIndex:
        """The index with its lookups ready (what orders need). Its search postings are made in
        a worker thread in the background (see `_Tables`): from now, or with `search=False`
        once `start_search_postings` is called. The bot's start-up defers them until it polls,
        as their second of CPU would otherwise hold the GIL against the rest of the start-up
        (bench/startup.py)."""
        index = cls.__new__(cls)
        index._tables = await asyncio.to_thread(_Tables, instruments, grams=False)
        index.version = version
        index._gram_build = None
        if search:
            index.start_search_postings()
        return index

    def start_search_postings(self) -> None:
        """Make the search postings in a worker thread, unless they are made or under way."""
        if self._gram_build is None and self._tables.grams is None:
            self._gram_build = asyncio.create_task(asyncio.to_thread(self._tables.index_grams))

    async def ready_for_search(self) -> None:
        """Wait until the search postings exist (bench and tests; search works before, slower)."""
        self.start_search_postings()
        if self._gram_build is not None:
            await self._gram_build

    async def rebuild(self, instruments: Sequence[Instrument], version: str | None) -> None:
        """Replace the contents with a new master's, built off the event loop."""
        tables = await asyncio.to_thread(_Tables, instruments)
        self._tables, self.version = tables, version

    def __len__(self) -> int:
        return len(self._tables.by_key)

    def example_option(self) -> Instrument | None:
        """A NIFTY call of the nearest expiry near the money, for examples (see `_Tables`)."""
        return self._tables.example()

    def get(self, key: str) -> Instrument | None:
        return self._tables.by_key.get(key.upper())

    def resolve(self, key: str) -> Instrument:
        """The instrument for `EXCHANGE:SYMBOL`, or a UserError that says how to find it."""
        inst = self.get(key)
        if inst is None:
            symbol = key.partition(":")[2] or key
            raise UserError(
                "unknown_symbol",
                f"I don't know the instrument {clip(key)}. Find the exact symbol with "
                f"/search {symbol.lower()[:12]}.",
            )
        return inst

    async def search(self, text: str, limit: int = 15) -> list[Instrument]:
        """Instruments whose key, name or kind contain every word of `text`, nearest expiry
        first, so `/search nifty 24000 ce` lists the current week's contract at the top."""
        words = [w for w in text.lower().split() if w]
        if not words:
            return []
        tables = self._tables
        blocks = tables.candidates(words)
        if len(blocks) * BLOCK <= INLINE_CANDIDATES:
            found = tables.matches(words, blocks, limit)
        else:
            found = await asyncio.to_thread(tables.matches, words, blocks, limit)
        rows = tables.ordered()  # sorted already: by `matches`
        return [rows[number] for number in found]
