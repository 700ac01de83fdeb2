"""mStock's instrument master: parse the JSON list, map it to our symbols both ways.

The master is a bare JSON array of objects with string values (ref §6.4): `token`, `symbol`
(the underlying), `name` (the trading symbol orders carry, `SBIN-EQ`, `SENSEX25O2382700CE`),
`expiry` (`23Oct2025`, empty for cash), `strike` and `tick_size` in **rupees** (not paise),
`lotsize`, `instrumenttype` (`EQ`, `OPTIDX`, `FUTSTK`, …) and `exch_seg` (`NSE`, `BSE`, `NFO`,
`BFO`; currency contracts carry `NSE`/`BSE` with a `*CUR`/`*IRC` type).

Our symbols are OpenAlgo style (rules.md §3.6): cash `NSE:SBIN` from the `-EQ` row (other
series keep their suffix, `NSE:ZEEL-BE`); F&O `<symbol><DDMONYY><strike><CE|PE>` or `…FUT`,
with the date and strike taken from `expiry` and `strike`, never parsed out of `name` (BSE
weeklies code the month). CE/PE is the last two letters of `name`: the master has no option
type key. The wire names travel in `Instrument.broker_ref` as `exch_seg|token|name`.

The master carries no freeze quantity (rules.md §3.4, UNCONFIRMED): a `freeze_qty` key is read
if one ever appears, else the configured table by underlying (`MSTOCK_FREEZE_QTY`).
NSE index spot tokens are not in the master (ref §6.4): they come from a fixed table.
"""

from __future__ import annotations

import difflib
import gc
import json
import logging
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from brokers import compact_cache
from brokers.errors import BrokerUnavailable, InstrumentNotFound
from brokers.models import Instrument, InstrumentKind, make_instrument
from brokers.mstock.constants import DERIVATIVE_TYPES
from brokers.wire import Memo, gc_paused, join_ref, plain, split_ref

log = logging.getLogger(__name__)

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_INDEX_TYPES = frozenset({"INDEX", "AMXIDX", "IDX"})
# CE/PE in any case (the name's last two letters), looked up without upper-casing each row.
_KINDS = {
    a + b: kind
    for letters, kind in (("CE", InstrumentKind.CALL), ("PE", InstrumentKind.PUT))
    for a in (letters[0], letters[0].lower())
    for b in (letters[1], letters[1].lower())
}

# NSE index spot tokens, reported from mStock's Annexure page (Angel-compatible numbering,
# ref §6.4 [OA][3P]): our symbol -> token.
NSE_INDEX_TOKENS: dict[str, str] = {
    "NIFTY": "26000",
    "BANKNIFTY": "26009",
    "FINNIFTY": "26037",
    "MIDCPNIFTY": "26074",
}


@dataclass(frozen=True, slots=True)
class Ref:
    """What an order or quote needs: the master's `exch_seg`, `token` and `name`."""

    exchange: str
    token: str
    name: str


encode_ref = join_ref


def decode_ref(instrument: Instrument) -> Ref:
    parts = split_ref(instrument.broker_ref)
    if parts is None:
        raise InstrumentNotFound(f"{instrument.key} is not an mStock instrument")
    return Ref(*parts)


def our_exchange(exch_seg: str, instrument_type: str) -> str:
    """The master's `exch_seg` -> our exchange. Currency contracts say NSE/BSE (ref §6.4)."""
    seg = exch_seg.strip().upper()
    kind = instrument_type.strip().upper()
    if kind.endswith(("CUR", "IRC")):
        return {"NSE": "CDS", "BSE": "BCD"}.get(seg, seg)
    if kind in DERIVATIVE_TYPES:
        return {"NSE": "NFO", "BSE": "BFO"}.get(seg, seg)
    return seg


def _expiry(raw: str) -> tuple[date, str] | None:
    try:
        when = datetime.strptime(raw.strip(), "%d%b%Y").date()
    except ValueError:
        return None
    return when, f"{when.day:02d}{_MONTHS[when.month - 1]}{when.year % 100:02d}"


def _positive(raw: Any) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value.normalize() if value.is_finite() and value > 0 else None


def _int(raw: Any) -> int | None:
    value = _positive(raw)
    return int(value) if value is not None and value == int(value) else None


def _strike(raw: str) -> tuple[Decimal, str] | None:
    value = _positive(raw)
    return None if value is None else (value, plain(value))


def _upper(raw: str) -> str:
    return sys.intern(raw.strip().upper())


def _text(value: Any) -> str:
    """A field as the text it is (`"0.05"`), or the text of a JSON number or of nothing."""
    return value if type(value) is str else str(value or "")


class MStockMaster:
    """The day's instruments with the lookups the adapter needs: by our key, and by
    (our exchange, token) for book and position rows."""

    def __init__(self, day: date | None) -> None:
        self.day = day
        self.instruments: list[Instrument] = []
        self.by_key: dict[str, Instrument] = {}
        self.by_token: dict[str, Instrument] = {}

    @classmethod
    def of(cls, instruments: Iterable[Instrument], day: date | None) -> MStockMaster:
        """Index instruments a parse made (the compact cache's copy), in their order: the
        token comes back out of `broker_ref`, so the lookups are the parse's own."""
        master = cls(day)
        for inst in instruments:
            master.add(inst, inst.broker_ref.split("|", 2)[1])
        return master

    def add(self, inst: Instrument, token: str) -> None:
        """Index one instrument; the first one wins for a key or token."""
        if inst.key in self.by_key:
            return
        self.instruments.append(inst)
        self.by_key[inst.key] = inst
        self.by_token.setdefault(f"{inst.exchange}|{token}", inst)

    def __len__(self) -> int:
        return len(self.instruments)

    def get(self, key: str) -> Instrument | None:
        return self.by_key.get(key) or self.by_key.get(key.strip().upper())

    def resolve(self, key: str) -> Instrument:
        """Our symbol -> instrument; an unknown symbol is refused with the closest matches."""
        found = self.get(key)
        if found is not None:
            return found
        wanted = key.strip().upper()
        exchange, _, symbol = wanted.partition(":")
        pool = [k for k in self.by_key if k.startswith(f"{exchange}:{symbol[:4]}")]
        close = difflib.get_close_matches(wanted, pool, n=3, cutoff=0.6)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise InstrumentNotFound(f"unknown symbol {key}{hint}")

    def key_for(self, exchange: str, token: str, instrument_type: str = "", shown: str = "") -> str:
        """A book row -> our key. Books name F&O under NSE/BSE (ref §4, §5.1), so the row's
        instrument type picks the exchange; a contract not in the master keeps the row's own
        spelling (`NFO:NIFTY-28Nov2024-24000-CE`)."""
        ours = our_exchange(exchange, instrument_type)
        inst = self.by_token.get(f"{ours}|{token}")
        if inst is None and not instrument_type:
            for other in ("NFO", "BFO", "CDS") if ours in ("NSE", "BSE") else ():
                inst = self.by_token.get(f"{other}|{token}")
                if inst is not None:
                    break
        if inst is not None:
            return inst.key
        return f"{ours}:{shown or token}"


def index_instruments() -> list[tuple[Instrument, str]]:
    return [
        (
            Instrument(
                exchange="NSE_INDEX",
                symbol=symbol,
                name=symbol,
                kind=InstrumentKind.INDEX,
                tick_size=Decimal("0.05"),
                broker_ref=encode_ref("NSE", token, symbol),
            ),
            token,
        )
        for symbol, token in NSE_INDEX_TOKENS.items()
    ]


class _Rows:
    """The per-row conversion, run by `json.loads` as its `object_hook`: each object becomes
    `(series, instrument, token)` (series None for F&O and indices) or None for junk the moment
    it is parsed, so the 150k row dicts never exist at once (the bot's RSS), and every value
    that repeats (ticks, lots, expiries, strikes, underlyings) is converted once (`Memo`)."""

    def __init__(self, freeze_qty: Mapping[str, int] | None) -> None:
        self.freezes = freeze_qty or {}
        self.uppers: Memo[str, str] = Memo(_upper)
        self.ticks: Memo[str, Decimal | None] = Memo(_positive)
        self.lots: Memo[str, int] = Memo(lambda raw: _int(raw) or 1)
        self.row_freezes: Memo[str, int | None] = Memo(_int)
        self.expiries: Memo[str, tuple[date, str] | None] = Memo(_expiry)
        self.strikes: Memo[str, tuple[Decimal, str] | None] = Memo(_strike)
        self.exchanges: Memo[tuple[str, str], str] = Memo(lambda pair: our_exchange(*pair))

    def __call__(self, row: dict[str, Any]) -> _Row | None:
        # Each field is the text it is (the master's values are strings; `_text` only for a
        # JSON number or null), written out inline: this runs 150k times.
        get = row.get
        token = get("token")
        token = (token if type(token) is str else _text(token)).strip()
        name = get("name")
        name = (name if type(name) is str else _text(name)).strip()
        if not token or not name:
            return None
        uppers = self.uppers
        raw = get("symbol")
        underlying = uppers[raw if type(raw) is str else _text(raw)]
        raw = get("instrumenttype")
        itype = uppers[raw if type(raw) is str else _text(raw)]
        raw = get("exch_seg")
        seg = uppers[raw if type(raw) is str else _text(raw)]
        raw = get("tick_size")
        tick = self.ticks[raw if type(raw) is str else _text(raw)]
        ref = f"{seg}|{token}|{name}"
        if itype in _INDEX_TYPES:
            index = "NSE_INDEX" if seg == "NSE" else "BSE_INDEX"
            symbol = underlying or name
            inst = make_instrument((
                index, name, InstrumentKind.INDEX, tick or _TICK,
                1, None, None, None, None, ref, f"{index}:{symbol}",
            ))  # fmt: skip
            return None, inst, token
        if tick is None:
            return None
        exchange = self.exchanges[seg, itype]
        raw = get("lotsize")
        lot = self.lots[raw if type(raw) is str else _text(raw)]
        if itype in DERIVATIVE_TYPES:
            raw = get("expiry")
            stamped = self.expiries[raw if type(raw) is str else _text(raw)]
            if stamped is None or not underlying:
                return None
            raw = get("freeze_qty")
            freeze = self.row_freezes[raw if type(raw) is str else _text(raw)]
            freeze = freeze or self.freezes.get(underlying)
            strike: Decimal | None
            if itype.startswith("OPT"):
                kind = _KINDS.get(name[-2:])
                raw = get("strike")
                struck = self.strikes[raw if type(raw) is str else _text(raw)]
                if kind is None or struck is None:
                    return None
                strike = struck[0]
                symbol = f"{underlying}{stamped[1]}{struck[1]}{kind.value}"
            else:
                kind, strike = InstrumentKind.FUTURE, None
                symbol = f"{underlying}{stamped[1]}FUT"
            inst = make_instrument((
                exchange, underlying, kind, tick, lot, freeze, stamped[0], strike,
                underlying, ref, f"{exchange}:{symbol}",
            ))  # fmt: skip
            return None, inst, token
        # Cash: `EXCH:SYMBOL` is the EQ series; other series keep their suffix (`NSE:ZEEL-BE`).
        base = underlying or name.rpartition("-")[0] or name
        upper = name.upper()
        series = upper[len(base) + 1 :] if upper.startswith(base + "-") else ""
        if upper != base and not series:
            series = upper.rpartition("-")[2] if "-" in upper else ""
        symbol = base if series in ("EQ", "") else f"{base}-{series}"
        inst = make_instrument((
            exchange, name, InstrumentKind.EQUITY, tick, lot, None, None, None, None,
            ref, f"{exchange}:{symbol}",
        ))  # fmt: skip
        return sys.intern(series), inst, token


_Row = tuple[str | None, Instrument, str]
_TICK = Decimal("0.05")


def _index(rows: Iterable[Any], day: date | None) -> MStockMaster:
    """`_Rows`' results -> the master: the fixed index table, then F&O and indices in file
    order, then cash with the EQ series first (preferred when several rows share a symbol,
    ref §6.4 [OA]). The first instrument wins a key or a token."""
    master = MStockMaster(day)
    for fixed, token in index_instruments():
        master.add(fixed, token)
    cash: list[_Row] = []
    later = cash.append
    by_key, keep, tokens = master.by_key, master.instruments.append, master.by_token.setdefault
    for item in rows:
        if type(item) is not tuple:  # JSON makes no tuples: only `_Rows` results are rows
            continue
        if item[0] is not None:
            later(item)
            continue
        inst = item[1]
        key = inst.key
        if key not in by_key:  # `MStockMaster.add`, inline: this runs 150k times
            keep(inst)
            by_key[key] = inst
            tokens(f"{inst.exchange}|{item[2]}", inst)
    cash.sort(key=lambda item: item[0] not in ("EQ", ""))
    for _, inst, token in cash:
        master.add(inst, token)
    return master


def parse_master(
    rows: Iterable[Any], day: date | None, freeze_qty: Mapping[str, int] | None = None
) -> MStockMaster:
    """The master's objects -> an indexed `MStockMaster`, skipping junk and duplicate symbols.
    CPU-heavy on a full list: call it through `asyncio.to_thread`."""
    convert = _Rows(freeze_qty)
    return _index((convert(row) if isinstance(row, dict) else None for row in rows), day)


def parse_master_bytes(
    content: bytes | str, day: date | None, freeze_qty: Mapping[str, int] | None = None
) -> MStockMaster:
    """The downloaded file -> master. A body that is not a JSON array is an outage.
    CPU-heavy: call it through `asyncio.to_thread`."""
    with gc_paused():
        try:
            rows = json.loads(content, object_hook=_Rows(freeze_qty))
        except (ValueError, UnicodeDecodeError):
            raise BrokerUnavailable("mStock instrument master: the file is not JSON") from None
        if not isinstance(rows, list):
            raise BrokerUnavailable("mStock instrument master: expected a JSON array")
        master = _index(rows, day)
    log.info("mstock instrument master: %d instruments", len(master))
    return master


# The compact copy of the day's parsed master, beside the JSON file (see `build_master`).
COMPACT_NAME = "instruments.json"
# Part of the compact copy's stamp: bump when the parse maps rows to instruments differently,
# so a restart after an upgrade parses again instead of loading the old mapping.
PARSE_VERSION = "mstock-parse/1"


def compact_stamp(path: Path, day: date, freeze_qty: Mapping[str, int] | None) -> str:
    """What the compact copy must have been made from: the day, this parser, the downloaded
    file's size and modification time (a file downloaded again is parsed again) and the freeze
    table (`MSTOCK_FREEZE_QTY` changed between restarts changes the instruments)."""
    stat = path.stat()
    freezes = ",".join(f"{k}={v}" for k, v in sorted((freeze_qty or {}).items()))
    return f"{day.isoformat()};{PARSE_VERSION};{stat.st_size}:{stat.st_mtime_ns};{freezes}"


def build_master(
    path: Path, day: date, freeze_qty: Mapping[str, int] | None = None
) -> MStockMaster:
    """The day's downloaded master file -> master: from the compact copy a first parse of the
    same file left (a same-day restart), else parsed and the copy written. Blocking (disk and
    CPU): run it in a thread."""
    compact = path.parent / COMPACT_NAME
    stamp = compact_stamp(path, day, freeze_qty)
    with gc_paused():
        cached = compact_cache.read(compact, stamp)
    if cached is not None:
        log.info("mstock instrument master: %d instruments from the compact copy", len(cached))
        with gc_paused():
            return MStockMaster.of(cached, day)
    # A download's httpx response sits in a reference cycle with the 30 MB body in it: only
    # the cyclic collector frees it, and the bot freezes what is alive once the master is
    # loaded (see brokers/kotak/master.py `build_master`), so it is collected before a parse.
    # A same-day restart downloads nothing and reads the compact copy above: no collection.
    gc.collect()
    content = path.read_bytes()
    try:
        master = parse_master_bytes(content, day, freeze_qty)
    finally:
        del content
    gc.collect()
    try:
        compact_cache.write(compact, master.instruments, stamp)
    except (OSError, ValueError) as exc:
        log.warning("mstock instrument master: compact copy not written (%s)", exc)
    return master
