"""The command grammar, shared by every front end."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.errors import UserError
from bot.parsing import (
    parse_cancel,
    parse_key,
    parse_modify,
    parse_order,
    parse_quote,
    parse_search,
)
from brokers.models import Instrument, InstrumentKind, OrderType, Product, Side

SBIN = Instrument("NSE", "SBIN", "State Bank of India", InstrumentKind.EQUITY, Decimal("0.05"))
NIFTY_CE = Instrument(
    "NFO",
    "NIFTY01DEC2626000CE",
    "NIFTY 01DEC26 26000 CE",
    InstrumentKind.CALL,
    Decimal("0.05"),
    lot_size=75,
    underlying="NIFTY",
)


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
        (["NSE:SBIN", "1", "x"], "bad_argument"),
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


@pytest.mark.parametrize(
    "price",
    [["@812.5"], ["@", "812.5"], ["@₹812.5"], ["@", "₹812.5"], ["@₹", "812.5"], ["@812.50"]],
)
def test_prices_as_typed_on_a_phone(price: list[str]) -> None:
    order = parse_order(Side.BUY, ["NSE:SBIN", "10", *price, "MIS"])
    assert (order.order_type, order.price, order.product) == (
        OrderType.LIMIT,
        Decimal("812.5"),
        Product.MIS,
    )


def test_a_trigger_after_a_space_too() -> None:
    order = parse_order(Side.SELL, ["NSE:SBIN", "10", "sl=", "₹795"])
    assert (order.order_type, order.trigger_price) == (OrderType.SL_M, Decimal("795"))


@pytest.mark.parametrize(
    "quantity", [["2", "lots"], ["2", "LOTS"], ["2L"], ["2l"], ["2lots"], ["2", "lot"]]
)
def test_lots_for_f_and_o_become_units(quantity: list[str]) -> None:
    args = parse_order(Side.BUY, ["NFO:NIFTY01DEC2626000CE", *quantity, "@120"])
    assert args.in_lots and args.quantity == 2
    ticket = args.ticket(NIFTY_CE)
    assert (ticket.quantity, ticket.price) == (150, Decimal("120"))


def test_one_lot_and_plain_units() -> None:
    assert parse_order(Side.BUY, ["NFO:X", "1", "lot"]).ticket(NIFTY_CE).quantity == 75
    units = parse_order(Side.BUY, ["NFO:X", "75"])
    assert not units.in_lots and units.ticket(NIFTY_CE).quantity == 75


def test_lots_of_an_equity_are_refused() -> None:
    args = parse_order(Side.BUY, ["NSE:SBIN", "2", "lots"])
    with pytest.raises(UserError) as err:
        args.ticket(SBIN)
    assert err.value.reason == "lots_for_equity"
    assert "trades in shares, not lots" in err.value.text and "/buy NSE:SBIN 2" in err.value.text


@pytest.mark.parametrize("bare", ["812.5", "812", "₹812.5"])
def test_a_bare_number_after_the_quantity_suggests_a_price(bare: str) -> None:
    with pytest.raises(UserError) as err:
        parse_order(Side.BUY, ["NSE:SBIN", "10", bare])
    assert err.value.reason == "bad_argument"
    assert err.value.text.endswith("did you mean @" + bare.removeprefix("₹") + "?")


def test_a_second_bare_number_in_a_modify_suggests_a_price() -> None:
    with pytest.raises(UserError, match=r"did you mean @812\.5"):
        parse_modify(["PAPER000001", "10", "812.5"])


@pytest.mark.parametrize(
    "extra",
    [["@812", "@813"], ["@812", "@", "813"], ["sl=800", "SL=801"], ["MIS", "CNC"]],
)
def test_a_repeated_price_trigger_or_product_is_refused(extra: list[str]) -> None:
    with pytest.raises(UserError) as err:
        parse_order(Side.SELL, ["NSE:SBIN", "10", *extra])
    assert err.value.reason == "repeated_argument" and "twice" in err.value.text


def test_a_repeated_price_in_a_modify_is_refused() -> None:
    with pytest.raises(UserError, match=r"price .* twice"):
        parse_modify(["PAPER000001", "@812", "@813"])


def test_lots_in_a_modify_are_refused_with_a_reason() -> None:
    for args in (["PAPER000001", "2L"], ["PAPER000001", "2", "lots"]):
        with pytest.raises(UserError) as err:
            parse_modify(args)
        assert err.value.reason == "lots_in_modify"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["NSE:SBIN", "9" * 5000], "too_large"),
        (["NSE:SBIN", "10000000"], "too_large"),
        (["NSE:SBIN", "1", "@" + "9" * 5000], "too_large"),
        (["NSE:SBIN", "1", "sl=" + "9" * 5000], "too_large"),
        (["NSE:SBIN", "1", "@0." + "0" * 5000 + "1"], "bad_price"),
        (["NSE:SBIN", "1", "@1e9999"], "bad_price"),
        (["NSE:SBIN", "1", "@Infinity"], "bad_price"),
        (["NSE:SBIN", "²"], "bad_quantity"),
    ],
)
def test_absurd_numbers_are_refused_in_a_sentence(args: list[str], reason: str) -> None:
    with pytest.raises(UserError) as err:
        parse_order(Side.BUY, args).ticket(NIFTY_CE)
    assert err.value.reason == reason
    assert len(err.value.text) < 200


def test_the_largest_quantity_and_a_long_price_are_fine() -> None:
    order = parse_order(Side.BUY, ["NSE:SBIN", "9999999", "@0000812.3500"])
    assert (order.quantity, order.price) == (9_999_999, Decimal("812.35"))
    assert parse_modify(["a1", "@" + "9" * 9]).price == Decimal("999999999")


def test_lots_times_the_lot_size_above_the_maximum_is_too_large() -> None:
    with pytest.raises(UserError) as err:
        parse_order(Side.BUY, ["NFO:X", "200000L"]).ticket(NIFTY_CE)
    assert err.value.reason == "too_large"


def test_echoes_of_user_input_are_capped() -> None:
    long = "X" * 500
    for call in (
        lambda: parse_order(Side.BUY, [long, "1"]),
        lambda: parse_order(Side.BUY, ["NSE:SBIN", "1", long]),
        lambda: parse_order(Side.BUY, ["NSE:SBIN", long]),
        lambda: parse_cancel([long]),
        lambda: parse_order(Side.BUY, [f"{long}:SBIN", "1"]),
    ):
        with pytest.raises(UserError) as err:
            call()
        assert "X" * 40 + "…" in err.value.text and "X" * 41 not in err.value.text


def test_search_text_is_kept() -> None:
    assert parse_search(["nifty", "26000", "ce"]) == "nifty 26000 ce"
