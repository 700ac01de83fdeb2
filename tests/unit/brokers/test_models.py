"""`Instrument`: a named tuple made in C by the masters, with its key always `exchange:symbol`."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal

import pytest

from brokers.models import Instrument, InstrumentKind, make_instrument, make_instruments

NIFTY_CE = Instrument(
    exchange="NFO",
    symbol="NIFTY29DEC2624000CE",
    name="NIFTY",
    kind=InstrumentKind.CALL,
    tick_size=Decimal("0.05"),
    lot_size=65,
    freeze_qty=1800,
    expiry=date(2026, 12, 29),
    strike=Decimal("24000"),
    underlying="NIFTY",
    broker_ref="nse_fo|35012|NIFTY26DEC24000CE",
)


def test_the_key_is_made_from_exchange_and_symbol_and_defaults_hold() -> None:
    sbin = Instrument("NSE", "SBIN", "SBIN", InstrumentKind.EQUITY, Decimal("0.05"))
    assert sbin.key == "NSE:SBIN"
    assert (sbin.lot_size, sbin.freeze_qty, sbin.expiry, sbin.broker_ref) == (1, None, None, "")
    assert NIFTY_CE.key == "NFO:NIFTY29DEC2624000CE"


def test_the_makers_build_the_same_instrument_as_the_constructor() -> None:
    fields = (*NIFTY_CE[:-1], NIFTY_CE.key)
    made = make_instrument(fields)
    [from_columns] = make_instruments([[value] for value in fields])
    for other in (made, from_columns):
        assert type(other) is Instrument
        assert other == NIFTY_CE
        assert hash(other) == hash(NIFTY_CE)
        assert other.strike == Decimal("24000") and other.key == NIFTY_CE.key


def test_a_copy_with_another_symbol_gets_its_own_key_and_the_key_cannot_be_set() -> None:
    """The tuple's own `_replace` would keep the old key beside a new symbol: an order for one
    contract looked up under another's key."""
    moved = NIFTY_CE._replace(symbol="NIFTY29DEC2624100CE", strike=Decimal("24100"))
    assert moved.key == "NFO:NIFTY29DEC2624100CE"
    with pytest.raises(TypeError):
        NIFTY_CE._replace(key="NFO:SOMETHING")


def test_columns_of_unequal_length_are_refused() -> None:
    fields = (*NIFTY_CE[:-1], NIFTY_CE.key)
    columns = [[value] for value in fields]
    columns[-1].append("NFO:EXTRA")
    with pytest.raises(ValueError):
        make_instruments(columns)


def test_the_symbol_is_the_keys_tail_and_an_instrument_fits_128_bytes() -> None:
    """150,000 of them live for the day: one string serves key and symbol, and the tuple fits
    pymalloc's 128-byte class (twelve fields would take the 144-byte one: 2.4 MB more)."""
    assert NIFTY_CE.symbol == "NIFTY29DEC2624000CE"
    assert (
        Instrument("NSE_INDEX", "NIFTY", "Nifty 50", InstrumentKind.INDEX, Decimal("0.05")).symbol
        == "NIFTY"
    )
    assert "symbol" not in Instrument._fields
    assert sys.getsizeof(NIFTY_CE) <= 128
