"""The built-in paper broker: instrument master, validation, matching, money and persistence.

What every broker must do (protocol, login, books, the order lifecycle, fills, tags) is checked
once for all of them in tests/contract; this module keeps what only paper does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.base import VersionedInstruments
from brokers.errors import (
    BrokerRejected,
    InstrumentNotFound,
    InsufficientFunds,
    InvalidQuantity,
    OrderNotFound,
    OrderNotModifiable,
)
from brokers.models import (
    Instrument,
    InstrumentKind,
    ModifyRequest,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Product,
    Side,
    Validity,
)
from brokers.paper import PaperBroker
from brokers.paper.pricing import option_price, to_tick

TODAY = date(2026, 11, 23)  # a Monday: weekly and November monthly expiry tomorrow
SBIN = "NSE:SBIN"
NIFTY = "NSE_INDEX:NIFTY"
NIFTY_FUT = "NFO:NIFTY29DEC26FUT"
NIFTY_CALL = "NFO:NIFTY24NOV2626000CE"


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "missing-folder" / "paper.json"


@pytest.fixture
async def broker(state_path: Path) -> AsyncIterator[PaperBroker]:
    paper = PaperBroker(state_path, tick_seconds=0, seed=7, today=TODAY)
    await paper.login()
    yield paper
    await paper.close()


async def instrument(broker: PaperBroker, key: str) -> Instrument:
    return next(i for i in await broker.instruments() if i.key == key)


async def ltp(broker: PaperBroker, key: str) -> Decimal:
    quote = (await broker.quotes([await instrument(broker, key)]))[key]
    assert quote.ltp is not None
    return quote.ltp


_TAGS = itertools.count(1)


async def order(broker: PaperBroker, order_id: str) -> Order:
    return next(o for o in await broker.orders() if o.order_id == order_id)


async def place(
    broker: PaperBroker,
    key: str,
    side: Side,
    quantity: int,
    price: Decimal | str,
    product: Product = Product.MIS,
    order_type: OrderType = OrderType.LIMIT,
    trigger_price: Decimal | str | None = None,
    validity: Validity = Validity.DAY,
    tag: str | None = None,
) -> str:
    """Place through the adapter; each call gets a tag of its own unless one is given (tags are
    unique per order: a reused one is refused as DuplicateTag)."""
    return await broker.place_order(
        OrderRequest(
            instrument=await instrument(broker, key),
            side=side,
            quantity=quantity,
            order_type=order_type,
            price=Decimal(price),
            product=product,
            tag=tag or f"tag-{next(_TAGS)}",
            trigger_price=None if trigger_price is None else Decimal(trigger_price),
            validity=validity,
        )
    )


async def modify(
    broker: PaperBroker,
    order_id: str,
    quantity: int,
    price: str,
    order_type: OrderType = OrderType.LIMIT,
) -> str:
    current = await order(broker, order_id)
    return await broker.modify_order(
        ModifyRequest(
            order_id=order_id,
            instrument=await instrument(broker, current.key),
            side=current.side,
            quantity=quantity,
            order_type=order_type,
            price=Decimal(price),
            product=current.product,
        )
    )


# Instruments and quotes


async def test_equities_and_indices(broker: PaperBroker) -> None:
    by_key = {i.key: i for i in await broker.instruments()}
    ticks = {"NSE:SBIN": "0.05", "NSE:IDEA": "0.01", "NSE:TCS": "0.10", "NSE:BAJAJ-AUTO": "0.50"}
    for key, tick in ticks.items():
        assert by_key[key].kind is InstrumentKind.EQUITY
        assert by_key[key].tick_size == Decimal(tick)
        assert by_key[key].lot_size == 1
    assert {"NSE:M&M", "NSE:RELIANCE", "NSE:YESBANK"} <= by_key.keys()
    assert by_key[NIFTY].kind is by_key["NSE_INDEX:BANKNIFTY"].kind is InstrumentKind.INDEX
    assert all(i.broker_ref == i.key for i in by_key.values())
    assert 100 < len(by_key) < 1000


async def test_futures_and_options_terms(broker: PaperBroker) -> None:
    by_key = {i.key: i for i in await broker.instruments()}
    futures = sorted(k for k, i in by_key.items() if i.kind is InstrumentKind.FUTURE)
    assert futures == [
        "NFO:BANKNIFTY24NOV26FUT",
        "NFO:BANKNIFTY29DEC26FUT",
        "NFO:NIFTY24NOV26FUT",
        "NFO:NIFTY29DEC26FUT",
    ]
    nifty, bank = by_key[NIFTY_FUT], by_key["NFO:BANKNIFTY29DEC26FUT"]
    assert (nifty.lot_size, nifty.freeze_qty, nifty.tick_size) == (65, 1800, Decimal("0.10"))
    assert (bank.lot_size, bank.freeze_qty, bank.tick_size) == (30, 600, Decimal("0.20"))
    assert nifty.underlying == "NIFTY" and nifty.expiry == date(2026, 12, 29)
    call = by_key[NIFTY_CALL]
    assert (call.kind, call.strike, call.lot_size, call.freeze_qty, call.tick_size) == (
        InstrumentKind.CALL,
        Decimal(26000),
        65,
        1800,
        Decimal("0.05"),
    )
    option_expiries = {
        root: {i.expiry for i in by_key.values() if i.kind.is_option and i.underlying == root}
        for root in ("NIFTY", "BANKNIFTY")
    }
    assert option_expiries["NIFTY"] == {date(2026, 11, 24), date(2026, 12, 1)}
    assert option_expiries["BANKNIFTY"] == {date(2026, 11, 24)}
    assert "NFO:BANKNIFTY24NOV2659000PE" in by_key
    assert "NFO:NIFTY24NOV2626025CE" not in by_key  # NIFTY strikes step by 50


async def test_expiries_roll_once_the_month_has_expired(state_path: Path) -> None:
    paper = PaperBroker(state_path, tick_seconds=0, today=date(2026, 11, 25))
    instruments = await paper.instruments()
    futures = {i.symbol for i in instruments if i.kind is InstrumentKind.FUTURE}
    expected = {
        f"{root}{code}FUT" for root in ("NIFTY", "BANKNIFTY") for code in ("29DEC26", "26JAN27")
    }
    assert futures == expected
    nifty_options = {i.expiry for i in instruments if i.kind.is_option and i.underlying == "NIFTY"}
    assert nifty_options == {date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 29)}


async def test_far_strikes_never_trade(broker: PaperBroker) -> None:
    instruments = await broker.instruments()
    spot = await ltp(broker, NIFTY)
    far = [
        i
        for i in instruments
        if i.kind.is_option
        and i.underlying == "NIFTY"
        and i.strike is not None
        and abs(i.strike - spot) > spot * Decimal("0.12")
    ]
    assert far
    order_id = await place(broker, far[0].key, Side.BUY, 65, "500")
    for _ in range(3):
        await broker.step()
    quotes = await broker.quotes(far)
    assert all(q.ltp is None and q.bid is None and q.ask is None for q in quotes.values())
    assert (await order(broker, order_id)).status is OrderStatus.OPEN
    with pytest.raises(ValueError, match="never traded"):
        broker.set_price(far[0].key, Decimal("1.00"))


async def test_quotes_skip_unknown_instruments(broker: PaperBroker) -> None:
    known = await instrument(broker, SBIN)
    unknown = Instrument("NSE", "NOSUCH", "No such", InstrumentKind.EQUITY, Decimal("0.05"))
    quotes = await broker.quotes([known, unknown])
    assert list(quotes) == [SBIN]
    quote = quotes[SBIN]
    assert quote.ltp == Decimal("812.35")
    assert (quote.bid, quote.ask) == (Decimal("812.30"), Decimal("812.40"))
    assert (quote.lower_circuit, quote.upper_circuit) == (Decimal("649.90"), Decimal("974.80"))
    assert quote.at is not None and quote.at.utcoffset() is not None


async def test_setting_the_index_reprices_its_derivatives(broker: PaperBroker) -> None:
    call_before, fut_before = await ltp(broker, NIFTY_CALL), await ltp(broker, NIFTY_FUT)
    broker.set_price(NIFTY, Decimal("26400.00"))
    assert await ltp(broker, NIFTY) == Decimal("26400.00")
    assert await ltp(broker, NIFTY_CALL) > call_before + 300  # now 400 in the money
    assert await ltp(broker, NIFTY_FUT) > fut_before


# Validation raised at once


@pytest.mark.parametrize(
    ("key", "quantity", "price", "order_type", "product", "trigger", "error", "words"),
    [
        (NIFTY_FUT, 70, "26000.00", OrderType.LIMIT, Product.NRML, None, InvalidQuantity,
         "not a multiple of the lot size 65"),
        (NIFTY_FUT, 65 * 28, "26000.00", OrderType.LIMIT, Product.NRML, None, InvalidQuantity,
         "freeze quantity 1800"),
        (SBIN, 0, "812.35", OrderType.LIMIT, Product.CNC, None, InvalidQuantity, "positive"),
        (SBIN, 1, "812.33", OrderType.LIMIT, Product.CNC, None, BrokerRejected, "tick size"),
        (SBIN, 1, "0", OrderType.LIMIT, Product.CNC, None, BrokerRejected, "positive"),
        (SBIN, 1, "812.35", OrderType.MARKET, Product.CNC, None, BrokerRejected, "Market orders"),
        (SBIN, 1, "812.35", OrderType.SL_M, Product.CNC, "812.35", BrokerRejected, "limit order"),
        (NIFTY, 1, "26000.00", OrderType.LIMIT, Product.MIS, None, BrokerRejected, "Indices"),
        (SBIN, 1, "812.35", OrderType.SL, Product.CNC, None, BrokerRejected, "trigger price"),
        (SBIN, 1, "812.00", OrderType.SL, Product.MIS, "815.00", BrokerRejected, "at or above"),
        (NIFTY_FUT, 65, "26000.00", OrderType.LIMIT, Product.CNC, None, BrokerRejected, "CNC"),
        (SBIN, 1, "812.35", OrderType.LIMIT, Product.NRML, None, BrokerRejected, "NRML"),
    ],
)  # fmt: skip
async def test_refusals_raise_and_leave_no_order(
    broker: PaperBroker,
    key: str,
    quantity: int,
    price: str,
    order_type: OrderType,
    product: Product,
    trigger: str | None,
    error: type[BrokerRejected],
    words: str,
) -> None:
    with pytest.raises(error, match=words) as raised:
        await place(broker, key, Side.BUY, quantity, price, product, order_type, trigger)
    if error is BrokerRejected:
        assert not isinstance(raised.value, InvalidQuantity)
    assert await broker.orders() == []


async def test_unknown_instrument(broker: PaperBroker) -> None:
    unknown = Instrument("NSE", "NOSUCH", "No such", InstrumentKind.EQUITY, Decimal("0.05"))
    request = OrderRequest(unknown, Side.BUY, 1, OrderType.LIMIT, Decimal(10), Product.CNC, "t")
    with pytest.raises(InstrumentNotFound):
        await broker.place_order(request)


# Matching and money


async def test_marketable_cnc_buy_fills_at_ltp(broker: PaperBroker) -> None:
    order_id = await place(broker, SBIN, Side.BUY, 10, "820.00", Product.CNC, tag="buy-sbin")
    filled = await order(broker, order_id)
    assert order_id == "PAPER000001"
    assert (filled.status, filled.filled_quantity, filled.average_price, filled.tag) == (
        OrderStatus.COMPLETE,
        10,
        Decimal("812.35"),
        "buy-sbin",
    )
    [position] = await broker.positions()
    assert (position.key, position.product, position.quantity) == (SBIN, Product.CNC, 10)
    assert position.average_price == Decimal("812.35")
    [holding] = await broker.holdings()
    assert (holding.key, holding.quantity, holding.average_price) == (SBIN, 10, Decimal("812.35"))
    funds = await broker.funds()
    assert funds.total == funds.available == Decimal("991876.50")
    assert funds.used_margin == 0
    [trade] = await broker.trades()
    assert (trade.order_id, trade.quantity, trade.price) == (order_id, 10, Decimal("812.35"))


async def test_resting_limit_fills_when_price_crosses(broker: PaperBroker) -> None:
    order_id = await place(broker, SBIN, Side.BUY, 100, "800.00")
    assert (await order(broker, order_id)).status is OrderStatus.OPEN
    assert (await broker.funds()).used_margin == Decimal("16000.00")  # 20 % of 80,000 (MIS)
    broker.set_price(SBIN, Decimal("800.05"))
    assert (await order(broker, order_id)).status is OrderStatus.OPEN
    broker.set_price(SBIN, Decimal("799.90"))
    filled = await order(broker, order_id)
    assert (filled.status, filled.average_price) == (OrderStatus.COMPLETE, Decimal("799.90"))
    [position] = await broker.positions()
    assert (position.quantity, position.ltp) == (100, Decimal("799.90"))
    assert position.unrealized_pnl == 0
    assert (await broker.funds()).used_margin == Decimal("15998.00")  # now held by the position


async def test_buy_stop_loss_triggers_then_fills(broker: PaperBroker) -> None:
    order_id = await place(
        broker, NIFTY_FUT, Side.BUY, 65, "26400.00", Product.NRML, OrderType.SL, "26390.00"
    )
    pending = await order(broker, order_id)
    assert (pending.status, pending.trigger_price) == (
        OrderStatus.TRIGGER_PENDING,
        Decimal("26390.00"),
    )
    broker.set_price(NIFTY_FUT, Decimal("26389.90"))
    assert (await order(broker, order_id)).status is OrderStatus.TRIGGER_PENDING
    broker.set_price(NIFTY_FUT, Decimal("26395.00"))
    filled = await order(broker, order_id)
    assert (filled.status, filled.average_price) == (OrderStatus.COMPLETE, Decimal("26395.00"))


async def test_sell_stop_loss_gapping_past_its_limit_stays_open(broker: PaperBroker) -> None:
    await place(broker, SBIN, Side.BUY, 10, "812.35")
    order_id = await place(
        broker, SBIN, Side.SELL, 10, "799.00", Product.MIS, OrderType.SL, "800.00"
    )
    assert (await order(broker, order_id)).status is OrderStatus.TRIGGER_PENDING
    broker.set_price(SBIN, Decimal("790.00"))
    assert (await order(broker, order_id)).status is OrderStatus.OPEN  # triggered, limit 799
    broker.set_price(SBIN, Decimal("799.50"))
    filled = await order(broker, order_id)
    assert (filled.status, filled.average_price) == (OrderStatus.COMPLETE, Decimal("799.50"))


async def test_round_trip_realizes_pnl_into_cash(broker: PaperBroker) -> None:
    await place(broker, SBIN, Side.BUY, 100, "812.35")
    broker.set_price(SBIN, Decimal("820.00"))
    await place(broker, SBIN, Side.SELL, 100, "820.00")
    [position] = await broker.positions()
    assert (position.quantity, position.realized_pnl) == (0, Decimal("765.00"))
    funds = await broker.funds()
    assert (funds.total, funds.used_margin) == (Decimal("1000765.00"), Decimal(0))


async def test_margin_rules_for_working_orders(broker: PaperBroker) -> None:
    spot = await ltp(broker, NIFTY)
    await place(broker, NIFTY_FUT, Side.BUY, 65, "25000.00", Product.NRML)  # resting
    assert (await broker.funds()).used_margin == Decimal("243750.00")  # 15 % of notional
    await place(broker, NIFTY_CALL, Side.SELL, 65, "250.00", Product.NRML)  # resting
    expected = Decimal("243750.00") + Decimal("0.15") * spot * 65
    assert (await broker.funds()).used_margin == expected.quantize(Decimal("0.01"))


async def test_insufficient_funds_is_rejected_in_the_book(state_path: Path) -> None:
    paper = PaperBroker(state_path, capital=Decimal(50_000), tick_seconds=0, today=TODAY)
    order_id = await place(paper, SBIN, Side.BUY, 100, "812.35", Product.CNC)
    rejected = await order(paper, order_id)
    assert rejected.status is OrderStatus.REJECTED
    assert "insufficient funds: required ₹81,235.00, available ₹50,000.00" in rejected.message
    assert (await paper.funds()).available == Decimal("50000.00")
    assert await paper.positions() == []


async def test_cnc_sell_needs_holdings(broker: PaperBroker) -> None:
    rejected = await order(broker, await place(broker, SBIN, Side.SELL, 5, "812.35", Product.CNC))
    assert rejected.status is OrderStatus.REJECTED
    assert "insufficient holdings" in rejected.message
    await place(broker, SBIN, Side.BUY, 5, "812.35", Product.CNC)
    sold = await order(broker, await place(broker, SBIN, Side.SELL, 5, "812.35", Product.CNC))
    assert sold.status is OrderStatus.COMPLETE
    assert await broker.holdings() == []
    assert (await broker.funds()).total == Decimal("1000000.00")


async def test_price_outside_circuit_is_rejected_in_the_book(broker: PaperBroker) -> None:
    rejected = await order(broker, await place(broker, SBIN, Side.BUY, 1, "980.00"))
    assert rejected.status is OrderStatus.REJECTED
    assert "circuit" in rejected.message


async def test_unmatched_ioc_is_cancelled(broker: PaperBroker) -> None:
    order_id = await place(broker, SBIN, Side.BUY, 1, "800.00", validity=Validity.IOC)
    assert (await order(broker, order_id)).status is OrderStatus.CANCELLED


# Modify and cancel


async def test_modify_holds_new_margin_and_cancel_releases_it(broker: PaperBroker) -> None:
    """The lifecycle itself is a contract case; here, the margin it blocks and the words."""
    order_id = await place(broker, SBIN, Side.BUY, 10, "800.00")
    await modify(broker, order_id, 20, "805.00")
    assert (await broker.funds()).used_margin == Decimal("3220.00")  # 20 % of 16,100 (MIS)
    await broker.cancel_order(order_id)
    assert (await broker.funds()).used_margin == 0
    with pytest.raises(OrderNotModifiable, match="already cancelled"):
        await broker.cancel_order(order_id)


async def test_modify_to_a_marketable_price_fills(broker: PaperBroker) -> None:
    order_id = await place(broker, SBIN, Side.BUY, 10, "800.00")
    await modify(broker, order_id, 10, "815.00")
    filled = await order(broker, order_id)
    assert (filled.status, filled.average_price) == (OrderStatus.COMPLETE, Decimal("812.35"))
    with pytest.raises(OrderNotModifiable, match="already complete"):
        await modify(broker, order_id, 10, "816.00")
    with pytest.raises(OrderNotModifiable):
        await broker.cancel_order(order_id)


async def test_modify_without_funds_leaves_the_order(state_path: Path) -> None:
    paper = PaperBroker(state_path, capital=Decimal(10_000), tick_seconds=0, today=TODAY)
    order_id = await place(paper, SBIN, Side.BUY, 10, "800.00", Product.CNC)
    with pytest.raises(InsufficientFunds):
        await modify(paper, order_id, 100, "800.00")
    kept = await order(paper, order_id)
    assert (kept.quantity, kept.status) == (10, OrderStatus.OPEN)


async def test_unknown_order(broker: PaperBroker) -> None:
    with pytest.raises(OrderNotFound):
        await broker.cancel_order("PAPER999999")
    sbin = await instrument(broker, SBIN)
    request = ModifyRequest("NOPE", sbin, Side.BUY, 1, OrderType.LIMIT, Decimal(800), Product.MIS)
    with pytest.raises(OrderNotFound):
        await broker.modify_order(request)


# Persistence and the market


async def test_restart_restores_the_account(state_path: Path) -> None:
    first = PaperBroker(state_path, tick_seconds=0, seed=1, today=TODAY)
    await place(first, SBIN, Side.BUY, 10, "812.35", Product.CNC, tag="a")
    await place(first, NIFTY_FUT, Side.BUY, 65, "25000.00", Product.NRML, tag="b")
    first.set_price(SBIN, Decimal("830.00"))
    await place(first, SBIN, Side.SELL, 4, "830.00", Product.CNC, tag="c")
    await first.close()
    saved = json.loads(await asyncio.to_thread(state_path.read_text))
    assert [o["tag"] for o in saved["orders"]] == ["a", "b", "c"]

    second = PaperBroker(state_path, tick_seconds=0, seed=2, today=TODAY)
    assert await second.orders() == await first.orders()
    assert await second.trades() == await first.trades()
    assert await second.positions() == await first.positions()
    assert await second.holdings() == await first.holdings()
    assert await second.funds() == await first.funds()
    assert await ltp(second, SBIN) == Decimal("830.00")
    assert await place(second, SBIN, Side.BUY, 1, "800.00") == "PAPER000004"


async def test_a_later_day_starts_with_an_empty_book(state_path: Path) -> None:
    """Working day orders end with their day (expired contract or not), releasing margin."""
    first = PaperBroker(state_path, tick_seconds=0, today=TODAY)
    await place(first, NIFTY_CALL, Side.BUY, 65, "1.00", Product.NRML)
    await place(first, SBIN, Side.BUY, 10, "700.00", Product.CNC)
    assert (await first.funds()).used_margin > 0
    await first.close()
    later = PaperBroker(state_path, tick_seconds=0, today=date(2026, 11, 25))
    assert await later.orders() == [] and await later.trades() == []
    assert (await later.funds()).used_margin == 0


async def test_background_market_moves_until_closed(state_path: Path) -> None:
    paper = PaperBroker(state_path, tick_seconds=0.005, seed=3, today=TODAY)
    sbin = await instrument(paper, SBIN)
    start = (await paper.quotes([sbin]))[SBIN].at
    await paper.login()
    await paper.login()  # idempotent
    await asyncio.sleep(0.05)
    moved = (await paper.quotes([sbin]))[SBIN].at
    assert moved is not None and start is not None and moved > start
    await paper.close()
    await asyncio.sleep(0.02)
    assert (await paper.quotes([sbin]))[SBIN].at == moved


async def test_every_price_stays_on_its_tick(broker: PaperBroker) -> None:
    instruments = await broker.instruments()
    for step in range(60):
        await broker.step()
        if step % 15:
            continue
        quotes = await broker.quotes(instruments)
        for instrument_ in instruments:
            tick, quote = instrument_.tick_size, quotes[instrument_.key]
            prices = (quote.ltp, quote.bid, quote.ask, quote.lower_circuit, quote.upper_circuit)
            assert all(p is None or (p > 0 and p % tick == 0) for p in prices), quote


@given(
    spot=st.floats(min_value=1_000, max_value=100_000),
    strike_ratio=st.floats(min_value=0.7, max_value=1.3),
    days=st.integers(min_value=0, max_value=60),
)
def test_option_model_prices_are_on_tick(spot: float, strike_ratio: float, days: int) -> None:
    tick = Decimal("0.05")
    for kind in (InstrumentKind.CALL, InstrumentKind.PUT):
        price = option_price(kind, spot, spot * strike_ratio, days, tick)
        assert price >= tick and price % tick == 0
    assert to_tick(spot, Decimal("0.10")) % Decimal("0.10") == 0


# Trading days and expiry, on a clock the test moves


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


EXPIRY_MORNING = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 09:30 IST on NIFTY's expiry day
NIFTY_PUT = "NFO:NIFTY24NOV2625500PE"
NIFTY_NOV_FUT = "NFO:NIFTY24NOV26FUT"


@pytest.fixture
async def clocked(state_path: Path) -> AsyncIterator[tuple[PaperBroker, Clock]]:
    clock = Clock(EXPIRY_MORNING)
    paper = PaperBroker(state_path, capital=Decimal(10**7), tick_seconds=0, seed=7, clock=clock)
    yield paper, clock
    await paper.close()


async def test_todays_orders_are_indias_day_not_utcs(
    clocked: tuple[PaperBroker, Clock],
) -> None:
    paper, clock = clocked
    clock.at = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # 23:30 IST
    await place(paper, SBIN, Side.BUY, 10, await ltp(paper, SBIN), Product.CNC)
    [filled] = await paper.orders()
    assert filled.status is OrderStatus.COMPLETE and len(await paper.trades()) == 1
    clock.at = datetime(2026, 11, 24, 18, 40, tzinfo=UTC)  # still the 24th in UTC, 00:10 IST
    assert await paper.orders() == [] and await paper.trades() == []
    [holding] = await paper.holdings()
    assert (holding.key, holding.quantity) == (SBIN, 10)  # delivery is kept
    assert filled.updated_at is not None and filled.updated_at == datetime(
        2026, 11, 24, 18, 0, tzinfo=UTC
    )  # stamped by the broker's clock


async def test_expired_options_settle_at_intrinsic_value(
    clocked: tuple[PaperBroker, Clock],
) -> None:
    paper, clock = clocked
    paper.set_price(NIFTY, Decimal("26200.00"))
    call_premium, put_premium = await ltp(paper, NIFTY_CALL), await ltp(paper, NIFTY_PUT)
    await place(paper, NIFTY_CALL, Side.BUY, 130, call_premium, Product.NRML)
    await place(paper, NIFTY_PUT, Side.SELL, 65, put_premium, Product.NRML)
    before = await paper.funds()
    assert before.used_margin > 0 and len(await paper.positions()) == 2
    clock.at = datetime(2026, 11, 24, 18, 31, tzinfo=UTC)  # 00:01 IST on the 25th
    after = await paper.funds()
    # The call is worth 26,200 − 26,000 = 200 a unit; the put, out of the money, nothing.
    expected = before.total + (Decimal(200) - call_premium) * 130 + put_premium * 65
    assert after.total == expected.quantize(Decimal("0.01"))
    assert after.used_margin == 0 and after.available == after.total
    assert await paper.positions() == []
    keys = {i.key for i in await paper.instruments()}
    assert NIFTY_CALL not in keys and "NFO:NIFTY01DEC2626000CE" in keys
    assert isinstance(paper, VersionedInstruments) and paper.instruments_version() == "2026-11-25"


async def test_expired_futures_settle_at_their_last_price(
    clocked: tuple[PaperBroker, Clock],
) -> None:
    paper, clock = clocked
    entry = await ltp(paper, NIFTY_NOV_FUT)
    await place(paper, NIFTY_NOV_FUT, Side.SELL, 65, entry, Product.NRML)
    last = entry - Decimal("150.00")
    paper.set_price(NIFTY_NOV_FUT, last)
    before = await paper.funds()
    clock.at += timedelta(days=1)
    after = await paper.funds()
    assert after.total == (before.total + Decimal(150) * 65).quantize(Decimal("0.01"))
    assert await paper.positions() == [] and after.used_margin == 0


async def test_a_restart_after_expiry_settles_from_the_saved_prices(state_path: Path) -> None:
    first = PaperBroker(state_path, tick_seconds=0, today=date(2026, 11, 24))
    first.set_price(NIFTY, Decimal("26100.00"))
    premium = await ltp(first, NIFTY_CALL)
    await place(first, NIFTY_CALL, Side.BUY, 65, premium, Product.NRML)
    cash = (await first.funds()).total
    await first.close()
    later = PaperBroker(state_path, tick_seconds=0, today=date(2026, 11, 26))
    assert await later.positions() == []
    assert (await later.funds()).total == cash + (Decimal(100) - premium) * 65
