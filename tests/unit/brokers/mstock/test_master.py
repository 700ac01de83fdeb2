"""The JSON master on the documented fields (ref §6.4): rupee units, our symbols, series, the
coded BSE weekly name, junk skipped, freeze quantities from the table; the compact copy a
first parse leaves serves a same-day restart."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from brokers import compact_cache
from brokers.errors import BrokerUnavailable, InstrumentNotFound
from brokers.models import InstrumentKind
from brokers.mstock.master import (
    COMPACT_NAME,
    MStockMaster,
    build_master,
    compact_stamp,
    parse_master,
    parse_master_bytes,
)

ROWS = [
    {"token": "3045", "symbol": "SBIN", "name": "SBIN-EQ", "expiry": "", "strike": "",
     "lotsize": "1", "instrumenttype": "EQ", "exch_seg": "NSE", "tick_size": "0.05"},
    {"token": "3046", "symbol": "SBIN", "name": "SBIN-BE", "expiry": "", "strike": "",
     "lotsize": "1", "instrumenttype": "EQ", "exch_seg": "NSE", "tick_size": "0.05"},
    {"token": "13421", "symbol": "RVNL", "name": "RVNL-EQ", "expiry": "", "strike": "",
     "lotsize": "1", "instrumenttype": "", "exch_seg": "NSE", "tick_size": "0.01"},
    {"token": "1140321", "symbol": "SENSEX", "name": "SENSEX25O2382700CE", "expiry": "23Oct2025",
     "strike": "82700", "lotsize": "20", "instrumenttype": "OPTIDX", "exch_seg": "BFO",
     "tick_size": "0.05"},
    {"token": "43210", "symbol": "NIFTY", "name": "NIFTY30DEC2524000PE", "expiry": "30Dec2025",
     "strike": "24000.000000", "lotsize": "65", "instrumenttype": "OPTIDX", "exch_seg": "NFO",
     "tick_size": "0.05"},
    {"token": "43211", "symbol": "BANKNIFTY", "name": "BANKNIFTY30DEC25FUT", "expiry": "30Dec2025",
     "strike": "-1", "lotsize": "30", "instrumenttype": "FUTIDX", "exch_seg": "NFO",
     "tick_size": "0.20"},
    {"token": "99001", "symbol": "USDINR", "name": "USDINR26DEC2590CE", "expiry": "26Dec2025",
     "strike": "90.25", "lotsize": "1000", "instrumenttype": "OPTCUR", "exch_seg": "NSE",
     "tick_size": "0.0025"},
    {"token": "99999", "symbol": "SENSEX", "name": "SENSEX", "expiry": "", "strike": "",
     "lotsize": "1", "instrumenttype": "AMXIDX", "exch_seg": "BSE", "tick_size": "0"},
    {"token": "", "symbol": "JUNK", "name": "JUNK-EQ", "tick_size": "0.05"},
    {"token": "5", "symbol": "BAD", "name": "BAD30DEC25XX", "expiry": "soon", "strike": "1",
     "lotsize": "1", "instrumenttype": "OPTSTK", "exch_seg": "NFO", "tick_size": "0.05"},
]  # fmt: skip


def test_documented_fields_become_our_symbols() -> None:
    master = parse_master(ROWS, date(2025, 10, 1), {"NIFTY": 1800})
    sbin = master.resolve("NSE:SBIN")
    assert (sbin.kind, sbin.tick_size, sbin.lot_size, sbin.broker_ref) == (
        InstrumentKind.EQUITY, Decimal("0.05"), 1, "NSE|3045|SBIN-EQ")  # fmt: skip
    assert master.resolve("NSE:SBIN-BE").broker_ref == "NSE|3046|SBIN-BE"
    assert master.resolve("nse:rvnl").tick_size == Decimal("0.01")
    sensex = master.resolve("BFO:SENSEX23OCT2582700CE")  # from expiry + strike, not the name
    assert (sensex.kind, sensex.strike, sensex.lot_size) == (
        InstrumentKind.CALL,
        Decimal(82700),
        20,
    )
    assert sensex.expiry == date(2025, 10, 23) and sensex.underlying == "SENSEX"
    nifty = master.resolve("NFO:NIFTY30DEC2524000PE")
    assert (nifty.kind, nifty.strike, nifty.freeze_qty) == (
        InstrumentKind.PUT,
        Decimal(24000),
        1800,
    )
    fut = master.resolve("NFO:BANKNIFTY30DEC25FUT")
    assert (fut.kind, fut.tick_size, fut.strike, fut.freeze_qty) == (
        InstrumentKind.FUTURE, Decimal("0.2"), None, None)  # fmt: skip
    assert master.resolve("CDS:USDINR26DEC2590.25CE").tick_size == Decimal("0.0025")
    assert master.resolve("BSE_INDEX:SENSEX").kind is InstrumentKind.INDEX
    assert master.resolve("NSE_INDEX:NIFTY").broker_ref == "NSE|26000|NIFTY"
    assert "NFO:BAD" not in " ".join(master.by_key)
    with pytest.raises(InstrumentNotFound, match="closest: NFO:NIFTY30DEC2524000PE"):
        master.resolve("NFO:NIFTY30DEC2524000CE")


def test_book_rows_find_their_keys_under_the_cash_exchange() -> None:
    master = parse_master(ROWS, None)
    assert master.key_for("NSE", "43210", "OPTIDX") == "NFO:NIFTY30DEC2524000PE"
    assert master.key_for("NSE", "43210") == "NFO:NIFTY30DEC2524000PE"  # type not given
    assert master.key_for("NSE", "3045", "") == "NSE:SBIN"
    assert master.key_for("NSE", "1", "OPTIDX", "NIFTY-28Nov2024-24000-CE") == (
        "NFO:NIFTY-28Nov2024-24000-CE"
    )


def test_a_file_that_is_not_a_json_array_is_an_outage() -> None:
    with pytest.raises(BrokerUnavailable):
        parse_master_bytes(b"<html>", None)
    with pytest.raises(BrokerUnavailable):
        parse_master_bytes(b'{"status": "false"}', None)


def _downloaded(tmp_path: Path) -> Path:
    """The day's master file as `DailyFiles` leaves it (`<day>/scripmaster.json`)."""
    path = tmp_path / "2025-10-01" / "scripmaster.json"
    path.parent.mkdir()
    path.write_bytes(json.dumps(ROWS).encode())
    return path


def _same(a: MStockMaster, b: MStockMaster) -> bool:
    return (a.instruments, a.by_key, a.by_token) == (b.instruments, b.by_key, b.by_token)


def test_a_same_day_restart_is_served_from_the_compact_copy(tmp_path: Path) -> None:
    path = _downloaded(tmp_path)
    day = date(2025, 10, 1)
    first = build_master(path, day, {"NIFTY": 1800})
    assert (path.parent / COMPACT_NAME).is_file()
    assert _same(first, parse_master(ROWS, day, {"NIFTY": 1800}))
    # The source made unreadable with its size and time kept: only the copy can answer now.
    stat = path.stat()
    path.write_bytes(b" " * stat.st_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = build_master(path, day, {"NIFTY": 1800})
    assert again is not first and _same(again, first)
    assert again.resolve("NFO:NIFTY30DEC2524000PE").freeze_qty == 1800
    assert again.key_for("NSE", "43210") == "NFO:NIFTY30DEC2524000PE"
    # Another day, or another freeze table, is not what the copy was made from: parsed again.
    for other_day, freezes in ((date(2025, 10, 2), {"NIFTY": 1800}), (day, {"NIFTY": 900})):
        with pytest.raises(BrokerUnavailable, match="not JSON"):
            build_master(path, other_day, freezes)


def test_a_damaged_compact_copy_is_parsed_again_and_rewritten(tmp_path: Path) -> None:
    path = _downloaded(tmp_path)
    day = date(2025, 10, 1)
    first = build_master(path, day)
    compact = path.parent / COMPACT_NAME
    compact.write_bytes(compact.read_bytes()[:-40])
    again = build_master(path, day)
    assert _same(again, first)
    assert compact_cache.read(compact, compact_stamp(path, day, None)) == first.instruments
