"""The mStock adapter against its simulator: every call, our tag, and each failure mode."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from brokers.errors import (
    BrokerRejected,
    BrokerUnavailable,
    DuplicateTag,
    IPNotWhitelisted,
    OutcomeCause,
    Throttled,
    UnknownOutcome,
)
from brokers.models import (
    ModifyRequest,
    OrderRequest,
    OrderStatus,
    OrderType,
    Product,
    Side,
)
from brokers.mstock import MStockBroker
from tests.fakes.mstock_sim import IP_REFUSAL, MStockSimulator


async def buy(broker: MStockBroker, tag: str, **changes: object) -> OrderRequest:
    values: dict[str, object] = {
        "instrument": await broker.resolve("NSE:SBIN"),
        "side": Side.BUY,
        "quantity": 2,
        "order_type": OrderType.LIMIT,
        "price": Decimal("800"),
        "product": Product.CNC,
        "tag": tag,
    }
    values.update(changes)
    return OrderRequest(**values)  # type: ignore[arg-type]


async def test_place_sends_strings_and_our_tag(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    order_id = await mbroker.place_order(await buy(mbroker, "TB1"))
    [call] = msim.calls_of("place")
    assert list(call.json) == [
        "variety", "tradingsymbol", "symboltoken", "exchange", "transactiontype", "ordertype",
        "quantity", "producttype", "price", "triggerprice", "squareoff", "stoploss",
        "trailingStopLoss", "disclosedquantity", "duration", "ordertag",
    ]  # fmt: skip
    assert all(isinstance(v, str) for v in call.json.values())
    assert (call.json["price"], call.json["triggerprice"], call.json["ordertag"]) == (
        "800",
        "0",
        "TB1",
    )
    [order] = await mbroker.orders()
    assert (order.order_id, order.tag, order.status) == (order_id, "TB1", OrderStatus.OPEN)
    assert msim.calls_of("details") == []  # our own order: its tag is remembered


async def test_an_order_unknown_to_the_adapter_gets_its_tag_from_details(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    msim.fail_next("place", "timeout")
    with pytest.raises(UnknownOutcome) as caught:
        await mbroker.place_order(await buy(mbroker, "TBLOST"))
    assert caught.value.cause is OutcomeCause.TIMEOUT
    [order] = await mbroker.orders()
    assert order.tag == "TBLOST"
    await mbroker.orders()
    assert len(msim.calls_of("details")) == 1  # asked once, then remembered
    with pytest.raises(DuplicateTag):  # that order exists: never a second one with this tag
        await mbroker.place_order(await buy(mbroker, "TBLOST"))
    assert len(msim.calls_of("place")) == 1


async def test_an_unchanged_book_row_is_mapped_once(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    """The tracker reads the book every few seconds: a row that has not changed is not mapped
    again (`brokers.wire.RowMemo`), a changed one is."""
    order_id = await mbroker.place_order(await buy(mbroker, "TBSAME"))
    [first] = await mbroker.orders()
    [again] = await mbroker.orders()
    assert again is first
    msim.fill(order_id)
    [filled] = await mbroker.orders()
    assert filled is not first and filled.status is OrderStatus.COMPLETE


async def test_a_tag_learnt_later_is_not_hidden_by_the_mapped_row(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    """The same book row read without our tag (order details failed) and then with it maps to
    two orders: the tag is part of what the memo keys on."""
    msim.fail_next("place", "timeout")
    with pytest.raises(UnknownOutcome):
        await mbroker.place_order(await buy(mbroker, "TBLATER"))
    msim.fail_next("details", "http500")
    [untagged] = await mbroker.orders()
    assert untagged.tag == ""
    [tagged] = await mbroker.orders()
    assert tagged.tag == "TBLATER"
    assert len(msim.calls_of("details")) == 2


async def test_a_tag_mstock_would_refuse_is_refused_before_sending(mbroker: MStockBroker) -> None:
    with pytest.raises(BrokerRejected, match="letters and digits"):
        await mbroker.place_order(await buy(mbroker, "TB-with-dash"))


async def test_a_refused_place_frees_its_tag(msim: MStockSimulator, mbroker: MStockBroker) -> None:
    msim.fail_next("place", "throttle")
    with pytest.raises(Throttled):
        await mbroker.place_order(await buy(mbroker, "TBAGAIN"))
    assert await mbroker.place_order(await buy(mbroker, "TBAGAIN"))


@pytest.mark.parametrize(
    ("mode", "cause"),
    [("http500", OutcomeCause.SERVER_ERROR), ("html", OutcomeCause.BAD_REPLY),
     ("malformed", OutcomeCause.BAD_REPLY)],
)  # fmt: skip
async def test_garbage_after_a_place_is_unknown(
    msim: MStockSimulator, mbroker: MStockBroker, mode: str, cause: OutcomeCause
) -> None:
    msim.fail_next("place", mode)
    with pytest.raises(UnknownOutcome) as caught:
        await mbroker.place_order(await buy(mbroker, "TBG"))
    assert caught.value.cause is cause


async def test_garbage_on_a_read_is_unavailable(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    for mode in ("http500", "html", "malformed"):
        msim.fail_next("orders", mode)
        with pytest.raises(BrokerUnavailable):
            await mbroker.orders()


async def test_modify_strips_the_leading_space_and_cancel_sends_the_variety(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    request = await buy(mbroker, "TBMOD")
    order_id = await mbroker.place_order(request)
    change = ModifyRequest(order_id, request.instrument, Side.BUY, 3, OrderType.LIMIT,
                           Decimal("799.5"), Product.CNC)  # fmt: skip
    assert await mbroker.modify_order(change) == order_id
    [put] = msim.calls_of("modify")
    assert put.path.endswith(f"/{order_id}") and put.json["orderid"] == order_id
    assert await mbroker.cancel_order(order_id) == order_id
    [delete] = msim.calls_of("cancel")
    assert delete.method == "DELETE" and delete.json == {"variety": "NORMAL", "orderid": order_id}


async def test_sl_goes_as_stoploss_and_a_fresh_adapter_finds_the_variety_in_the_book(
    msim: MStockSimulator, mbroker: MStockBroker, tmp_path: object
) -> None:
    request = await buy(mbroker, "TBSL", order_type=OrderType.SL, price=Decimal("830"),
                        trigger_price=Decimal("829"))  # fmt: skip
    order_id = await mbroker.place_order(request)
    sent = msim.calls_of("place")[0].json
    assert (sent["variety"], sent["ordertype"], sent["triggerprice"]) == (
        "STOPLOSS",
        "STOPLOSS_LIMIT",
        "829",
    )
    mbroker._varieties.clear()  # as after a restart
    await mbroker.cancel_order(order_id)
    assert msim.calls_of("cancel")[0].json["variety"] == "STOPLOSS"


async def test_the_ip_refusal_on_a_quote_is_the_ip_error(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    sbin = await mbroker.resolve("NSE:SBIN")
    msim.ip_checked.add("quote")
    msim.egress_ip = "198.51.100.7"
    with pytest.raises(IPNotWhitelisted) as caught:
        await mbroker.quotes([sbin])
    assert caught.value.message == IP_REFUSAL
    assert await mbroker.orders() == []  # reads the simulator does not check still work


async def test_quotes_batched_by_exchange_and_untraded_is_none(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    keys = ["NSE:SBIN", "BSE:SBIN", msim.untraded_key, msim.unfetched_key]
    quotes = await mbroker.quotes([await mbroker.resolve(k) for k in keys])
    assert quotes["NSE:SBIN"].ltp == Decimal("812.35") and quotes["BSE:SBIN"].ltp == Decimal(
        "812.4"
    )
    assert quotes["NSE:SBIN"].at is not None
    assert quotes[msim.untraded_key].ltp is None
    assert msim.unfetched_key not in quotes
    [call] = msim.calls_of("quote")
    assert call.method == "POST" and call.json["mode"] == "OHLC"
    assert set(call.json["exchangeTokens"]) == {"NSE", "BSE", "NFO"}
    assert mbroker.quote_batch_limit == 500


async def test_a_server_without_post_quotes_is_asked_with_a_get_body(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    msim.quote_methods = {"GET"}
    sbin = await mbroker.resolve("NSE:SBIN")
    assert (await mbroker.quotes([sbin]))["NSE:SBIN"].ltp == Decimal("812.35")
    await mbroker.quotes([sbin])
    assert [c.method for c in msim.calls_of("quote")] == ["POST", "GET", "GET"]
    assert msim.calls_of("quote")[-1].json["exchangeTokens"] == {"NSE": ["3045"]}


async def test_books_funds_margin(msim: MStockSimulator, mbroker: MStockBroker) -> None:
    option = await mbroker.resolve(next(k for k in msim.instruments if k.endswith("24000CE")))
    request = OrderRequest(
        option, Side.BUY, 65, OrderType.LIMIT, Decimal("100"), Product.NRML, "TBOPT"
    )
    order_id = await mbroker.place_order(request)
    msim.fill(order_id)
    [trade] = await mbroker.trades()
    assert (trade.key, trade.quantity, trade.price, trade.product) == (
        option.key,
        65,
        Decimal("100"),
        Product.NRML,
    )
    [position] = await mbroker.positions()
    assert (position.key, position.quantity) == (option.key, 65)  # the book says NSE, we say NFO
    [holding] = await mbroker.holdings()
    assert (holding.key, holding.quantity) == ("NSE:SBIN", 10)
    funds = await mbroker.funds()
    assert (funds.available, funds.used_margin) == (Decimal("100000.00"), Decimal("12500.50"))
    check = await mbroker.check_margin(request)
    assert (check.required, check.ok) == (Decimal("6500"), True)
    body = msim.calls_of("margin")[0].json["orders"][0]
    assert body["exchange"] == "NFO" and body["symbol_name"] == "NIFTY" and body["price"] == "100"


async def test_an_amo_goes_as_variety_amo_and_is_cancelled_with_it(
    msim: MStockSimulator, mbroker: MStockBroker
) -> None:
    """ref §4.1: AMO is a variety; cancel repeats the order's own variety (the simulator
    refuses another one with "Invalid variety")."""
    order_id = await mbroker.place_order(await buy(mbroker, "TBAMO", amo=True))
    assert msim.calls_of("place")[0].json["variety"] == "AMO"
    assert await mbroker.cancel_order(order_id) == order_id
    assert msim.calls_of("cancel")[0].json == {"variety": "AMO", "orderid": order_id}
    assert mbroker.amo_window("NFO") is not None


async def test_an_amo_placed_before_a_restart_is_cancelled_with_its_variety_when_told(
    msim: MStockSimulator, mbroker: MStockBroker, tmp_path: Path
) -> None:
    """A new adapter knows no varieties; the core says the order is an AMO (from its place)."""
    from brokers.mstock import MStockBroker as Fresh
    from tests.fakes.mstock_sim import SIM_TOTP, mstock_config

    order_id = await mbroker.place_order(await buy(mbroker, "TBAMO2", amo=True))
    restarted = Fresh(mstock_config(msim, tmp_path / "master2"))
    try:
        await restarted.login(SIM_TOTP)
        assert await restarted.cancel_order(order_id, amo=True) == order_id
        assert msim.calls_of("cancel")[-1].json == {"variety": "AMO", "orderid": order_id}
    finally:
        await restarted.close()
