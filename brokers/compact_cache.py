"""A compact copy of a parsed instrument list, so a restart on the same day skips the parse.

Parsing the day's Kotak nse_fo CSV (48 MB, 150k rows) costs about a second of CPU; reading this
file back costs a fraction of it (bench/scrip_master.py, bench/startup.py). Any adapter can keep
one beside its day's master files: `write` after a parse, `read` before the next one.

The layout is columnar JSON: one list per field, and the fields that repeat (names, ticks,
expiries, strikes) as a small table of distinct values plus one index per row. JSON rather than
pickle or marshal: loading it runs no code and a damaged file can only fail to parse.

The file names its format version and a `stamp` the caller derives from what it parsed (the
day, the source files' sizes and times); `read` returns None for another version, another stamp
or a file that does not hold what `write` writes, and the caller parses again. It is written
owner-only and atomically (a `.part` file renamed into place), like the master files beside it.
"""

from __future__ import annotations

import json
import logging
import operator
import os
from collections.abc import Callable, Hashable, Sequence
from datetime import date
from decimal import Decimal
from itertools import repeat
from pathlib import Path
from typing import Any

from brokers.models import Instrument, InstrumentKind, make_instrument

__all__ = ["FORMAT", "read", "write"]

log = logging.getLogger(__name__)

FORMAT = "instruments/1"  # bump when the layout or any field's meaning changes


def _table(
    values: Sequence[Any], key: Callable[[Any], Hashable] = lambda v: v
) -> tuple[list[Any], list[int]]:
    """Distinct values (in first-seen order) and each row's index into them."""
    where: dict[Hashable, int] = {}
    table: list[Any] = []
    rows = []
    for value in values:
        k = key(value)
        i = where.get(k)
        if i is None:
            i = where[k] = len(table)
            table.append(value)
        rows.append(i)
    return table, rows


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def write(path: Path, instruments: Sequence[Instrument], stamp: str) -> None:
    """Save `instruments` for `read(path, stamp)`. CPU and disk work: call it in a thread."""
    exchanges, exchange_rows = _table([i.exchange for i in instruments])
    names, name_rows = _table([i.name for i in instruments])
    underlyings, underlying_rows = _table([i.underlying for i in instruments])
    kinds, kind_rows = _table([i.kind.value for i in instruments])
    ticks, tick_rows = _table([_text(i.tick_size) for i in instruments])
    expiries, expiry_rows = _table([i.expiry and i.expiry.toordinal() for i in instruments])
    strikes, strike_rows = _table([_text(i.strike) for i in instruments])
    document = {
        "format": FORMAT,
        "stamp": stamp,
        "count": len(instruments),
        "tables": {
            "exchange": exchanges,
            "name": names,
            "underlying": underlyings,
            "kind": kinds,
            "tick_size": ticks,
            "expiry": expiries,
            "strike": strikes,
        },
        "rows": {
            "exchange": exchange_rows,
            "symbol": [i.symbol for i in instruments],
            "name": name_rows,
            "kind": kind_rows,
            "tick_size": tick_rows,
            "lot_size": [i.lot_size for i in instruments],
            "freeze_qty": [i.freeze_qty for i in instruments],
            "expiry": expiry_rows,
            "strike": strike_rows,
            "underlying": underlying_rows,
            "broker_ref": [i.broker_ref for i in instruments],
        },
    }
    content = json.dumps(document, separators=(",", ":")).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(part, path)


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


def _column(rows: dict[str, list[Any]], name: str, count: int) -> list[Any]:
    column = rows[name]
    if not isinstance(column, list) or len(column) != count:
        raise ValueError(f"column {name} does not hold {count} rows")
    return column


def _decoded(
    tables: dict[str, list[Any]],
    rows: dict[str, list[Any]],
    name: str,
    count: int,
    convert: Callable[[Any], Any],
) -> list[Any]:
    """A repeated field's values per row: its table converted once, then indexed in C."""
    table = [convert(value) for value in tables[name]]
    return list(map(table.__getitem__, _column(rows, name, count)))


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a text field holds another type")
    return value


def _optional_string(value: Any) -> str | None:
    return None if value is None else _string(value)


def _optional_decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _optional_date(value: int | None) -> date | None:
    return None if value is None else date.fromordinal(value)


def _instruments(document: dict[str, Any]) -> list[Instrument]:
    count = document["count"]
    tables, rows = document["tables"], document["rows"]
    if not isinstance(count, int) or not isinstance(tables, dict) or not isinstance(rows, dict):
        raise TypeError("not a compact instrument cache")
    exchanges = _decoded(tables, rows, "exchange", count, _string)
    symbols = _column(rows, "symbol", count)
    names = _decoded(tables, rows, "name", count, _string)
    kinds = _decoded(tables, rows, "kind", count, InstrumentKind)
    ticks = _decoded(tables, rows, "tick_size", count, Decimal)
    lots = _column(rows, "lot_size", count)
    freezes = _column(rows, "freeze_qty", count)
    expiries = _decoded(tables, rows, "expiry", count, _optional_date)
    strikes = _decoded(tables, rows, "strike", count, _optional_decimal)
    underlyings = _decoded(tables, rows, "underlying", count, _optional_string)
    refs = _column(rows, "broker_ref", count)
    keys = list(map(operator.add, map(operator.add, exchanges, repeat(":")), symbols))
    return list(
        map(
            make_instrument,
            exchanges,
            symbols,
            names,
            kinds,
            ticks,
            lots,
            freezes,
            expiries,
            strikes,
            underlyings,
            refs,
            keys,
        )
    )
