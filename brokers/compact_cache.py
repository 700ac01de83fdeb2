"""A compact copy of a parsed instrument list, so a restart on the same day skips the parse.

Parsing the day's Kotak nse_fo CSV (48 MB, 150k rows) costs about a second of CPU; reading this
file back costs a fraction of it (bench/scrip_master.py, bench/startup.py). Any adapter can keep
one beside its day's master files: `write` after a parse, `read` before the next one.

The layout is columnar, in a JSON envelope: every field that repeats (exchange, name, kind,
tick, lot, freeze, expiry, strike, underlying) is a small table of distinct values plus one
packed array of indexes (base64 of 32-bit ints), and the two that do not (symbol, broker_ref)
are one newline-joined text each. So loading makes no object per row but the instrument and its
two strings: the rows share one `Decimal("0.05")`, one `NIFTY`, one `65`, as after a parse, and
no short-lived per-row objects are left scattered through the heap (the bot's RSS).
JSON rather than pickle or marshal: loading it runs no code and a damaged file can only fail.

The file names its format version and a `stamp` the caller derives from what it parsed (the
day, the source files' sizes and times); `read` returns None for another version, another stamp
or a file that does not hold what `write` writes, and the caller parses again. It is written
owner-only and atomically (a `.part` file renamed into place), like the master files beside it.
"""

from __future__ import annotations

import base64
import json
import logging
import operator
import os
from array import array
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from itertools import repeat
from pathlib import Path
from typing import Any

from brokers.models import Instrument, InstrumentKind, make_instruments

__all__ = ["FORMAT", "read", "write"]

log = logging.getLogger(__name__)

FORMAT = "instruments/2"  # bump when the layout or any field's meaning changes

# field -> (value as stored in its table, stored value back to the field's type)
_REPEATED: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "exchange": (str, lambda v: _typed(v, str)),
    "name": (str, lambda v: _typed(v, str)),
    "kind": (lambda v: v.value, InstrumentKind),
    "tick_size": (str, Decimal),
    "lot_size": (int, lambda v: _typed(v, int)),
    "freeze_qty": (lambda v: v, lambda v: None if v is None else _typed(v, int)),
    "expiry": (lambda v: _maybe(v, date.toordinal), lambda v: _maybe(v, date.fromordinal)),
    "strike": (lambda v: _maybe(v, str), lambda v: _maybe(v, Decimal)),
    "underlying": (lambda v: v, lambda v: None if v is None else _typed(v, str)),
}
_JOINED = ("symbol", "broker_ref")
# An instrument's fields but its key, in `Instrument` order (the key is made from the exchange
# and the stored symbol, which the instrument reads back from it).
_FIELD_ORDER = Instrument._fields[:-1]


def _maybe(value: Any, convert: Callable[[Any], Any]) -> Any:
    return None if value is None else convert(value)


def _typed(value: Any, kind: type) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"a {kind.__name__} field holds another type")
    return value


def _packed(instruments: Sequence[Instrument], name: str) -> tuple[list[Any], str]:
    """A field's distinct values (in first-seen order) and each row's index into them, packed:
    two passes over the rows, both in C, and no list of the 150k values."""
    value = operator.attrgetter(name)
    distinct = list(dict.fromkeys(map(value, instruments)))
    where = {v: i for i, v in enumerate(distinct)}
    indexes = array("I", map(where.__getitem__, map(value, instruments)))
    return distinct, base64.b64encode(indexes).decode()


# Rows per piece of a joined text written at once (see `write`).
_PIECE = 4096


def write(path: Path, instruments: Sequence[Instrument], stamp: str) -> None:
    """Save `instruments` for `read(path, stamp)`. CPU and disk work: call it in a thread.
    Raises ValueError for a symbol or broker_ref with a newline (it would not read back).

    The document is written a piece at a time, never made whole: it runs in a bot that is
    already up, and its 13 MB of text, the joined texts and the lists behind them, made at once
    and freed, left that much more RSS for good (bench/startup.py: 167 MB once written, from
    149). Each index goes out once packed; the joined texts a piece of rows at a time (escaping
    a text for JSON piece by piece is escaping it whole)."""
    for name in _JOINED:
        if any("\n" in text for text in map(operator.attrgetter(name), instruments)):
            raise ValueError(f"an instrument's {name} holds a newline")
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        head = {"format": FORMAT, "stamp": stamp, "count": len(instruments)}
        handle.write(_dumps(head)[:-1] + ',"indexes":{')
        tables = {}
        for number, (name, (store, _)) in enumerate(_REPEATED.items()):
            distinct, packed = _packed(instruments, name)
            tables[name] = [store(v) for v in distinct]  # per distinct value, not per row
            handle.write(f'{"," if number else ""}"{name}":"{packed}"')
        handle.write(f'}},"tables":{_dumps(tables)},"joined":{{')
        for number, name in enumerate(_JOINED):
            handle.write(f'{"," if number else ""}"{name}":"')
            value = operator.attrgetter(name)
            for start in range(0, len(instruments), _PIECE):
                text = "\n".join(map(value, instruments[start : start + _PIECE]))
                handle.write(("\\n" if start else "") + _dumps(text)[1:-1])
            handle.write('"')
        handle.write("}}")
    os.replace(part, path)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def read(path: Path, stamp: str) -> list[Instrument] | None:
    """The instruments `write(path, stamp)` saved, or None when there is no such file, it is
    of another format or stamp, or it is damaged (then the caller parses its source again)."""
    try:
        content = path.read_bytes()
    except OSError:
        return None
    try:
        document = json.loads(content)
        if document.get("format") != FORMAT or document.get("stamp") != stamp:
            log.info("compact instrument cache %s is of another format or day: ignored", path.name)
            return None
        return _instruments(document)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError) as exc:
        log.warning("compact instrument cache %s is damaged (%s): ignored", path.name, exc)
        return None


def _column(document: dict[str, Any], name: str, count: int) -> list[Any]:
    """One field's value per row: its table converted once, then indexed in C."""
    _, load = _REPEATED[name]
    table = [load(value) for value in document["tables"][name]]
    indexes = array("I")
    indexes.frombytes(base64.b64decode(document["indexes"][name], validate=True))
    if len(indexes) != count:
        raise ValueError(f"{name} does not hold {count} rows")
    return list(map(table.__getitem__, indexes))


def _instruments(document: dict[str, Any]) -> list[Instrument]:
    count = document["count"]
    if not isinstance(count, int):
        raise TypeError("not a compact instrument cache")
    columns = {name: _column(document, name, count) for name in _REPEATED}
    for name in _JOINED:
        text = _typed(document["joined"][name], str)
        columns[name] = text.split("\n") if count else []
        if len(columns[name]) != count:
            raise ValueError(f"{name} does not hold {count} rows")
    exchanges, symbols = columns["exchange"], columns["symbol"]
    keys = list(map(operator.add, map(operator.add, exchanges, repeat(":")), symbols))
    return make_instruments([columns[name] for name in _FIELD_ORDER] + [keys])
