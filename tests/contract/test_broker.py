"""The `Broker` contract: what the core relies on from every adapter, run once per broker.

Each case gets a fresh, logged-in account from its broker's driver (`driver.py`). Orders are
built from the broker's own instruments and quotes, never from constants, so the same words hold
for every broker: a resting order is a BUY limit about 2 % under the market (valid, inside any
circuit band, and it will not fill until the driver says so). Tags are letters and digits
under 20 characters, like the desk's own (`TB` + hex): mStock accepts no other (ref §4.1).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import pytest

from brokers.base import Broker, PacesOrderWrites
from brokers.errors import (
    BrokerError,
    BrokerRejected,
    DuplicateTag,
    InvalidQuantity,
    IPNotWhitelisted,
    OrderNotModifiable,
    SessionExpired,
    SessionIPMismatch,
    Throttled,
    UnknownOutcome,
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
)
from brokers.writes import request_written
from tests.contract.driver import BrokerDriver, Expect, Failure

# --------------------------------------------------------------------------- helpers


async def instrument(driver: BrokerDriver, key: str) -> Instrument:
    [found] = [i for i in await driver.broker.instruments() if i.key == key]
    return found


async def ltp(driver: BrokerDriver, inst: Instrument) -> Decimal:
    price = (await driver.broker.quotes([inst]))[inst.key].ltp
    assert price is not None, f"{inst.key} should be traded"
    return price


def floor_to_tick(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value(ROUND_FLOOR) * tick


async def resting_buy(driver: BrokerDriver, tag: str, quantity: int = 1) -> OrderRequest:
    inst = await instrument(driver, driver.equity)
    price = floor_to_tick(await ltp(driver, inst) * Decimal("0.98"), inst.tick_size)
    return OrderRequest(inst, Side.BUY, quantity, OrderType.LIMIT, price, Product.CNC, tag)


def modification(order_id: str, request: OrderRequest, quantity: int) -> ModifyRequest:
    """The same order, `quantity` units, one tick lower: still resting."""
    price = request.price - request.instrument.tick_size
    return ModifyRequest(
        order_id,
        request.instrument,
        request.side,
        quantity,
        request.order_type,
        price,
        request.product,
    )


async def tagged(driver: BrokerDriver, tag: str) -> list[Order]:
    return [o for o in await driver.broker.orders() if o.tag == tag]


async def by_id(driver: BrokerDriver, order_id: str) -> Order:
    [order] = [o for o in await driver.broker.orders() if o.order_id == order_id]
    return order


async def armed(driver: BrokerDriver, failure: Failure) -> Expect:
    """Arm `failure`, or skip the case with the driver's reason why this broker cannot have it."""
    reason = driver.unsupported.get(failure)
    if reason is not None:
        pytest.skip(f"{failure} cannot arise on {driver.broker.name}: {reason}")
    return await driver.arm(failure)


def carries(error: BrokerError, expect: Expect) -> None:
    """The broker's code exactly, and its text verbatim when the driver pins it."""
    assert error.code == expect.code
    assert error.message.strip()
    if expect.message is not None:
        assert error.message == expect.message


# --------------------------------------------------------------------------- session and reads


async def test_login(driver: BrokerDriver) -> None:
    assert isinstance(driver.broker, Broker)
    assert driver.broker.name == driver.name
    info = await driver.login()
    assert info.account == driver.account
    assert info.created_at.tzinfo is not None
    assert await driver.broker.orders() == []  # the new session reads


async def test_a_fresh_account_has_empty_books(driver: BrokerDriver) -> None:
    """An empty book is an empty list, not an error (`Broker.orders`)."""
    assert await driver.broker.orders() == []
    assert await driver.broker.trades() == []
    assert await driver.broker.positions() == []


async def test_instruments(driver: BrokerDriver) -> None:
    instruments = await driver.broker.instruments()
    by_key = {i.key: i for i in instruments}
    assert len(by_key) == len(instruments), "the core indexes instruments by key"
    equity = by_key[driver.equity]
    assert equity.kind is InstrumentKind.EQUITY
    assert (equity.exchange, equity.symbol) == tuple(driver.equity.split(":"))
    assert equity.tick_size > 0 and equity.lot_size == 1
    for key in (driver.option, driver.untraded_option):
        option = by_key[key]
        assert option.kind.is_option
        assert option.tick_size > 0 and option.lot_size > 1
        assert option.strike is not None and option.strike > 0
        assert option.expiry is not None and option.underlying


async def test_quotes(driver: BrokerDriver) -> None:
    wanted = [
        await instrument(driver, key)
        for key in (driver.equity, driver.option, driver.untraded_option)
    ]
    quotes = await driver.broker.quotes(wanted)
    for inst in wanted[:2]:
        quote = quotes[inst.key]
        assert quote.key == inst.key
        assert quote.ltp is not None and quote.ltp > 0
        assert quote.ltp % inst.tick_size == 0
        assert quote.at is None or quote.at.tzinfo is not None
        if quote.bid is not None and quote.ask is not None:
            assert quote.bid < quote.ask
    untraded = quotes[driver.untraded_option]
    assert untraded.ltp is None  # never a zero price: the core refuses to price from it
    assert untraded.bid is None


async def test_holdings(driver: BrokerDriver) -> None:
    key, quantity = await driver.holding()
    [holding] = [h for h in await driver.broker.holdings() if h.key == key]
    assert holding.quantity == quantity
    assert holding.average_price > 0


async def test_funds(driver: BrokerDriver) -> None:
    funds = await driver.broker.funds()
    assert funds.available == driver.opening_available
    assert funds.used_margin >= 0
    assert funds.total == funds.available + funds.used_margin


# --------------------------------------------------------------------------- orders


async def test_place_modify_cancel(driver: BrokerDriver) -> None:
    broker = driver.broker
    request = await resting_buy(driver, "CTPMC", quantity=2)
    order_id = await broker.place_order(request)
    placed = await by_id(driver, order_id)
    assert placed.status is OrderStatus.OPEN
    assert (placed.key, placed.side, placed.quantity) == (driver.equity, Side.BUY, 2)
    assert (placed.order_type, placed.product) == (OrderType.LIMIT, Product.CNC)
    assert placed.price == request.price and placed.filled_quantity == 0
    assert placed.updated_at is not None and placed.updated_at.tzinfo is not None

    change = modification(order_id, request, quantity=3)
    assert await broker.modify_order(change) == order_id
    modified = await by_id(driver, order_id)
    assert (modified.quantity, modified.price) == (3, change.price)
    assert modified.status is OrderStatus.OPEN

    assert await broker.cancel_order(order_id) == order_id
    assert (await by_id(driver, order_id)).status is OrderStatus.CANCELLED
    with pytest.raises(OrderNotModifiable):
        await broker.cancel_order(order_id)
    with pytest.raises(OrderNotModifiable):
        await broker.modify_order(modification(order_id, request, quantity=1))


async def test_a_write_pacing_broker_reports_each_order_request_once_it_is_out(
    driver: BrokerDriver,
) -> None:
    """`PacesOrderWrites`: the pace before each order request's write, `request_written` once
    it is out (the tap is answered then, so its work never delays the request), and neither
    for a read. A broker that sends nothing over a wire has neither."""
    broker = driver.broker
    if not isinstance(broker, PacesOrderWrites):
        pytest.skip(f"{broker.name} writes no requests to pace")
    events: list[str] = []

    async def pace() -> None:
        events.append("pace")

    broker.pace_order_writes(pace)
    written = request_written.set(lambda: events.append("written"))
    try:
        request = await resting_buy(driver, "CTWRITE")
        order_id = await broker.place_order(request)
        await broker.orders()
        await broker.cancel_order(order_id)
    finally:
        request_written.reset(written)
    assert events == ["pace", "written", "pace", "written"]


async def test_our_tag_finds_the_order_again(driver: BrokerDriver) -> None:
    """How an unknown outcome is reconciled: by our tag, in the broker's own order book."""
    first = await driver.broker.place_order(await resting_buy(driver, "CTTAG1"))
    second = await driver.broker.place_order(await resting_buy(driver, "CTTAG2"))
    assert first != second
    assert [o.order_id for o in await tagged(driver, "CTTAG1")] == [first]
    assert [o.order_id for o in await tagged(driver, "CTTAG2")] == [second]


async def test_a_reused_tag_is_refused_as_a_duplicate(driver: BrokerDriver) -> None:
    """A tag names one order for good, even after that order is cancelled (kotak-neo.md §4.1):
    a second place with it is `DuplicateTag` (not a rejection: that order exists), and nothing
    new is made. This is what makes a second send of one order safe."""
    request = await resting_buy(driver, "CTDUP")
    first = await driver.broker.place_order(request)
    await driver.broker.cancel_order(first)
    with pytest.raises(DuplicateTag) as caught:
        await driver.broker.place_order(request)
    assert not isinstance(caught.value, BrokerRejected)
    assert caught.value.message.strip()
    assert [o.order_id for o in await tagged(driver, "CTDUP")] == [first]


async def test_a_fill_shows_in_trades_and_positions(driver: BrokerDriver) -> None:
    request = await resting_buy(driver, "CTFILL", quantity=2)
    order_id = await driver.broker.place_order(request)
    await driver.fill(order_id)

    order = await by_id(driver, order_id)
    assert order.status is OrderStatus.COMPLETE
    assert (order.filled_quantity, order.average_price) == (2, request.price)
    [trade] = [t for t in await driver.broker.trades() if t.order_id == order_id]
    assert (trade.key, trade.side, trade.quantity) == (driver.equity, Side.BUY, 2)
    assert (trade.price, trade.product) == (request.price, Product.CNC)
    [position] = [p for p in await driver.broker.positions() if p.key == driver.equity]
    assert (position.product, position.quantity) == (Product.CNC, 2)
    assert position.average_price == request.price


# --------------------------------------------------------------------------- errors


async def test_rejected_with_the_brokers_reason(driver: BrokerDriver) -> None:
    expect = await armed(driver, Failure.REJECTED)
    option = await instrument(driver, driver.option)
    request = OrderRequest(
        option,
        Side.BUY,
        option.lot_size + 1,
        OrderType.LIMIT,
        await ltp(driver, option),
        Product.NRML,
        "CTREJECTED",
    )
    with pytest.raises(InvalidQuantity) as caught:  # a BrokerRejected: nothing happened
        await driver.broker.place_order(request)
    carries(caught.value, expect)
    assert await tagged(driver, "CTREJECTED") == []


async def test_throttled(driver: BrokerDriver) -> None:
    expect = await armed(driver, Failure.THROTTLED)
    request = await resting_buy(driver, "CTTHROTTLED")
    with pytest.raises(Throttled) as caught:
        await driver.broker.place_order(request)
    carries(caught.value, expect)
    assert caught.value.retry_after == expect.retry_after
    assert await tagged(driver, "CTTHROTTLED") == []  # nothing was executed
    assert await driver.broker.place_order(request)  # it passes once the wait is over


async def test_place_timeout_is_an_unknown_outcome(driver: BrokerDriver) -> None:
    expect = await armed(driver, Failure.PLACE_TIMEOUT)
    with pytest.raises(UnknownOutcome) as caught:
        await driver.broker.place_order(await resting_buy(driver, "CTTIMEOUT"))
    carries(caught.value, expect)
    # The order did reach the broker, once: it is found by our tag, and never re-sent.
    [order] = await tagged(driver, "CTTIMEOUT")
    assert order.key == driver.equity


async def test_ip_not_whitelisted(driver: BrokerDriver) -> None:
    expect = await armed(driver, Failure.IP_NOT_WHITELISTED)
    with pytest.raises(IPNotWhitelisted) as caught:
        await driver.broker.place_order(await resting_buy(driver, "CTIP"))
    carries(caught.value, expect)
    assert await tagged(driver, "CTIP") == []  # reads still work; nothing was placed


async def test_session_ip_mismatch(driver: BrokerDriver) -> None:
    expect = await armed(driver, Failure.SESSION_IP_MISMATCH)
    request = await resting_buy(driver, "CTSESSIONIP")
    with pytest.raises(SessionIPMismatch) as caught:
        await driver.broker.place_order(request)
    carries(caught.value, expect)
    assert await tagged(driver, "CTSESSIONIP") == []
    await driver.login()  # a session made from this IP, then the order goes through
    order_id = await driver.broker.place_order(request)
    assert [o.order_id for o in await tagged(driver, "CTSESSIONIP")] == [order_id]


async def test_session_expired(driver: BrokerDriver) -> None:
    expect = await armed(driver, Failure.SESSION_EXPIRED)
    with pytest.raises(SessionExpired) as caught:
        await driver.broker.orders()
    carries(caught.value, expect)
    await driver.login()
    assert await driver.broker.orders() == []
