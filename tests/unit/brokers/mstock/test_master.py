"""The JSON master on the documented fields (ref §6.4): rupee units, our symbols, series, the
coded BSE weekly name, junk skipped, freeze quantities from the table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from brokers.errors import BrokerUnavailable, InstrumentNotFound
from brokers.models import InstrumentKind
from brokers.mstock.master import parse_master, parse_master_bytes

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
