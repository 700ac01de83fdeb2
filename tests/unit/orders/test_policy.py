"""The order policy: tickets become LIMIT / SL plans, or plain refusals."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.errors import UserError
from bot.orders.lpp import DEFAULT_LPP, LppBands, parse_lpp
from bot.orders.policy import OrderPlan, OrderTicket, PolicyConfig, plan_order
from bot.orders.protection import parse_grid
from brokers.models import Instrument, InstrumentKind, OrderType, Product, Quote, Side

D = Decimal
IST = timezone(timedelta(hours=5, minutes=30))
NOW = datetime(2026, 4, 1, 10, 0, tzinfo=IST)
BUY, SELL = Side.BUY, Side.SELL

SBIN = Instrument("NSE", "SBIN", "STATE BANK OF INDIA", InstrumentKind.EQUITY, D("0.05"))
CALL = Instrument("NFO", "NIFTY24NOV2628000CE", "NIFTY", InstrumentKind.CALL, D("0.05"), 65, 1800)
FUT = Instrument("NFO", "NIFTY30DEC25FUT", "NIFTY", InstrumentKind.FUTURE, D("0.10"), 65, 1800)
INDEX = Instrument("NSE", "NIFTY", "NIFTY 50", InstrumentKind.INDEX, D("0.05"))


def quote(inst: Instrument, ltp: str | None, **fields: object) -> Quote:
    values: dict[str, object] = {"at": NOW - timedelta(seconds=3)}
    for name, value in fields.items():
        values[name] = D(value) if isinstance(value, str) else value
    return Quote(inst.key, None if ltp is None else D(ltp), **values)  # type: ignore[arg-type]


def ticket(
    inst: Instrument,
    side: Side,
    quantity: int,
    kind: OrderType,
    *,
    price: str | None = None,
    trigger_price: str | None = None,
    product: Product | None = None,
) -> OrderTicket:
    return OrderTicket(
        side,
        inst.key,
        quantity,
        kind,
        price=None if price is None else D(price),
        trigger_price=None if trigger_price is None else D(trigger_price),
        product=product,
    )


def refusal(*args: object, **kwargs: object) -> UserError:
    with pytest.raises(UserError) as info:
        plan_order(*args, **kwargs)  # type: ignore[arg-type]
    return info.value


# --- MARKET ------------------------------------------------------------------------------------


def test_market_buy_equity() -> None:
    plan = plan_order(ticket(SBIN, BUY, 10, OrderType.MARKET), SBIN, quote(SBIN, "808.30"), NOW)
    assert plan == OrderPlan(
        instrument=SBIN,
        side=BUY,
        quantity=10,
        order_type=OrderType.LIMIT,
        price=D("812.35"),
        trigger_price=None,
        product=Product.CNC,
        slices=(10,),
        requested_type=OrderType.MARKET,
        reference_price=D("808.30"),
        explanation="market → limit 812.35 = LTP 808.30 + 0.5%, rounded up to tick 0.05",
        lots=None,
    )


def test_market_sell_equity() -> None:
    plan = plan_order(ticket(SBIN, SELL, 10, OrderType.MARKET), SBIN, quote(SBIN, "808.30"), NOW)
    assert (plan.order_type, plan.price, plan.side) == (OrderType.LIMIT, D("804.25"), SELL)
    assert (
        plan.explanation == "market → limit 804.25 = LTP 808.30 − 0.5%, rounded down to tick 0.05"
    )


def test_market_clamped_to_circuit_from_quote() -> None:
    q = quote(SBIN, "808.30", upper_circuit="810.00", lower_circuit="727.50")
    plan = plan_order(ticket(SBIN, BUY, 1, OrderType.MARKET), SBIN, q, NOW)
    assert plan.price == D("810.00")
    assert plan.explanation is not None and "capped at upper circuit 810.00" in plan.explanation


def test_market_option_with_ltp_uses_option_band() -> None:
    plan = plan_order(ticket(CALL, BUY, 65, OrderType.MARKET), CALL, quote(CALL, "12.50"), NOW)
    assert plan.price == D("12.90")  # 12.50 + 3% = 12.875, up to 12.90
    assert (plan.product, plan.lots, plan.slices) == (Product.NRML, 1, (65,))


def test_custom_grid_from_config() -> None:
    config = PolicyConfig(grid=parse_grid("equity=*:1%;options=*:1%"))
    plan = plan_order(
        ticket(SBIN, BUY, 1, OrderType.MARKET), SBIN, quote(SBIN, "808.30"), NOW, config
    )
    assert plan.price == D("816.40")


def test_option_without_ltp_is_refused_with_a_limit_example() -> None:
    q = quote(CALL, None, ask="12.50", bid="12.00")
    err = refusal(ticket(CALL, BUY, 65, OrderType.MARKET), CALL, q, NOW)
    assert err.reason == "no_ltp"
    assert err.text == (
        "NFO:NIFTY24NOV2628000CE has no last traded price (it has not traded today), so a market "
        "order cannot be protected and would be rejected. Send a limit order instead, e.g. "
        "/buy NFO:NIFTY24NOV2628000CE 65 @12.50."
    )


def test_option_sell_without_ltp_suggests_the_bid() -> None:
    q = quote(CALL, None, ask="12.50", bid="12.00")
    err = refusal(ticket(CALL, SELL, 130, OrderType.MARKET), CALL, q, NOW)
    assert err.reason == "no_ltp"
    assert err.text.endswith("e.g. /sell NFO:NIFTY24NOV2628000CE 130 @12.00.")


def test_option_zero_ltp_and_no_book_shows_placeholder() -> None:
    err = refusal(ticket(CALL, BUY, 65, OrderType.MARKET), CALL, quote(CALL, "0"), NOW)
    assert err.reason == "no_ltp"
    assert err.text.endswith("e.g. /buy NFO:NIFTY24NOV2628000CE 65 @PRICE.")


def test_no_quote_at_all() -> None:
    err = refusal(ticket(CALL, BUY, 65, OrderType.MARKET), CALL, None, NOW)
    assert err.reason == "no_ltp"
    assert "(no quote is available)" in err.text
    assert "/buy NFO:NIFTY24NOV2628000CE 65 @PRICE." in err.text


def test_stale_ltp_is_refused_even_with_an_ask() -> None:
    q = quote(SBIN, "808.30", ask="808.35", at=NOW - timedelta(minutes=12))
    err = refusal(ticket(SBIN, BUY, 10, OrderType.MARKET), SBIN, q, NOW)
    assert err.reason == "no_ltp"
    assert err.text == (
        "NSE:SBIN has no recent last traded price (the last quote is 12 minutes old), so a market "
        "order cannot be protected. Send a limit order instead, e.g. /buy NSE:SBIN 10 @PRICE."
    )


def test_ltp_age_limit_is_inclusive_and_configurable() -> None:
    at_limit = quote(SBIN, "808.30", at=NOW - timedelta(minutes=5))
    assert plan_order(ticket(SBIN, BUY, 1, OrderType.MARKET), SBIN, at_limit, NOW).price == D(
        "812.35"
    )
    strict = PolicyConfig(max_ltp_age=timedelta(seconds=30))
    old = quote(SBIN, "808.30", at=NOW - timedelta(seconds=90))
    err = refusal(ticket(SBIN, BUY, 1, OrderType.MARKET), SBIN, old, NOW, strict)
    assert "(the last quote is 90 seconds old)" in err.text


def test_an_undated_quote_never_prices_a_market_order() -> None:
    """Its age is unknown, so it may be as stale as a 12-minute-old one; its bid and ask too."""
    for q in (quote(SBIN, "808.30", at=None), quote(SBIN, None, ask="808.35", at=None)):
        err = refusal(ticket(SBIN, BUY, 10, OrderType.MARKET), SBIN, q, NOW)
        assert err.reason == "no_ltp"
        assert err.text == (
            "NSE:SBIN has no dated last traded price (the quote carries no time, so its age is "
            "unknown), so a market order cannot be protected. Send a limit order instead, e.g. "
            "/buy NSE:SBIN 10 @PRICE."
        )
    limit = ticket(SBIN, BUY, 10, OrderType.LIMIT, price="808.30")
    assert plan_order(limit, SBIN, quote(SBIN, "808.30", at=None), NOW).price == D("808.30")


def test_equity_without_ltp_falls_back_to_ask() -> None:
    q = quote(SBIN, None, ask="808.30", bid="808.00")
    plan = plan_order(ticket(SBIN, BUY, 10, OrderType.MARKET), SBIN, q, NOW)
    assert plan.price == D("812.35")
    assert plan.reference_price == D("808.30")
    assert plan.explanation == "market → limit 812.35 = ask 808.30 + 0.5%, rounded up to tick 0.05"


def test_future_without_ltp_sells_from_bid() -> None:
    q = quote(FUT, None, ask="24012.40", bid="24012.30")
    plan = plan_order(ticket(FUT, SELL, 65, OrderType.MARKET), FUT, q, NOW)
    assert plan.price == D("23892.20")
    assert plan.reference_price == D("24012.30")
    assert plan.explanation is not None and plan.explanation.startswith(
        "market → limit 23892.20 = bid 24012.30 − 0.5%"
    )


def test_equity_without_ltp_or_ask_is_refused() -> None:
    q = quote(SBIN, None, bid="808.00")
    err = refusal(ticket(SBIN, BUY, 10, OrderType.MARKET), SBIN, q, NOW)
    assert err.reason == "no_ltp"
    assert err.text == (
        "NSE:SBIN has no last traded price (it has not traded today and has no ask), so a market "
        "order cannot be protected. Send a limit order instead, e.g. /buy NSE:SBIN 10 @PRICE."
    )


def test_market_with_a_price_or_trigger_is_refused() -> None:
    q = quote(SBIN, "808.30")
    with_price = refusal(ticket(SBIN, BUY, 1, OrderType.MARKET, price="810"), SBIN, q, NOW)
    with_trigger = refusal(
        ticket(SBIN, BUY, 1, OrderType.MARKET, trigger_price="810"), SBIN, q, NOW
    )
    assert (with_price.reason, with_trigger.reason) == ("bad_price", "bad_trigger")


# --- SL-M / SL / LIMIT -------------------------------------------------------------------------


def test_slm_becomes_sl() -> None:
    t = ticket(SBIN, SELL, 10, OrderType.SL_M, trigger_price="794.00")
    plan = plan_order(t, SBIN, quote(SBIN, "808.30"), NOW)
    assert (plan.order_type, plan.requested_type) == (OrderType.SL, OrderType.SL_M)
    assert (plan.price, plan.trigger_price, plan.reference_price) == (
        D("790.00"),
        D("794.00"),
        D("794.00"),
    )
    assert plan.explanation == (
        "stop-loss market → SL limit 790.00 = trigger 794.00 − 0.5%, rounded down to tick 0.05"
    )


def test_slm_needs_no_quote() -> None:
    t = ticket(CALL, BUY, 65, OrderType.SL_M, trigger_price="20.00")
    plan = plan_order(t, CALL, None, NOW)
    assert (plan.order_type, plan.price) == (OrderType.SL, D("20.60"))


@pytest.mark.parametrize(
    ("trigger", "reason"),
    [(None, "bad_trigger"), ("0", "bad_trigger"), ("-5", "bad_trigger"), ("794.03", "off_tick")],
)
def test_slm_trigger_checked(trigger: str | None, reason: str) -> None:
    t = ticket(SBIN, SELL, 10, OrderType.SL_M, trigger_price=trigger)
    assert refusal(t, SBIN, None, NOW).reason == reason


def test_slm_with_a_price_is_refused() -> None:
    t = ticket(SBIN, SELL, 10, OrderType.SL_M, price="790", trigger_price="794")
    assert refusal(t, SBIN, None, NOW).reason == "bad_price"


def test_slm_sell_of_tiny_option_is_refused() -> None:
    t = ticket(CALL, SELL, 65, OrderType.SL_M, trigger_price="0.05")
    assert refusal(t, CALL, None, NOW).reason == "no_valid_price"


def test_sl_passes_through_untouched() -> None:
    t = ticket(SBIN, BUY, 10, OrderType.SL, price="801.00", trigger_price="800.00")
    plan = plan_order(t, SBIN, None, NOW)
    assert (plan.order_type, plan.price, plan.trigger_price) == (
        OrderType.SL,
        D("801.00"),
        D("800.00"),
    )
    assert (plan.explanation, plan.reference_price) == (None, None)


@pytest.mark.parametrize(
    ("side", "price", "trigger", "text"),
    [
        (BUY, "799.95", "800.00", "the limit 799.95 must be at or above the trigger 800.00"),
        (SELL, "800.05", "800.00", "the limit 800.05 must be at or below the trigger 800.00"),
    ],
)
def test_sl_limit_on_the_wrong_side(side: Side, price: str, trigger: str, text: str) -> None:
    t = ticket(SBIN, side, 10, OrderType.SL, price=price, trigger_price=trigger)
    err = refusal(t, SBIN, None, NOW)
    assert err.reason == "bad_trigger"
    assert text in err.text


def test_sl_needs_both_prices() -> None:
    no_trigger = ticket(SBIN, BUY, 10, OrderType.SL, price="801.00")
    no_price = ticket(SBIN, BUY, 10, OrderType.SL, trigger_price="800.00")
    assert refusal(no_trigger, SBIN, None, NOW).reason == "bad_trigger"
    assert refusal(no_price, SBIN, None, NOW).reason == "bad_price"


def test_limit_passes_through_untouched() -> None:
    plan = plan_order(ticket(SBIN, BUY, 10, OrderType.LIMIT, price="812.5"), SBIN, None, NOW)
    assert (plan.order_type, plan.price, plan.explanation) == (OrderType.LIMIT, D("812.5"), None)


def test_off_tick_limit_is_refused_not_rounded() -> None:
    err = refusal(ticket(SBIN, BUY, 10, OrderType.LIMIT, price="812.53"), SBIN, None, NOW)
    assert err.reason == "off_tick"
    assert err.text == "812.53 is not a multiple of the tick 0.05; use 812.50 or 812.55."


@pytest.mark.parametrize("price", [None, "0", "-1"])
def test_limit_price_must_be_positive(price: str | None) -> None:
    err = refusal(ticket(SBIN, BUY, 10, OrderType.LIMIT, price=price), SBIN, None, NOW)
    assert err.reason == "bad_price"


def test_limit_with_a_trigger_is_refused() -> None:
    t = ticket(SBIN, BUY, 10, OrderType.LIMIT, price="812.50", trigger_price="810")
    assert refusal(t, SBIN, None, NOW).reason == "bad_trigger"


# --- instrument, quantity, product ------------------------------------------------------------


def test_lot_multiple_required() -> None:
    err = refusal(ticket(CALL, BUY, 100, OrderType.LIMIT, price="12.50"), CALL, None, NOW)
    assert err.reason == "not_lot_multiple"
    assert "Use 65 (1 lot) or 130 (2 lots)." in err.text


@pytest.mark.parametrize("quantity", [0, -10])
def test_quantity_positive(quantity: int) -> None:
    err = refusal(ticket(SBIN, BUY, quantity, OrderType.LIMIT, price="812.50"), SBIN, None, NOW)
    assert err.reason == "bad_quantity"


def test_freeze_slicing() -> None:
    plan = plan_order(ticket(CALL, SELL, 3900, OrderType.MARKET), CALL, quote(CALL, "120.00"), NOW)
    assert plan.slices == (1755, 1755, 390)
    assert (plan.quantity, plan.lots) == (3900, 60)
    assert plan.price == D("117.60")


def test_index_is_not_tradable() -> None:
    err = refusal(ticket(INDEX, BUY, 1, OrderType.MARKET), INDEX, quote(INDEX, "24000"), NOW)
    assert err.reason == "not_tradable"
    assert err.text.startswith("NSE:NIFTY is an index")


def test_cnc_on_a_derivative_is_refused() -> None:
    t = ticket(FUT, BUY, 65, OrderType.LIMIT, price="24000.00", product=Product.CNC)
    err = refusal(t, FUT, None, NOW)
    assert err.reason == "bad_product"
    assert "NFO:NIFTY30DEC25FUT is a derivative" in err.text


@pytest.mark.parametrize(
    ("inst", "product", "expected"),
    [
        (SBIN, None, Product.CNC),
        (CALL, None, Product.NRML),
        (FUT, None, Product.NRML),
        (SBIN, Product.MIS, Product.MIS),
        (FUT, Product.MIS, Product.MIS),
    ],
)
def test_product(inst: Instrument, product: Product | None, expected: Product) -> None:
    t = ticket(inst, BUY, inst.lot_size, OrderType.LIMIT, price="100.00", product=product)
    assert plan_order(t, inst, None, NOW).product == expected


def test_unknown_tick_is_refused() -> None:
    broken = Instrument("NSE", "XYZ", "XYZ LTD", InstrumentKind.EQUITY, D("-1"))
    err = refusal(ticket(broken, BUY, 1, OrderType.LIMIT, price="10"), broken, None, NOW)
    assert err.reason == "unknown_tick"


@pytest.mark.parametrize(
    "t",
    [
        ticket(FUT, BUY, 65, OrderType.MARKET),
        ticket(FUT, SELL, 65, OrderType.SL_M, trigger_price="24000.00"),
        ticket(FUT, BUY, 65, OrderType.LIMIT, price="24000.00"),
        ticket(FUT, SELL, 65, OrderType.SL, price="23990.00", trigger_price="24000.00"),
    ],
)
def test_never_sends_market_or_slm(t: OrderTicket) -> None:
    plan = plan_order(t, FUT, quote(FUT, "24012.30"), NOW)
    assert plan.order_type in (OrderType.LIMIT, OrderType.SL)
    assert plan.requested_type is t.order_type
    assert plan.lots == 1


# --- stop-loss trigger against the LTP, prices against the circuit band -------------------------


@pytest.mark.parametrize(
    ("side", "kind", "trigger", "price", "words"),
    [
        (SELL, OrderType.SL_M, "900", None, "trigger must be below the LTP 807.00"),
        (SELL, OrderType.SL, "807", "806", "trigger must be below the LTP 807.00"),
        (BUY, OrderType.SL_M, "800", None, "trigger must be above the LTP 807.00"),
        (BUY, OrderType.SL, "807", "808", "trigger must be above the LTP 807.00"),
    ],
)
def test_a_stop_trigger_on_the_wrong_side_of_the_ltp_is_refused(
    side: Side, kind: OrderType, trigger: str, price: str | None, words: str
) -> None:
    """`/sell NSE:SBIN 1 sl=900` at LTP 807 used to become a resting sell limit at 895.50."""
    t = ticket(SBIN, side, 1, kind, price=price, trigger_price=trigger)
    error = refusal(t, SBIN, quote(SBIN, "807"), NOW)
    assert error.reason == "bad_trigger" and words in error.text
    assert f"{D(trigger):.2f} is not" in error.text


@pytest.mark.parametrize(("side", "trigger", "price"), [(SELL, "800", "799"), (BUY, "815", "816")])
def test_a_stop_trigger_on_the_protecting_side_is_planned(
    side: Side, trigger: str, price: str
) -> None:
    t = ticket(SBIN, side, 1, OrderType.SL, price=price, trigger_price=trigger)
    plan = plan_order(t, SBIN, quote(SBIN, "807"), NOW)
    assert (plan.order_type, plan.trigger_price) == (OrderType.SL, D(trigger))


@pytest.mark.parametrize(
    "q",
    [
        None,
        quote(SBIN, None),
        quote(SBIN, "807", at=NOW - timedelta(minutes=10)),  # too old to judge by
    ],
)
def test_without_a_recent_ltp_no_trigger_is_refused(q: Quote | None) -> None:
    t = ticket(SBIN, SELL, 1, OrderType.SL_M, trigger_price="900")
    assert plan_order(t, SBIN, q, NOW).trigger_price == D(900)


@pytest.mark.parametrize(
    ("kind", "price", "trigger", "words"),
    [
        (OrderType.LIMIT, "1000", None, "The limit price 1000.00 is outside"),
        (OrderType.LIMIT, "640", None, "The limit price 640.00 is outside"),
        (OrderType.SL, "980", "975", "The limit price 980.00 is outside"),
    ],
)
def test_a_price_outside_the_circuit_band_is_refused_with_the_band(
    kind: OrderType, price: str, trigger: str | None, words: str
) -> None:
    q = quote(SBIN, "807", lower_circuit="646.65", upper_circuit="969.95")
    error = refusal(ticket(SBIN, BUY, 1, kind, price=price, trigger_price=trigger), SBIN, q, NOW)
    assert error.reason == "outside_band" and words in error.text
    assert "(646.65 to 969.95)" in error.text


def test_a_price_at_the_band_edge_is_planned() -> None:
    q = quote(SBIN, "807", lower_circuit="646.65", upper_circuit="969.95")
    assert plan_order(ticket(SBIN, BUY, 1, OrderType.LIMIT, price="969.95"), SBIN, q, NOW)
    assert plan_order(ticket(SBIN, SELL, 1, OrderType.LIMIT, price="646.65"), SBIN, q, NOW)


@pytest.mark.parametrize(
    "q",
    [
        None,
        quote(SBIN, "807"),
        quote(SBIN, "807", upper_circuit="969.95"),  # half a band is no band
    ],
)
def test_an_unknown_band_refuses_nothing(q: Quote | None) -> None:
    plan = plan_order(ticket(SBIN, BUY, 1, OrderType.LIMIT, price="5000"), SBIN, q, NOW)
    assert plan.price == D(5000)


# --- the exchange's limit price protection (LPP) -----------------------------------------------


def test_a_limit_outside_the_lpp_range_is_refused_with_the_range() -> None:
    q = quote(CALL, "60", lower_circuit="0.05", upper_circuit="180")  # inside the circuit
    error = refusal(ticket(CALL, BUY, 65, OrderType.LIMIT, price="95"), CALL, q, NOW)
    assert error.reason == "outside_lpp"
    assert error.text == (
        "The limit 95.00 is outside the exchange's price protection range for "
        "NFO:NIFTY24NOV2628000CE: 36.00 to 84.00 around the last price 60.00 (options above "
        "50.00: ±40%); the exchange would reject it."
    )
    plan = plan_order(ticket(CALL, BUY, 65, OrderType.LIMIT, price="84"), CALL, q, NOW)
    assert (plan.price, plan.explanation) == (D(84), None)


def test_a_stop_loss_limit_outside_lpp_around_its_trigger_is_refused() -> None:
    q = quote(CALL, "60")
    far = ticket(CALL, SELL, 65, OrderType.SL, price="28", trigger_price="30")
    assert plan_order(far, CALL, q, NOW).price == D(28)  # 10.00 to 50.00 around the trigger
    error = refusal(
        ticket(CALL, SELL, 65, OrderType.SL, price="9", trigger_price="30"), CALL, q, NOW
    )
    assert "once the stop-loss triggers: 10.00 to 50.00 around the trigger 30.00" in error.text


def test_a_limit_on_a_contract_without_ltp_goes_with_a_note() -> None:
    """Nothing to check the limit against: the exchange may take it, so it is not refused, but
    the card says the range was not checked (a market order there is refused: no LTP)."""
    plan = plan_order(
        ticket(CALL, BUY, 65, OrderType.LIMIT, price="500"), CALL, quote(CALL, None), NOW
    )
    assert plan.explanation == (
        "NFO:NIFTY24NOV2628000CE has no last traded price, so the exchange's price protection "
        "range for this limit could not be checked."
    )
    equity = plan_order(ticket(SBIN, BUY, 1, OrderType.LIMIT, price="5000"), SBIN, None, NOW)
    assert equity.explanation is None  # no LPP for cash equity


def test_lpp_bands_come_from_the_config() -> None:
    narrow = PolicyConfig(
        lpp=LppBands(
            parse_lpp("LPP_OPTIONS", "*:10%"),
            DEFAULT_LPP.index_futures,
            DEFAULT_LPP.stock_futures,
            DEFAULT_LPP.index_underlyings,
        )
    )
    t = ticket(CALL, BUY, 65, OrderType.LIMIT, price="70")
    error = refusal(t, CALL, quote(CALL, "60"), NOW, narrow)
    assert "54.00 to 66.00 around the last price 60.00 (options: ±10%)" in error.text
