"""Whole lots and freeze-quantity slicing (lot sizes and freezes as in rules.md §3.4, 2026)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserError
from bot.orders.quantity import check_lots, slice_quantity
from brokers.models import Instrument, InstrumentKind

NIFTY_CE = Instrument(
    exchange="NFO",
    symbol="NIFTY24NOV2624000CE",
    name="NIFTY",
    kind=InstrumentKind.CALL,
    tick_size=Decimal("0.05"),
    lot_size=65,
    freeze_qty=1800,
)
SBIN = Instrument("NSE", "SBIN", "STATE BANK OF INDIA", InstrumentKind.EQUITY, Decimal("0.05"))


def test_lots_counted() -> None:
    assert check_lots(65, NIFTY_CE) == 1
    assert check_lots(3900, NIFTY_CE) == 60
    assert check_lots(7, SBIN) == 7


def test_not_a_lot_multiple_names_both_neighbours() -> None:
    with pytest.raises(UserError) as info:
        check_lots(100, NIFTY_CE)
    assert info.value.reason == "not_lot_multiple"
    assert info.value.text == (
        "NFO:NIFTY24NOV2624000CE trades in lots of 65; 100 is not a whole number of lots. "
        "Use 65 (1 lot) or 130 (2 lots)."
    )


def test_below_one_lot_names_only_one_lot() -> None:
    with pytest.raises(UserError) as info:
        check_lots(30, NIFTY_CE)
    assert info.value.reason == "not_lot_multiple"
    assert info.value.text.endswith("30 is not a whole number of lots. Use 65 (1 lot).")


@pytest.mark.parametrize("quantity", [0, -65])
def test_non_positive_quantity(quantity: int) -> None:
    with pytest.raises(UserError) as info:
        check_lots(quantity, NIFTY_CE)
    assert info.value.reason == "bad_quantity"
    assert str(quantity) in info.value.text


@pytest.mark.parametrize(
    ("quantity", "lot", "freeze", "slices"),
    [
        (3900, 65, 1800, [1755, 1755, 390]),  # NIFTY: 27 lots per order
        (1755, 65, 1800, [1755]),
        (1820, 65, 1800, [1755, 65]),
        (3510, 65, 1800, [1755, 1755]),
        (1500, 30, 600, [600, 600, 300]),  # BANKNIFTY: freeze is a lot multiple, 600 allowed
        (600, 30, 600, [600]),
        (630, 30, 600, [600, 30]),
        (2760, 120, 2800, [2760]),  # MIDCPNIFTY
        (10_000, 1, None, [10_000]),
        (6500, 65, None, [6500]),
    ],
)
def test_slices(quantity: int, lot: int, freeze: int | None, slices: list[int]) -> None:
    assert slice_quantity(quantity, lot, freeze) == slices


@pytest.mark.parametrize(
    ("quantity", "lot", "freeze", "message"),
    [
        (100, 65, 1800, "not a positive multiple"),
        (0, 65, 1800, "not a positive multiple"),
        (65, 0, 1800, "not a positive multiple"),
        (130, 65, 60, "below one lot"),
    ],
)
def test_slice_contract(quantity: int, lot: int, freeze: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        slice_quantity(quantity, lot, freeze)


@given(
    lot=st.integers(1, 200),
    lots=st.integers(1, 500),
    freeze_lots=st.integers(1, 60),
    extra=st.integers(0, 199),
)
def test_slice_properties(lot: int, lots: int, freeze_lots: int, extra: int) -> None:
    freeze = freeze_lots * lot + extra % lot
    quantity = lots * lot
    slices = slice_quantity(quantity, lot, freeze)
    largest = freeze // lot * lot
    assert sum(slices) == quantity
    assert all(s % lot == 0 and 0 < s <= freeze for s in slices)
    assert len(slices) == -(-quantity // largest)  # as few orders as possible
    assert slices == sorted(slices, reverse=True)
