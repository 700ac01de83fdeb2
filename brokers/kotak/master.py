"""Kotak's scrip master: find the day's files, cache them, parse them, map symbols both ways.

Units and names follow ref §10 exactly where the evidence agrees:
- the header is verbatim with trailing spaces (`dTickSize `, `lExpiryDate `) and `dStrikePrice;`
  (ref §10.1); columns are looked up by their name with spaces and `;` stripped, so either spelling
  parses;
- tick = `dTickSize / 10**lPrecision` (paise for 2-decimal segments, ref §10.3);
- strike = `dStrikePrice;` / 100, possibly in scientific notation (`2.1e+06` -> 21000, ref §10.3);
- expiry epochs count from 1980-01-01 for nse_fo/cde_fo (+315513000) and are Unix for the rest.

One deliberate departure: ref §10.4 says to take the expiry date in IST, but its own MCX sample
(`1790380799` = GOLDM 25 SEP 26) is 23:59:59 *UTC* on the 25th, i.e. 05:29 IST on the 26th. The
UTC date is right for every sample (nse_fo epochs land on 09:00 UTC = 14:30 IST), so we use it.

Symbols are OpenAlgo style (rules.md §3.6): `NSE:SBIN`, `NFO:NIFTY22SEP2621000PE`,
`NFO:BANKNIFTY30DEC25FUT`, `NSE_INDEX:NIFTY`. Kotak's `pTrdSymbol` is never derived from ours by
rewriting (ref §10.4); it travels in `Instrument.broker_ref` as `segment|token|trading symbol`.
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import gc
import io
import logging
import operator
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from itertools import chain, repeat, tee
from pathlib import Path
from typing import TextIO

from brokers import compact_cache
from brokers.errors import BrokerUnavailable, InstrumentNotFound
from brokers.kotak.constants import (
    CASH_SEGMENTS,
    EPOCH_1980_OFFSET,
    INDEX_QUOTE_NAMES,
    SEGMENT_TO_EXCHANGE,
    SEGMENTS_1980_EPOCH,
)
from brokers.kotak.tokens import TokenTable
from brokers.master_cache import DailyFiles
from brokers.memory import return_free_memory
from brokers.models import Instrument, InstrumentKind, make_instrument
from brokers.wire import Memo as _Memo
from brokers.wire import gc_paused as _gc_paused
from brokers.wire import join_ref, split_ref

log = logging.getLogger(__name__)

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

# --------------------------------------------------------------------------- broker_ref


@dataclass(frozen=True, slots=True)
class Ref:
    """What an order or quote needs: `es`/segment, `pSymbol` token (or index name), `pTrdSymbol`."""

    segment: str
    token: str
    trading_symbol: str


encode_ref = join_ref


def decode_ref(instrument: Instrument) -> Ref:
    parts = split_ref(instrument.broker_ref)
    if parts is None:
        raise InstrumentNotFound(f"{instrument.key} is not a Kotak instrument")
    return Ref(*parts)


# --------------------------------------------------------------------------- parsing


def _column(name: str) -> str:
    return name.strip().rstrip(";").strip()


_REQUIRED = (
    "pSymbol",
    "pTrdSymbol",
    "pSymbolName",
    "dTickSize",
    "lLotSize",
    "lExpiryDate",
    "dStrikePrice",
    "pOptionType",
)
# Read when present, in this order after `_REQUIRED` (see `parse_master_rows`).
_OPTIONAL = ("lPrecision", "pGroup", "pISIN", "pDesc", "pExchSeg", "lFreezeQty")


def expiry_date(raw: str, segment: str) -> date | None:
    """Expiry epoch -> contract date (see the module docstring for why UTC)."""
    try:
        seconds = int(float(raw))
    except ValueError:
        return None
    if seconds <= 0:
        return None
    if segment in SEGMENTS_1980_EPOCH:
        seconds += EPOCH_1980_OFFSET
    return datetime.fromtimestamp(seconds, UTC).date()


def strike_rupees(raw: str) -> Decimal | None:
    """`dStrikePrice;` is paise, sometimes `2.1e+06`; -1 for non-options."""
    try:
        paise = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if paise <= 0:
        return None
    return Decimal(plain(paise / 100))


def tick_rupees(raw: str, precision: str) -> Decimal | None:
    try:
        tick = Decimal(raw.strip())
        places = int(float(precision)) if precision.strip() else 2
    except (InvalidOperation, ValueError):
        return None
    if tick <= 0:
        return None  # indices carry -1 (ref §10.2)
    return (tick / (Decimal(10) ** places)).normalize()


def plain(value: Decimal) -> str:
    """`21000`, `292.5`: no exponent, no trailing zeros (rules.md §3.6)."""
    return format(value.normalize(), "f")


def _stamp(expiry: date) -> str:
    return f"{expiry.day:02d}{_MONTHS[expiry.month - 1]}{expiry.year % 100:02d}"


def fo_symbol(name: str, expiry: date, option_type: str, strike: Decimal | None) -> str:
    """`NIFTY` + `22SEP26` + (`21000PE` | `FUT`) (rules.md §3.6)."""
    if option_type in ("CE", "PE") and strike is not None:
        return f"{name}{_stamp(expiry)}{plain(strike)}{option_type}"
    return f"{name}{_stamp(expiry)}FUT"


def _int(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        try:
            return int(float(raw))
        except ValueError:
            return None


def _expiry_and_stamp(raw: str, segment: str) -> tuple[date, str] | None:
    when = expiry_date(raw, segment)
    return None if when is None else (when, _stamp(when))


def _strike_and_text(raw: str) -> tuple[Decimal, str] | None:
    value = strike_rupees(raw)
    return None if value is None else (value, plain(value))


_BLOCK_CHARS = 1 << 20


def parse_master_file(
    path: Path,
    segment: str,
    into: ScripMaster | None = None,
    *,
    block_chars: int = _BLOCK_CHARS,
) -> list[Instrument]:
    """Parse one segment CSV (and index it into `into`). CPU-heavy: call via `asyncio.to_thread`.

    The file is read a block at a time, never whole: 48 MB of text (and 150k line strings) held
    at once would be freed only after the instruments are made among them, leaving the heap in
    holes that the process keeps (bench/startup.py measured 60 MB of RSS). Only the wanted
    columns of a row are cut out where the block allows it (`_picked`)."""
    with path.open(encoding="utf-8-sig", newline="") as handle, _gc_paused():
        header = next(read_rows(iter([handle.readline()])), None)
        if header is None:
            return []
        where = _layout(header, segment)
        rows = _picked(_blocks(handle, block_chars), len(header), where)
        return _instruments(rows, where, segment, into)


def file_rows(handle: TextIO, block_chars: int = _BLOCK_CHARS) -> Iterator[list[str]]:
    """`read_rows` over a file, a block of lines at a time (see `_blocks`)."""
    for block in _blocks(handle, block_chars):
        if isinstance(block, str):
            yield from map(str.split, filter(None, block.split("\n")), repeat(","))
        else:
            yield from block


_LAST = operator.itemgetter(-1)
_Block = str | Iterator[list[str]]  # whole lines to cut, or the rows of the rest of the file


def _blocks(handle: TextIO, block_chars: int) -> Iterator[_Block]:
    """The file a block of lines at a time: while the blocks hold no quote and no carriage
    return (the whole live nse_fo file), each is its text of whole lines, to be cut in C loops
    with no Python step per line; from the first block that does, the rest goes line by line
    through `read_rows` as rows (a quoted field may span lines, and so blocks)."""
    rest = ""
    while block := handle.read(block_chars):
        block = rest + block
        if '"' in block or "\r" in block:
            ended = block.endswith(("\n", "\r"))
            whole = block if ended else block + handle.readline()
            yield read_rows(chain(io.StringIO(whole, newline=""), handle))
            return
        cut = block.rfind("\n") + 1
        block, rest = block[:cut], block[cut:]
        yield block
    if rest:
        yield rest


def _picked(
    blocks: Iterable[_Block],
    columns: int,
    where: Sequence[int | None],
) -> Iterator[tuple[str, ...]]:
    """The wanted fields of each row (`where`: their columns, None for one the file lacks).

    Splitting a row into all of its 79 fields is a third of the parse, and 14 are wanted: 13
    among the first 21 columns, `lFreezeQty` near the end. So where a block's rows all have the
    header's width (its commas say so, counted in C), each row is split up to the widest gap
    between wanted columns from the front and the rest from the back: 25 strings a row, not 79.
    Any other block (a short row, a field with a comma) is split whole, as `csv` would."""
    present = sorted({i for i in where if i is not None})
    width = present[-1] + 1
    whole = _picker(where)
    # The widest gap between wanted columns (or after the last): its left end closes the front
    # part; the wanted columns right of it (if any) are read from the row's end.
    _, gap = max(
        (b - a, k) for k, (a, b) in enumerate(zip(present, [*present[1:], columns], strict=True))
    )
    front = present[gap] + 1
    back = present[gap + 1 :]
    tail = columns - back[0] if back else 0
    # A column's place in `head + tail pieces`: the front as is, then the rest of the row
    # (unused), what precedes the back columns (unused), the back columns.
    place = {i: i for i in present if i < front} | {i: front + 2 + i - back[0] for i in back}
    fast = _picker([None if i is None else place[i] for i in where])
    commas = columns - 1
    for block in blocks:
        if not isinstance(block, str):
            yield from map(whole, filter(lambda row: len(row) >= width, block))
            continue
        lines = list(filter(None, block.split("\n")))
        if block.count(",") == commas * len(lines):
            # Row by row (`tee` keeps one head back), never a block's pieces at once: they
            # would be freed among the instruments made meanwhile, the heap left in holes.
            heads: Iterator[list[str]] = map(str.split, lines, repeat(","), repeat(front))
            if back:
                heads, rests = tee(heads)
                ends = map(str.rsplit, map(_LAST, rests), repeat(","), repeat(tail))
                yield from map(fast, map(operator.add, heads, ends))
            else:
                yield from map(fast, heads)
        else:
            split = map(str.split, lines, repeat(","))
            yield from map(whole, filter(lambda row: len(row) >= width, split))


def read_rows(lines: Iterable[str]) -> Iterator[list[str]]:
    """The CSV's rows as `csv.reader` reads them from the same lines (a file opened with
    `newline=""`), blank lines left out, at `str.split` speed where it can.

    A line without a quote or a carriage return (but its line end) is split on its commas:
    that is every line of the live nse_fo file and all but a few company names of the cash
    files, and twice as fast as the csv module. Any other line (`"MAHINDRA & MAHINDRA, LTD"`)
    goes to the csv module, with the next lines while a quoted field is still open.
    """
    lines = iter(lines)
    for line in lines:
        bare = line[:-1] if line.endswith("\n") else line
        if bare.endswith("\r"):
            bare = bare[:-1]
        if '"' not in bare and "\r" not in bare:
            if bare:
                yield bare.split(",")
            continue
        chunk = [line]
        quotes = line.count('"')
        while quotes % 2:  # a quoted field goes on in the next line
            more = next(lines, None)
            if more is None:
                break
            chunk.append(more)
            quotes += more.count('"')
        yield from filter(None, csv.reader(chunk))


def _upper(raw: str) -> str:
    return sys.intern(raw.strip().upper())


def _lot(raw: str) -> int:
    lot = _int(raw.strip())
    return lot if lot and lot > 0 else 1


def _freeze(raw: str) -> int | None:
    freeze = _int(raw.strip())
    return freeze if freeze is not None and freeze > 0 else None


def parse_master_rows(
    rows: Iterable[list[str]], segment: str, into: ScripMaster | None = None
) -> list[Instrument]:
    """Rows (header first) -> instruments, skipping index rows, junk and duplicate symbols."""
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        return []
    where = _layout(header, segment)
    width = max(i for i in where if i is not None) + 1
    pick = _picker(where)
    return _instruments(
        map(pick, filter(lambda row: len(row) >= width, iterator)), where, segment, into
    )


_WANTED = (*_REQUIRED, *_OPTIONAL)


def _layout(header: Sequence[str], segment: str) -> list[int | None]:
    """Where each of `_WANTED` is in a row (None: a column this file lacks)."""
    col = {_column(name): i for i, name in enumerate(header)}
    missing = [name for name in _REQUIRED if name not in col]
    if missing:
        raise BrokerUnavailable(f"Kotak scrip master {segment}: missing columns {missing}")
    return [col.get(name) for name in _WANTED]


def _picker(where: Sequence[int | None]) -> Callable[[list[str]], tuple[str, ...]]:
    """A row -> one tuple of the wanted fields, picked in C (`itemgetter`) when the file has
    them all; a column it lacks reads as ""."""
    if None not in where:
        return operator.itemgetter(*where)
    columns = list(where)

    def pick(row: list[str]) -> tuple[str, ...]:
        return tuple("" if i is None else row[i] for i in columns)

    return pick


def _instruments(
    picked: Iterable[tuple[str, ...]],
    where: Sequence[int | None],
    segment: str,
    into: ScripMaster | None,
) -> list[Instrument]:
    """The wanted fields of each row (`_WANTED`, in order; `where` says which columns the file
    has) -> instruments.

    Written for speed (150k-row nse_fo files, bench/scrip_master.py): per-value conversions are
    memoised, since ticks, lots, expiries, strikes and names repeat across thousands of rows,
    and the memo hands every row the same objects (one `NIFTY`, one `Decimal("0.05")`).
    """
    master = into if into is not None else ScripMaster((), None)
    exchange = SEGMENT_TO_EXCHANGE.get(segment, segment.upper())
    prefix = exchange + ":"
    cash = segment in CASH_SEGMENTS
    default_precision = "2" if where[_WANTED.index("lPrecision")] is None else None
    ticks: _Memo[tuple[str, str], Decimal | None] = _Memo(lambda raw: tick_rupees(*raw))
    strikes = _Memo(_strike_and_text)
    expiries: _Memo[str, tuple[date, str] | None] = _Memo(
        lambda raw: _expiry_and_stamp(raw, segment)
    )
    lots: _Memo[str, int] = _Memo(_lot)
    freezes: _Memo[str, int | None] = _Memo(_freeze)
    uppers: _Memo[str, str] = _Memo(_upper)
    by_key = master.by_key
    tokens = master.by_token.setdefault(segment, TokenTable())
    index_token = tokens.add
    index_symbol = master.by_trading_symbol.setdefault(segment, {}).setdefault
    keep = master.instruments.append
    seg_prefix = segment + "|"
    out: list[Instrument] = []
    new = make_instrument
    equity, future = InstrumentKind.EQUITY, InstrumentKind.FUTURE
    kinds = {"CE": InstrumentKind.CALL, "PE": InstrumentKind.PUT}

    for (
        token,
        trading_symbol,
        raw_name,
        raw_tick,
        raw_lot,
        raw_expiry,
        raw_strike,
        raw_option,
        precision,
        raw_group,
        isin,
        desc,
        row_segment,
        raw_freeze,
    ) in picked:
        token = token.strip()
        trading_symbol = trading_symbol.strip()
        if not token or not trading_symbol:
            continue
        if row_segment != segment and row_segment and row_segment.strip() not in ("", segment):
            continue
        tick = ticks[raw_tick, default_precision or precision]
        if tick is None:
            continue  # index rows and junk (tick -1)
        name = uppers[raw_name] or trading_symbol.upper()
        if cash:
            group = uppers[raw_group]
            if not group and not isin.strip():
                continue  # index rows: quotes only, served from INDEX_QUOTE_NAMES
            # NSE:NAME is the EQ series; other series are NAME-BE etc. (ref §10.4, our choice).
            symbol = name if segment != "nse_cm" or group in ("EQ", "") else f"{name}-{group}"
            key = prefix + symbol
            if key in by_key:
                continue
            inst = new((
                exchange,
                desc.strip() or name,
                equity,
                tick,
                lots[raw_lot],
                freezes[raw_freeze],
                None,
                None,
                None,
                f"{seg_prefix}{token}|{trading_symbol}",
                key,
            ))  # fmt: skip
        else:
            stamped = expiries[raw_expiry]
            if stamped is None:
                continue
            option_type = uppers[raw_option]
            kind = kinds.get(option_type)
            if kind is not None:
                struck = strikes[raw_strike]
                if struck is None:
                    continue
                strike = struck[0]
                symbol = f"{name}{stamped[1]}{struck[1]}{option_type}"
            else:
                strike, kind = None, future
                symbol = f"{name}{stamped[1]}FUT"
            key = prefix + symbol
            if key in by_key:
                continue  # first row wins; duplicates would make the symbol ambiguous
            inst = new((
                exchange,
                name,
                kind,
                tick,
                lots[raw_lot],
                freezes[raw_freeze],
                stamped[0],
                strike,
                name,
                f"{seg_prefix}{token}|{trading_symbol}",
                key,
            ))  # fmt: skip
        # Indexed as `ScripMaster()` does (the first wins), inline: this runs 150k times.
        out.append(inst)
        keep(inst)
        by_key[key] = inst
        index_token(int(token) if token.isdecimal() else token, inst)
        index_symbol(trading_symbol, inst)
    tokens.seal()
    return out


def index_instruments() -> list[Instrument]:
    """Indices are quote-only and addressed by name (ref §7.1), so they come from a fixed table."""
    return [
        Instrument(
            exchange=exchange,
            symbol=symbol,
            name=quote_name,
            kind=InstrumentKind.INDEX,
            tick_size=Decimal("0.05"),
            broker_ref=encode_ref(segment, quote_name, ""),
        )
        for (exchange, symbol), (segment, quote_name) in INDEX_QUOTE_NAMES.items()
    ]


# --------------------------------------------------------------------------- index


def token_key(token: str) -> int | str:
    """A token as the master indexes it: its number (`pSymbol` is an int, ref §10.2; an int
    key takes half the memory of a string one), or the text for index names (`Nifty 50`)."""
    return int(token) if token.isdecimal() else token


class ScripMaster:
    """The day's instruments with the three lookups the adapter needs.

    - by key (`NFO:NIFTY22SEP2621000PE`) for users' symbols;
    - by segment, then token (`token_key`), for books and positions (`exSeg` + `tok`);
    - by segment, then `pTrdSymbol`, for the trade book, whose `tok` is empty (ref §5, [OA]).
    """

    def __init__(self, instruments: Iterable[Instrument], day: date | None) -> None:
        """Index `instruments` (the first one wins for a key, token or trading symbol): a
        restart loads 150k instruments from the compact cache through here, so the key table is
        built in C (`dict(zip(...))`), and the rest in one pass whose pieces of each row are
        freed before the next row's are made (no heap left in holes)."""
        self.day = day
        kept = list(instruments)
        keys = [inst.key for inst in kept]
        self.by_key: dict[str, Instrument] = dict(zip(keys, kept, strict=True))
        if len(self.by_key) != len(kept):  # duplicate keys: keep each key's first instrument
            self.by_key = dict(zip(reversed(keys), reversed(kept), strict=True))
            first = self.by_key
            kept = [inst for key, inst in zip(keys, kept, strict=True) if first[key] is inst]
            self.by_key = {inst.key: inst for inst in kept}
        self.instruments: list[Instrument] = kept
        self.by_token: dict[str, TokenTable] = {}
        self.by_trading_symbol: dict[str, dict[str, Instrument]] = {}
        for inst in kept:
            segment, token, trading_symbol = inst.broker_ref.split("|", 2)
            tokens = self.by_token.get(segment)
            if tokens is None:
                tokens = self.by_token[segment] = TokenTable()
                self.by_trading_symbol[segment] = {}
            tokens.add(token_key(token), inst)
            if trading_symbol:
                self.by_trading_symbol[segment].setdefault(trading_symbol, inst)
        for tokens in self.by_token.values():
            tokens.seal()

    def __len__(self) -> int:
        return len(self.instruments)

    def get(self, key: str) -> Instrument | None:
        found = self.by_key.get(key)
        if found is None:
            found = self.by_key.get(key.strip().upper())
        return found

    def resolve(self, key: str) -> Instrument:
        """Our symbol -> instrument; an unknown symbol is refused with the closest matches."""
        found = self.get(key)
        if found is not None:
            return found
        wanted = key.strip().upper()
        exchange, _, symbol = wanted.partition(":")
        prefix = f"{exchange}:{symbol[:4]}"
        pool = [k for k in self.by_key if k.startswith(prefix)] or [
            k for k in self.by_key if k.startswith(f"{exchange}:")
        ][:5000]
        close = difflib.get_close_matches(wanted, pool, n=3, cutoff=0.6)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise InstrumentNotFound(f"unknown symbol {key}{hint}")

    def key_for(self, segment: str, token: str = "", trading_symbol: str = "") -> str:
        """Book row -> our key. Falls back to `EXCH:pTrdSymbol` for contracts not in the master
        (expired since the morning, or a segment we do not download)."""
        inst = None
        if token:
            table = self.by_token.get(segment)
            inst = None if table is None else table.get(token_key(token))
        if inst is None and trading_symbol:
            inst = self.by_trading_symbol.get(segment, {}).get(trading_symbol)
        if inst is not None:
            return inst.key
        exchange = SEGMENT_TO_EXCHANGE.get(segment, segment.upper())
        return f"{exchange}:{trading_symbol or token}"


# The compact copy of the day's parsed master, beside its CSVs (see `build_master`).
COMPACT_NAME = "instruments.json"
# Part of the compact copy's stamp: bump when the parse maps rows to instruments differently,
# so a restart after an upgrade parses again instead of loading the old mapping.
PARSE_VERSION = "kotak-parse/1"


def compact_stamp(files: Mapping[str, Path], day: date) -> str:
    """What the compact copy must have been made from: the day, this parser, and each CSV's
    segment, size and modification time (a file downloaded again is parsed again)."""
    parts = [day.isoformat(), PARSE_VERSION]
    for segment in sorted(files):
        stat = files[segment].stat()
        parts.append(f"{segment}:{stat.st_size}:{stat.st_mtime_ns}")
    return ";".join(parts)


Save = Callable[[], None]


def build_master(files: Mapping[str, Path], day: date) -> tuple[ScripMaster, Save | None]:
    """Parse every segment file and index them, or load the compact copy a first parse of the
    same files left (a restart on the same day). CPU-heavy: run it in a thread.

    After a parse, also the call that writes the compact copy (None after a load from it): a
    quarter of a second of CPU that only a later restart needs, so the caller runs it once
    the bot is up instead of on its start-up path (`MasterCache.load`)."""
    if not files:
        return ScripMaster(index_instruments(), day), None
    compact = next(iter(files.values())).parent / COMPACT_NAME
    stamp = compact_stamp(files, day)
    with _gc_paused():
        cached = compact_cache.read(compact, stamp)
        if cached is not None:
            log.info("kotak scrip master: %d instruments from the compact copy", len(cached))
            return ScripMaster(cached, day), None
    # The downloads' httpx responses sit in a reference cycle (Response <-> its stream) with the
    # file's 48 MB body in it: only the cyclic collector frees them, and the bot freezes what
    # is alive once the master is loaded (bot.market.follow), which would keep them for good
    # (bench/startup.py: 50 MB of RSS). Collected now, before the heap holds a parsed master.
    # A same-day restart downloads nothing and reads the compact copy above: no collection.
    gc.collect()
    with _gc_paused():
        master = ScripMaster(index_instruments(), day)
        for segment, path in files.items():
            parsed = parse_master_file(path, segment, master)
            log.info("kotak scrip master %s: %d instruments", segment, len(parsed))

    def save() -> None:
        try:
            compact_cache.write(compact, master.instruments, stamp)
        except (OSError, ValueError) as exc:
            log.warning("kotak scrip master: compact copy not written (%s)", exc)
        return_free_memory()  # its tables and 10 MB of JSON text, freed in a long-lived heap

    return master, save


# --------------------------------------------------------------------------- files and cache


def pick_files(urls: Iterable[str], segments: Iterable[str]) -> dict[str, str]:
    """Choose one URL per wanted segment by file name (`nse_cm-v1.csv`, `nse_fo.csv`); exact
    names, so `nse_com.csv` (NSE commodity) never passes for `nse_cm` (ref §7.2)."""
    chosen: dict[str, str] = {}
    wanted = list(segments)
    for url in urls:
        base = url.rsplit("/", 1)[-1].split("?", 1)[0].lower()
        for segment in wanted:
            # Prefer the -v1 cash file when both are listed (ref §7.2).
            if re.fullmatch(rf"{re.escape(segment)}(-v1)?\.csv", base) and (
                segment not in chosen or base.endswith("-v1.csv")
            ):
                chosen[segment] = url
    return chosen


# Seconds after a parse before its compact copy is written: by then the bot polls (a cold
# start takes 1-2 s), and a restart sooner than that only parses again.
SAVE_AFTER_SECONDS = 5.0


class MasterCache:
    """The day's segment CSVs on disk, through the shared `brokers.master_cache.DailyFiles`
    (`cache_dir/<YYYY-MM-DD>/<segment>.csv`, complete once its manifest is written, older days
    pruned), parsed into a `ScripMaster` in a thread."""

    def __init__(
        self, cache_dir: Path, segments: Sequence[str], *, save_after: float = SAVE_AFTER_SECONDS
    ) -> None:
        self.cache_dir = cache_dir
        self.segments = tuple(segments)
        self.save_after = save_after
        # The write of the last parsed master's compact copy (see `_save_later`), if any.
        self.saving: asyncio.Task[None] | None = None
        self._files = DailyFiles(cache_dir, what="Kotak scrip master", suffix=".csv")

    async def load(
        self,
        day: date,
        list_files: Callable[[], Awaitable[list[str]]],
        download: Callable[[str], Awaitable[bytes]],
    ) -> ScripMaster:
        async def sources() -> dict[str, str]:
            chosen = pick_files(await list_files(), self.segments)
            if not chosen:
                raise BrokerUnavailable("Kotak scrip master: none of the wanted segments listed")
            absent = sorted(set(self.segments) - set(chosen))
            if absent:
                log.warning("kotak scrip master: segments not listed today: %s", absent)
            return chosen

        files = await self._files.fetch(day, sources, download)
        master, save = await asyncio.to_thread(build_master, files, day)
        if save is not None:
            self.saving = asyncio.create_task(self._save_later(save), name="compact master")
        return master

    async def close(self) -> None:
        """Drop a compact copy not written yet (a restart then parses again); a write already
        in its thread completes, and its file is renamed into place whole or not at all."""
        if self.saving is not None:
            self.saving.cancel()
            await asyncio.gather(self.saving, return_exceptions=True)

    async def _save_later(self, save: Save) -> None:
        """Write the compact copy of a parsed master in a thread once the bot is up: its CPU
        would otherwise delay the index and the first poll (bench/startup.py)."""
        await asyncio.sleep(self.save_after)
        await asyncio.to_thread(save)
