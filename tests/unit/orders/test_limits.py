"""The daily-limit rules: which limit an entry hits and by how much, and what counts as an exit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.errors import UserError
from bot.orders.limits import (
    Breach,
    DailyLimits,
    LimitKind,
    Usage,
    check_day,
    check_entry,
    closable,
    orders_today,
    parse_limit_change,
)
from brokers.models import Holding, Order, OrderStatus, OrderType, Position, Product, Side

LIMITS = DailyLimits(Decimal(5000), 10, Decimal(100_000))
D = Decimal


def _position(key: str, quantity: int, product: Product = Product.MIS) -> Position:
    return Position(key, product, quantity, D(800))


def _order(side: Side, quantity: int, status: OrderStatus, filled: int = 0) -> Order:
    return Order(
        "1", "NSE:SBIN", side, quantity, OrderType.LIMIT, Product.MIS, status, D(800), None, filled
    )


def test_no_limits_allow_everything() -> None:
    usage = Usage(D(-(10**9)), 10**6)
    assert check_entry(DailyLimits(), usage, value=D(10**12), orders=40) is None
    assert not DailyLimits().any


def test_a_loss_at_or_past_the_limit_halts_and_says_by_how_much() -> None:
    assert check_entry(LIMITS, Usage(D(-4999.99), 0), value=D(1), orders=1) is None
    breach = check_entry(LIMITS, Usage(D(-5300), 0), value=D(1), orders=1)
    assert breach == Breach(LimitKind.LOSS, D(5000), D(5300))
    assert breach.kind.halts and breach.over == D(300)
    assert breach.sentence() == (
        "today's loss of ₹5,300.00 has reached the daily max loss of ₹5,000.00 (by ₹300.00)"
    )
    exactly = check_day(LIMITS, Usage(D(-5000), 0))
    assert exactly is not None and "(exactly)" in exactly.sentence()


def test_a_profit_never_hits_the_loss_limit() -> None:
    assert check_day(LIMITS, Usage(D(9000), 0)) is None


def test_the_order_count_halts_at_the_maximum_and_a_batch_may_not_pass_it() -> None:
    at_max = check_entry(LIMITS, Usage(D(0), 10), value=D(1), orders=1)
    assert at_max == Breach(LimitKind.ORDERS, D(10), D(10))
    assert at_max.sentence() == "10 orders were placed today, the daily max is 10"
    sliced = check_entry(LIMITS, Usage(D(0), 8), value=D(1), orders=3)
    assert sliced == Breach(LimitKind.ORDERS, D(10), D(11), adding=3)
    assert sliced.sentence() == (
        "this order goes out as 3 orders and 8 were placed today: 11 would be 1 above the "
        "daily max of 10 orders"
    )
    assert sliced.refusal().text.endswith("Nothing was sent.")
    assert check_entry(LIMITS, Usage(D(0), 8), value=D(1), orders=2) is None


def test_an_order_above_the_value_limit_is_refused_alone() -> None:
    breach = check_entry(LIMITS, Usage(D(0), 0), value=D(120_000), orders=1)
    assert breach == Breach(LimitKind.ORDER_VALUE, D(100_000), D(120_000))
    assert not breach.kind.halts
    refusal = breach.refusal()
    assert refusal.reason == "limit_value"
    assert refusal.text == (
        "Refused: this order is worth ₹1,20,000.00, ₹20,000.00 above the max value of one "
        "order, ₹1,00,000.00. Nothing was sent."
    )


def test_the_loss_is_named_first_and_a_waived_limit_is_skipped() -> None:
    both = Usage(D(-6000), 12)
    assert check_day(LIMITS, both) == Breach(LimitKind.LOSS, D(5000), D(6000))
    assert check_day(LIMITS, both, [LimitKind.LOSS]) == Breach(LimitKind.ORDERS, D(10), D(12))
    assert check_day(LIMITS, both, [LimitKind.LOSS, LimitKind.ORDERS]) is None


def test_a_sell_up_to_the_long_quantity_is_an_exit_a_flip_is_not() -> None:
    long10 = [_position("NSE:SBIN", 10), _position("NSE:INFY", -4)]
    assert closable(Side.SELL, "NSE:SBIN", Product.MIS, long10, []) == 10
    assert closable(Side.BUY, "NSE:SBIN", Product.MIS, long10, []) == 0  # adds to a long
    assert closable(Side.BUY, "NSE:INFY", Product.MIS, long10, []) == 4  # covers a short
    assert closable(Side.SELL, "NSE:INFY", Product.MIS, long10, []) == 0
    # Another product's position is another position.
    assert closable(Side.SELL, "NSE:SBIN", Product.NRML, long10, []) == 0


def test_open_exits_already_working_are_taken_off_what_can_be_closed() -> None:
    long10 = [_position("NSE:SBIN", 10)]
    book = [
        _order(Side.SELL, 6, OrderStatus.OPEN, filled=2),  # 4 still working
        _order(Side.SELL, 5, OrderStatus.CANCELLED),
        _order(Side.BUY, 3, OrderStatus.OPEN),
    ]
    assert closable(Side.SELL, "NSE:SBIN", Product.MIS, long10, book) == 6


def test_a_cnc_sell_may_close_holdings_never_counted_twice() -> None:
    today = [_position("NSE:SBIN", 5, Product.CNC)]
    holdings = [Holding("NSE:SBIN", 20, D(700))]
    assert closable(Side.SELL, "NSE:SBIN", Product.CNC, today, [], holdings) == 20
    assert closable(Side.SELL, "NSE:SBIN", Product.CNC, [], [], []) == 0


def test_rejected_orders_do_not_count() -> None:
    book = [_order(Side.BUY, 1, s) for s in OrderStatus]
    assert orders_today(book) == len(OrderStatus) - 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["loss", "5000"], (LimitKind.LOSS, D(5000))),
        (["LOSS", "₹5,000"], (LimitKind.LOSS, D(5000))),
        (["orders", "20"], (LimitKind.ORDERS, D(20))),
        (["value", "off"], (LimitKind.ORDER_VALUE, None)),
        (["value", "0"], (LimitKind.ORDER_VALUE, None)),
    ],
)
def test_a_change_is_parsed(args: list[str], expected: tuple[LimitKind, Decimal | None]) -> None:
    assert parse_limit_change(args) == expected


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["loss"], "Name one limit and its new value."),
        (["margin", "5"], "'margin' is not a limit; use loss, orders or value."),
        (["loss", "-5"], "'-5' is not an amount in rupees; give 0 or off for no limit."),
        (["loss", "lots"], "'lots' is not an amount in rupees; give 0 or off for no limit."),
        (["orders", "2.5"], "'2.5' is not a whole number of orders; give 0 or off for no limit."),
    ],
)
def test_a_bad_change_is_refused_with_the_usage(args: list[str], says: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_limit_change(args)
    assert caught.value.text == says and caught.value.usage is not None
