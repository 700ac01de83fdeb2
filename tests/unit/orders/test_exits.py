"""The exit rules: quantity from a percentage in whole lots, opposite side, the position's
product, and the references buttons carry."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bot.errors import UserError
from bot.orders.exits import alert_levels, exit_quantity, exit_ticket, find, open_positions, ref
from brokers.models import Instrument, InstrumentKind, OrderType, Position, Product, Side


def _future(lot: int = 65) -> Instrument:
    return Instrument(
        exchange="NFO",
        symbol="NIFTY26DECFUT",
        name="NIFTY",
        kind=InstrumentKind.FUTURE,
        tick_size=Decimal("0.10"),
        lot_size=lot,
        broker_ref="x",
    )


@pytest.mark.parametrize(
    ("units", "percent", "lot", "expected"),
    [
        (4 * 65, 50, 65, 2 * 65),  # 50 % of 4 lots: 2 lots
        (3 * 65, 25, 65, 65),  # 25 % of 3 lots is 0.75: down, but at least one lot
        (3 * 65, 50, 65, 65),  # 1.5 lots: down to 1
        (3 * 65, 100, 65, 3 * 65),  # all of it
        (-5 * 30, 50, 30, 2 * 30),  # a short: the same rule on its size
        (65, 25, 65, 65),  # one lot: that lot
        (10, 25, 1, 2),  # equity: 2.5 shares down to 2
        (3, 25, 1, 1),  # equity: at least one share
        (7, 100, 1, 7),
        (130 + 10, 100, 65, 130),  # odd units beyond whole lots stay: never a part lot
    ],
)
def test_exit_quantity_is_whole_lots_at_least_one_never_above_the_position(
    units: int, percent: int, lot: int, expected: int
) -> None:
    assert exit_quantity(units, percent, lot) == expected
    assert exit_quantity(units, percent, lot) <= abs(units)


def test_less_than_a_lot_cannot_be_exited_in_lots() -> None:
    with pytest.raises(UserError) as caught:
        exit_quantity(40, 100, 65)
    assert caught.value.text == (
        "The position is 40 units, less than one lot of 65; it cannot be exited in lots."
    )


def test_a_percentage_outside_one_to_a_hundred_is_a_bug() -> None:
    with pytest.raises(ValueError, match="1 to 100"):
        exit_quantity(100, 0, 1)


def test_the_exit_is_the_opposite_side_with_the_positions_product_as_a_market_request() -> None:
    long = Position("NFO:NIFTY26DECFUT", Product.MIS, 4 * 65, Decimal(26000))
    ticket = exit_ticket(long, _future(), 50)
    assert (ticket.side, ticket.quantity, ticket.order_type, ticket.product) == (
        Side.SELL,
        130,
        OrderType.MARKET,
        Product.MIS,
    )
    short = Position("NFO:NIFTY26DECFUT", Product.NRML, -65, Decimal(26000))
    ticket = exit_ticket(short, _future(), 25)
    assert (ticket.side, ticket.quantity, ticket.product) == (Side.BUY, 65, Product.NRML)


def test_a_reference_names_the_position_as_it_was() -> None:
    """A button's reference matches the position it was made for; once the quantity has
    changed or the position is closed, the tap is refused."""
    shown = Position("NSE:SBIN", Product.CNC, 10, Decimal(800))
    reference = ref(shown)
    assert len(reference) == 8
    assert find([shown], reference) == shown
    other_product = Position("NSE:SBIN", Product.MIS, 10, Decimal(800))
    assert ref(other_product) != reference
    for now in (
        [Position("NSE:SBIN", Product.CNC, 5, Decimal(800))],
        [],
        [replace(shown, quantity=0)],
    ):
        with pytest.raises(UserError) as caught:
            find(now, reference)
        assert caught.value.reason == "position_changed"


def test_closed_positions_are_not_open() -> None:
    closed = Position("NSE:SBIN", Product.MIS, 0, Decimal(800))
    held = Position("NSE:INFY", Product.MIS, -3, Decimal(1500))
    assert open_positions([closed, held]) == [held]


def test_alert_levels_sit_one_percent_around_the_ltp_on_the_tick() -> None:
    assert alert_levels(Decimal("812.35"), Decimal("0.05")) == (
        Decimal("804.20"),
        Decimal("820.50"),
    )
