"""KotakBroker against the Kotak simulator over real loopback HTTP: every call, headers per kind.

What is asserted comes from `shared/reference/kotak-neo.md`: §2.4 (which credential goes in which
header), §3-§4 (jData with every value a string, `ig` tag), §5-§7 (books, 5203, quotes).
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from brokers.errors import (
    BrokerRejected,
    InstrumentNotFound,
    OrderNotFound,
    OrderNotModifiable,
    SessionExpired,
)
from brokers.kotak import KotakBroker
from brokers.models import (
    Instrument,
    InstrumentKind,
    ModifyRequest,
    OrderRequest,
    OrderStatus,
    OrderType,
    Product,
    Side,
    Validity,
)
from tests.fakes.kotak_sim import SIM_TOTP, KotakSimulator, kotak_config

TOTP = SIM_TOTP


@pytest.fixture
async def live(broker: KotakBroker) -> KotakBroker:
    await broker.login(TOTP)
    return broker


def limit(inst: Instrument, qty: int, price: str, tag: str, side: Side = Side.BUY) -> OrderRequest:
    return OrderRequest(
        instrument=inst,
        side=side,
        quantity=qty,
        order_type=OrderType.LIMIT,
        price=Decimal(price),
        product=Product.CNC if inst.kind is InstrumentKind.EQUITY else Product.NRML,
        tag=tag,
    )


# --------------------------------------------------------------------------- login


async def test_login_sends_totp_then_mpin_with_the_right_headers(
    sim: KotakSimulator, broker: KotakBroker
) -> None:
    info = await broker.login(TOTP)
    assert info.account == sim.ucc
    assert broker.session_created_at == info.created_at
    assert broker.last_server_date is not None

    login, validate = sim.calls_of("login"), sim.calls_of("validate")
    assert len(login) == 1 and len(validate) == 1
    h = login[0].headers
    assert h["authorization"] == sim.access_token  # bare, no "Bearer" (ref §2)
    assert h["neo-fin-key"] == "neotradeapi"
    assert "auth" not in h and "sid" not in h
    assert h["content-type"] == "application/json"
    assert login[0].json == {"mobileNumber": "+919876543210", "ucc": sim.ucc, "totp": TOTP}

    h = validate[0].headers
    assert h["authorization"] == sim.access_token
    assert h["neo-fin-key"] == "neotradeapi"
    assert h["auth"].startswith("view-")  # the view pair from step 1, never the trade pair
    assert h["sid"]
    assert validate[0].json == {"mpin": sim.mpin}


async def test_totp_keeps_leading_zeros(sim: KotakSimulator, broker: KotakBroker) -> None:
    sim.expected_totp = "012345"
    await broker.login("012345")
    assert sim.calls_of("login")[0].json["totp"] == "012345"


async def test_expected_totp_may_be_a_callable(sim: KotakSimulator, broker: KotakBroker) -> None:
    sim.expected_totp = lambda code: code in ("111111", "222222")
    await broker.login("222222")


async def test_market_data_works_before_login_on_the_login_host(
    sim: KotakSimulator, broker: KotakBroker
) -> None:
    sbin = await broker.resolve("NSE:SBIN")
    quotes = await broker.quotes([sbin])
    assert quotes["NSE:SBIN"].ltp == Decimal("812.35")
    assert all("auth" not in c.headers for c in sim.calls_of("quotes"))


async def test_reads_before_login_are_refused_without_a_request(
    sim: KotakSimulator, broker: KotakBroker
) -> None:
    with pytest.raises(SessionExpired):
        await broker.orders()
    assert sim.calls == []


# --------------------------------------------------------------------------- headers per kind


async def test_headers_per_call_kind(sim: KotakSimulator, live: KotakBroker) -> None:
    """ref §2.4: orders = Authorization + Auth + Sid; reports = Auth + Sid only; market data =
    Authorization only; the CDN gets nothing; neo-fin-key only on the two login calls."""
    sbin = await live.resolve("NSE:SBIN")
    order_id = await live.place_order(limit(sbin, 1, "800", "hdr-1"))
    await live.modify_order(
        ModifyRequest(order_id, sbin, Side.BUY, 2, OrderType.LIMIT, Decimal("801"), Product.CNC)
    )
    await live.cancel_order(order_id)
    await live.orders()
    await live.order(order_id)
    await live.order_history(order_id)
    await live.trades()
    await live.positions()
    await live.holdings()
    await live.funds()
    await live.quotes([sbin])
    assert await live.client_ip() == sim.egress_ip

    session = sim._sessions[sim.calls_of("place")[0].headers["auth"]]
    seen: set[str] = set()
    for call in sim.calls:
        h = call.headers
        seen.add(call.kind)
        if call.kind not in ("login", "validate"):
            assert "neo-fin-key" not in h, call.kind
        if call.kind in ("place", "modify", "cancel"):
            assert h["authorization"] == sim.access_token
            assert (h["auth"], h["sid"]) == (session.token, session.sid)
            assert h["content-type"] == "application/x-www-form-urlencoded"
        elif call.kind in (
            "orders",
            "order",
            "history",
            "trades",
            "positions",
            "holdings",
            "limits",
        ):
            assert "authorization" not in h, call.kind
            assert (h["auth"], h["sid"]) == (session.token, session.sid)
        elif call.kind in ("quotes", "file-paths"):
            assert h["authorization"] == sim.access_token
            assert "auth" not in h and "sid" not in h
        elif call.kind == "csv":
            assert not {"authorization", "auth", "sid"} & set(h), "no credentials to the CDN"
        elif call.kind == "client-ip":
            assert h["authorization"] == sim.access_token
            assert (h["auth"], h["sid"]) == (session.token, session.sid)
    assert {
        "place",
        "modify",
        "cancel",
        "orders",
        "order",
        "history",
        "trades",
        "positions",
        "holdings",
        "limits",
        "quotes",
        "file-paths",
        "csv",
        "client-ip",
    } <= seen
    assert all(not c.query for c in sim.calls if c.kind != "csv"), "no sId query (ref §2.2)"


# --------------------------------------------------------------------------- orders


async def test_place_sends_string_jdata_with_our_tag(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    """The book side (our tag back from `GuiOrdId`, the mapped fields) is in tests/contract."""
    sbin = await live.resolve("NSE:SBIN")
    order_id = await live.place_order(limit(sbin, 10, "812.50", "bot-000123"))
    assert len(order_id) == 15 and order_id.isdigit()

    place = sim.calls_of("place")[0]
    assert place.jdata == {
        "am": "NO", "dq": "0", "es": "nse_cm", "mp": "0", "pc": "CNC", "pr": "812.5",
        "pt": "L", "qt": "10", "rt": "DAY", "tp": "0", "ts": "SBIN-EQ", "tt": "B",
        "ig": "bot-000123", "os": "NEOTRADEAPI",
    }  # fmt: skip
    assert all(isinstance(v, str) for v in place.jdata.values())


async def test_fills_partial_then_complete(sim: KotakSimulator, live: KotakBroker) -> None:
    sbin = await live.resolve("NSE:SBIN")
    order_id = await live.place_order(limit(sbin, 10, "812.35", "fill-1"))
    sim.fill(order_id, 4)
    [order] = await live.orders()
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_quantity == 4

    sim.fill(order_id, price="812.30")
    order = await live.order(order_id)
    assert order.status is OrderStatus.COMPLETE
    assert order.filled_quantity == 10
    assert order.average_price == Decimal("812.32")

    trades = await live.trades()
    assert [t.quantity for t in trades] == [4, 6]
    assert {t.key for t in trades} == {"NSE:SBIN"}  # found by trdSym: tok is empty (ref §5)
    assert all(t.order_id == order_id for t in trades)

    [position] = await live.positions()
    assert position.key == "NSE:SBIN"
    assert position.quantity == 10
    assert position.average_price == Decimal("812.32")
    assert position.ltp == Decimal("812.35")

    history = await live.order_history(order_id)
    assert history[0].status is OrderStatus.COMPLETE  # newest first
    assert history[-1].status is OrderStatus.PENDING  # "put order req received"


async def test_sl_and_market_encoding(sim: KotakSimulator, live: KotakBroker) -> None:
    sbin = await live.resolve("NSE:SBIN")
    await live.place_order(
        OrderRequest(
            sbin,
            Side.SELL,
            1,
            OrderType.SL,
            Decimal("800.00"),
            Product.MIS,
            "sl-1",
            trigger_price=Decimal("801.05"),
            validity=Validity.IOC,
        )
    )
    await live.place_order(
        OrderRequest(sbin, Side.BUY, 1, OrderType.MARKET, Decimal("0"), Product.MIS, "mkt-1")
    )
    sl, mkt = (c.jdata for c in sim.calls_of("place"))
    assert sl is not None and mkt is not None
    assert (sl["pt"], sl["pr"], sl["tp"], sl["tt"], sl["rt"], sl["pc"]) == (
        "SL",
        "800",
        "801.05",
        "S",
        "IOC",
        "MIS",
    )
    assert (mkt["pt"], mkt["pr"], mkt["tp"]) == ("MKT", "0", "0")
    orders = {o.tag: o for o in await live.orders()}
    assert orders["sl-1"].status is OrderStatus.TRIGGER_PENDING
    assert orders["sl-1"].trigger_price == Decimal("801.05")
    # Kotak turns MKT into a protected limit: the book shows a Limit (ref §11).
    assert orders["mkt-1"].order_type is OrderType.LIMIT
    assert orders["mkt-1"].price > Decimal("812.35")


async def test_sl_m_and_index_orders_are_refused_before_sending(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    sbin = await live.resolve("NSE:SBIN")
    with pytest.raises(BrokerRejected, match="SL-M"):
        await live.place_order(
            OrderRequest(
                sbin,
                Side.BUY,
                1,
                OrderType.SL_M,
                Decimal(0),
                Product.MIS,
                "slm",
                trigger_price=Decimal("815"),
            )
        )
    nifty = await live.resolve("NSE_INDEX:NIFTY")
    with pytest.raises(InstrumentNotFound):
        await live.place_order(limit(nifty, 1, "24000", "idx"))
    assert sim.calls_of("place") == []


async def test_fo_quantity_goes_out_in_units(sim: KotakSimulator, live: KotakBroker) -> None:
    """A quantity off the lot size (1009, verbatim) is a contract case (tests/contract)."""
    fut = next(
        i
        for i in await live.instruments()
        if i.underlying == "NIFTY" and i.kind is InstrumentKind.PUT and i.strike == 24000
    )
    assert fut.lot_size == 65
    await live.place_order(limit(fut, 130, "120.05", "lot-ok"))
    sent = sim.calls_of("place")[-1].jdata
    assert sent is not None and sent["qt"] == "130"  # units, not lots (ref §10.3)


async def test_off_tick_price_and_broker_rejection_reach_the_book(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    sbin = await live.resolve("NSE:SBIN")
    await live.place_order(limit(sbin, 1, "812.33", "tick-bad"))
    ok = await live.place_order(limit(sbin, 1, "812.30", "rms"))
    sim.reject(ok, "RMS:Margin Exceeds,Required:812.30, Available:0.00")
    orders = {o.tag: o for o in await live.orders()}
    assert orders["tick-bad"].status is OrderStatus.REJECTED
    assert "tick" in orders["tick-bad"].message
    assert orders["rms"].status is OrderStatus.REJECTED
    assert orders["rms"].message == "RMS:Margin Exceeds,Required:812.30, Available:0.00"


async def test_modify_and_cancel(sim: KotakSimulator, live: KotakBroker) -> None:
    sbin = await live.resolve("NSE:SBIN")
    order_id = await live.place_order(limit(sbin, 5, "800", "mod-1"))
    assert order_id == await live.modify_order(
        ModifyRequest(order_id, sbin, Side.BUY, 3, OrderType.LIMIT, Decimal("801.10"), Product.CNC)
    )
    assert sim.calls_of("modify")[0].jdata == {
        "mp": "0", "dq": "0", "vd": "DAY", "pr": "801.1", "pt": "L", "am": "NO", "tp": "0",
        "qt": "3", "no": order_id, "os": "NEOTRADEAPI",
    }  # fmt: skip
    order = await live.order(order_id)
    assert (order.quantity, order.price) == (3, Decimal("801.10"))

    assert await live.cancel_order(order_id) == order_id
    assert sim.calls_of("cancel")[0].jdata == {"on": order_id, "am": "NO"}
    assert (await live.order(order_id)).status is OrderStatus.CANCELLED

    with pytest.raises(OrderNotModifiable) as caught:  # stCode 1021 with text in `stat`
        await live.cancel_order(order_id)
    assert caught.value.code == "1021"
    with pytest.raises(OrderNotModifiable):
        await live.modify_order(
            ModifyRequest(order_id, sbin, Side.BUY, 3, OrderType.LIMIT, Decimal("801"), Product.CNC)
        )


async def test_unknown_single_order_is_order_not_found(live: KotakBroker) -> None:
    """5203 on a one-order report; on the books it is an empty list (tests/contract)."""
    with pytest.raises(OrderNotFound):
        await live.order("261123000999999")
    with pytest.raises(OrderNotFound):
        await live.order_history("261123000999999")


async def test_holdings_and_funds(live: KotakBroker) -> None:
    [holding] = await live.holdings()
    assert holding.key == "NSE:SBIN"
    assert (holding.quantity, holding.average_price) == (10, Decimal("700.5"))
    funds = await live.funds()
    # CollateralValue + RmsPayInAmt - RmsPayOutAmt + Collateral (ref §6.3, [OA])
    assert funds.available == Decimal("106500.00")
    assert funds.used_margin == Decimal("12500.50")
    assert funds.extra["Net"] == Decimal("94000.00")


async def test_client_ip_and_server_date(sim: KotakSimulator, live: KotakBroker) -> None:
    sim.egress_ip = "203.0.113.11"
    sim.clock_skew = timedelta(seconds=90)
    assert await live.client_ip() == "203.0.113.11"
    assert sim.calls_of("client-ip")[0].path == "/login/1.0/get-client-ip"
    assert live.last_server_date is not None
    await live.orders()
    skew = live.last_server_date - datetime.now(live.last_server_date.tzinfo)
    assert timedelta(seconds=80) < skew < timedelta(seconds=100)


# --------------------------------------------------------------------------- quotes


async def test_quotes_batch_at_50_and_normalise_missing_ltp(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    everything = await live.instruments()
    stocks = [i for i in everything if i.exchange == "NSE"][:118]
    nifty = await live.resolve("NSE_INDEX:NIFTY")
    untraded = await live.resolve(sim.untraded_key)
    missing = await live.resolve(sim.missing_key)
    sim.set_ltp("NSE:SBIN", "813.05")

    quotes = await live.quotes([*stocks, nifty, untraded, missing])

    calls = sim.calls_of("quotes")
    sizes = [len(c.path.rsplit("/", 2)[1].split(",")) for c in calls]
    assert sizes == [50, 50, 21]
    assert all(c.path.endswith("/all") for c in calls)
    assert "nse_cm|Nifty%2050" in calls[-1].raw_path  # index by name; `|` literal (ref §7.1)
    assert "%7C" not in calls[0].raw_path and "%2C" not in calls[0].raw_path

    sbin = quotes["NSE:SBIN"]
    assert sbin.ltp == Decimal("813.05")
    assert sbin.bid == Decimal("813.00") and sbin.ask == Decimal("813.10")
    assert sbin.upper_circuit is not None and sbin.lower_circuit is not None
    assert sbin.lower_circuit < sbin.ltp < sbin.upper_circuit
    assert quotes["NSE_INDEX:NIFTY"].ltp == Decimal("24012.55")
    assert quotes[sim.untraded_key].ltp is None  # "0" is "not traded", never a price
    assert quotes[sim.untraded_key].bid is None
    assert sim.missing_key not in quotes  # left out of the reply: absent (Broker.quotes)
    assert len(quotes) == 120


async def test_quotes_for_unknown_instrument(live: KotakBroker) -> None:
    bogus = Instrument(
        "NSE",
        "NOPE",
        "NOPE",
        InstrumentKind.EQUITY,
        Decimal("0.05"),
        broker_ref="nse_cm|999999|NOPE-EQ",
    )
    with pytest.raises(InstrumentNotFound):  # stCode 1009 on quotes (ref §7.1)
        await live.quotes([bogus])


# --------------------------------------------------------------------------- instruments


async def test_instruments_download_parse_and_map(sim: KotakSimulator, live: KotakBroker) -> None:
    instruments = await live.instruments()
    keys = {i.key for i in instruments}
    assert {
        "NSE:SBIN",
        "NSE:RELIANCE",
        "NSE:INFY",
        "NSE:M&M",
        "NSE:BAJAJ-AUTO",
        "NSE:ZEEL-BE",
        "NSE_INDEX:NIFTY",
        "NSE_INDEX:BANKNIFTY",
    } <= keys
    assert sum(i.exchange == "NSE" for i in instruments) == sim.master_rows["nse_cm"] - 2
    assert sum(i.exchange == "NFO" for i in instruments) == sim.master_rows["nse_fo"]

    month = sim.expiries["month1"]
    stamp = f"{month:%d}{month:%b}{month:%y}".upper()
    fut = await live.resolve(f"NFO:BANKNIFTY{stamp}FUT")
    assert fut.kind is InstrumentKind.FUTURE and fut.lot_size == 30
    assert fut.tick_size == Decimal("0.2") and fut.expiry == month
    week = sim.expiries["week"]
    wstamp = f"{week:%d}{week:%b}{week:%y}".upper()
    opt = await live.resolve(f"NFO:NIFTY{wstamp}24050CE")
    assert opt.strike == Decimal(24050) and opt.tick_size == Decimal("0.05")
    assert opt.broker_ref.split("|")[2] == (
        f"NIFTY{week:%y}{'123456789OND'[week.month - 1]}{week:%d}24050CE"
    )
    assert opt.freeze_qty == 1800

    downloaded = {c.path.rsplit("/", 1)[-1] for c in sim.calls_of("csv")}
    assert downloaded == {"nse_cm-v1.csv", "nse_fo.csv", "bse_cm-v1.csv", "bse_fo.csv"}

    with pytest.raises(InstrumentNotFound, match="closest"):
        await live.resolve("NSE:SBINN")


async def test_master_is_cached_on_disk_for_the_day_and_refreshed_next_day(
    sim: KotakSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = KotakBroker(kotak_config(sim, cache))
    await first.instruments()
    await first.close()
    assert len(sim.calls_of("file-paths")) == 1
    assert (cache / sim.today.isoformat() / "manifest.json").is_file()

    second = KotakBroker(kotak_config(sim, cache))
    assert len(await second.instruments()) == len(await second.instruments())
    assert len(sim.calls_of("file-paths")) == 1  # served from disk
    assert len(sim.calls_of("csv")) == 4

    tomorrow = sim.today + timedelta(days=1)
    sim.today = tomorrow
    monkeypatch.setattr("brokers.kotak.client.today_ist", lambda: tomorrow)
    await second.instruments()
    await second.close()
    assert len(sim.calls_of("file-paths")) == 2
    assert sorted(p.name for p in cache.iterdir()) == [tomorrow.isoformat()]  # old day pruned


async def test_book_rows_map_to_keys_of_fo_contracts(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    opt = await live.resolve(sim.untraded_key)
    order_id = await live.place_order(limit(opt, 65, "1.00", "fo-1", side=Side.SELL))
    sim.fill(order_id, price="1.05")
    [order] = await live.orders()
    [trade] = await live.trades()
    [position] = await live.positions()
    assert order.key == trade.key == position.key == sim.untraded_key
    assert position.quantity == -65
    assert json.loads(json.dumps(sim.calls_of("place")[0].jdata))["es"] == "nse_fo"


async def test_an_amo_goes_with_am_yes_and_so_do_its_modify_and_cancel(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    """ref §4.1–4.3: `am` is "YES" on an after-market order and on every later call for it."""
    sbin = await live.resolve("NSE:SBIN")
    amo = OrderRequest(
        instrument=sbin,
        side=Side.BUY,
        quantity=5,
        order_type=OrderType.LIMIT,
        price=Decimal("800"),
        product=Product.CNC,
        tag="amo-1",
        amo=True,
    )
    order_id = await live.place_order(amo)
    assert sim.calls_of("place")[0].jdata["am"] == "YES"
    await live.modify_order(
        ModifyRequest(order_id, sbin, Side.BUY, 3, OrderType.LIMIT, Decimal("801"), Product.CNC)
    )
    assert sim.calls_of("modify")[0].jdata["am"] == "YES"
    await live.cancel_order(order_id)
    assert sim.calls_of("cancel")[0].jdata == {"on": order_id, "am": "YES"}
    window = live.amo_window("NSE")  # Kotak's own page: NSE AMOs until 08:57
    assert window is not None and (window.opens, window.closes) == (time(15, 45), time(8, 57))


async def test_an_amo_placed_before_a_restart_is_changed_with_am_yes_when_the_core_says_so(
    sim: KotakSimulator, live: KotakBroker, tmp_path: Path
) -> None:
    """A new adapter (the bot restarted) does not know the AMOs the last one placed: the core
    tells it (`ModifyRequest.amo`, `cancel_order(amo=True)`), from the order's own place."""
    sbin = await live.resolve("NSE:SBIN")
    order_id = await live.place_order(
        OrderRequest(
            sbin, Side.BUY, 5, OrderType.LIMIT, Decimal("800"), Product.CNC, "amo-2", amo=True
        )
    )
    restarted = KotakBroker(kotak_config(sim, tmp_path / "master"))
    try:
        await restarted.login(TOTP)
        await restarted.modify_order(
            ModifyRequest(
                order_id, sbin, Side.BUY, 3, OrderType.LIMIT, Decimal("801"), Product.CNC, amo=True
            )
        )
        assert sim.calls_of("modify")[-1].jdata["am"] == "YES"
        await restarted.cancel_order(order_id, amo=True)
        assert sim.calls_of("cancel")[-1].jdata == {"on": order_id, "am": "YES"}
    finally:
        await restarted.close()
