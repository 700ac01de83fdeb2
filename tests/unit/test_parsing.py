"""The command grammar, shared by every front end."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.errors import UserError
from bot.parsing import parse_cancel, parse_key, parse_modify, parse_order, parse_quote
from brokers.models import OrderType, Product, Side


def test_market_limit_stop_and_product() -> None:
    market = parse_order(Side.BUY, ["nse:sbin", "10"])
    assert (market.key, market.quantity, market.order_type) == ("NSE:SBIN", 10, OrderType.MARKET)
    limit = parse_order(Side.SELL, ["NSE:SBIN", "10", "@812.5", "mis"])
    assert limit.order_type is OrderType.LIMIT and limit.price == Decimal("812.5")
    assert limit.product is Product.MIS
    slm = parse_order(Side.SELL, ["NSE:SBIN", "10", "sl=795"])
    assert slm.order_type is OrderType.SL_M and slm.trigger_price == Decimal("795")
    sl = parse_order(Side.SELL, ["NSE:SBIN", "10", "@790", "SL=795"])
    assert sl.order_type is OrderType.SL and sl.price == Decimal("790")


def test_symbols_keep_ampersand_and_dash() -> None:
    assert parse_key("NSE:M&M", "u") == "NSE:M&M"
    assert parse_key("nse:bajaj-auto", "u") == "NSE:BAJAJ-AUTO"
    assert parse_key("NSE_INDEX:NIFTY", "u") == "NSE_INDEX:NIFTY"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ([], "missing_arguments"),
        (["NSE:SBIN"], "missing_arguments"),
        (["SBIN", "1"], "bad_symbol"),
        (["FOO:SBIN", "1"], "bad_exchange"),
        (["NSE:SBIN", "0"], "bad_quantity"),
        (["NSE:SBIN", "-3"], "bad_quantity"),
        (["NSE:SBIN", "1.5"], "bad_quantity"),
        (["NSE:SBIN", "1", "@0"], "bad_price"),
        (["NSE:SBIN", "1", "@-1"], "bad_price"),
        (["NSE:SBIN", "1", "@nan"], "bad_price"),
        (["NSE:SBIN", "1", "2"], "bad_argument"),
        (["NSE:SBIN", "1", "sl=x"], "bad_price"),
    ],
)
def test_bad_orders_name_the_problem_and_carry_usage(args: list[str], reason: str) -> None:
    with pytest.raises(UserError) as err:
        parse_order(Side.BUY, args)
    assert err.value.reason == reason
    assert err.value.usage == "/buy EXCHANGE:SYMBOL QTY [@PRICE] [sl=TRIGGER] [CNC|MIS|NRML]"


def test_modify_cancel_quote() -> None:
    m = parse_modify(["240101000123", "20", "@701.5"])
    assert (m.order_id, m.quantity, m.price, m.trigger_price) == (
        "240101000123",
        20,
        Decimal("701.5"),
        None,
    )
    with pytest.raises(UserError, match="Say what to change"):
        parse_modify(["123"])
    with pytest.raises(UserError, match="not an order number"):
        parse_cancel(["12;3"])
    assert parse_quote(["nse:sbin", "NSE_INDEX:NIFTY"]) == ["NSE:SBIN", "NSE_INDEX:NIFTY"]
    with pytest.raises(UserError, match="At most 10"):
        parse_quote(["NSE:SBIN"] * 11)
