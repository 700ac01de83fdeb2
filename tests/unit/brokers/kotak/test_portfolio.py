"""KotakBroker positions (both paths) and margin check against the simulator over loopback.

What is asserted comes from `shared/reference/kotak-neo.md`: §6.1 (positions on
`/portfolio/v2/positions` for SDK 3.0.9 and `/quick/user/positions` for everyone else; 5203 is an
empty list), §6.4 (check-margin jData keys and the flat reply), §2.4 (reports carry Auth + Sid
only) and §8 (session errors).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from brokers.errors import BrokerUnavailable, InstrumentNotFound, SessionExpired
from brokers.kotak import KotakBroker
from brokers.kotak.mapping import margin_from_reply
from brokers.models import (
    Instrument,
    MarginCheck,
    OrderRequest,
    OrderType,
    Position,
    Product,
    Side,
)
from tests.fakes.kotak_sim import SIM_TOTP, KotakSimulator, kotak_config

V2 = "/portfolio/v2/positions"
QUICK = "/quick/user/positions"


@pytest.fixture
async def live(broker: KotakBroker) -> KotakBroker:
    await broker.login(SIM_TOTP)
    return broker


def buy(
    inst: Instrument,
    qty: int,
    price: str,
    tag: str,
    *,
    order_type: OrderType = OrderType.LIMIT,
    product: Product = Product.CNC,
    trigger: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        instrument=inst,
        side=Side.BUY,
        quantity=qty,
        order_type=order_type,
        price=Decimal(price),
        product=product,
        tag=tag,
        trigger_price=Decimal(trigger) if trigger else None,
    )


def paths(sim: KotakSimulator) -> list[str]:
    return [c.path for c in sim.calls if c.path in (V2, QUICK)]


async def _filled_sbin(sim: KotakSimulator, live: KotakBroker) -> None:
    sbin = await live.resolve("NSE:SBIN")
    order_id = await live.place_order(buy(sbin, 10, "812.35", "pos-1"))
    sim.fill(order_id, 4, price="812.30")
    sim.fill(order_id, price="812.35")


def _check_sbin(positions: list[Position]) -> None:
    [position] = positions
    assert position.key == "NSE:SBIN"
    assert position.product is Product.CNC
    assert position.quantity == 10
    assert position.average_price == Decimal("812.33")
    assert position.ltp == Decimal("812.35")


# --------------------------------------------------------------------------- positions (§6.1)


async def test_positions_via_v2(sim: KotakSimulator, live: KotakBroker) -> None:
    await _filled_sbin(sim, live)
    _check_sbin(await live.positions())
    _check_sbin(await live.positions())
    assert paths(sim) == [V2, V2]  # v2 works: no /quick call at all
    for call in sim.calls_of("positions"):
        assert "authorization" not in call.headers  # reports: Auth + Sid only (ref §2.4)
        assert call.headers["auth"] and call.headers["sid"]


@pytest.mark.parametrize("missing", [404, 405])
async def test_positions_fall_back_once_and_remember(
    sim: KotakSimulator, live: KotakBroker, tmp_path: Path, missing: int
) -> None:
    sim.positions_v2 = False
    sim.missing_path_status = missing
    await _filled_sbin(sim, live)

    first = await live.positions()
    second = await live.positions()
    _check_sbin(first)
    assert first == second
    assert paths(sim) == [V2, QUICK, QUICK]  # exactly one v2 probe across two calls

    # Same rows as the v2 path gives (a second adapter on a server that serves v2) ...
    sim.positions_v2 = True
    other = KotakBroker(kotak_config(sim, tmp_path / "other"))
    try:
        await other.login(SIM_TOTP)
        assert await other.positions() == first
    finally:
        await other.close()
    # ... and the first adapter keeps the path it found, without probing again.
    before = len(paths(sim))
    assert await live.positions() == first
    assert paths(sim)[before:] == [QUICK]


async def test_empty_positions_are_an_empty_list_on_both_paths(
    sim: KotakSimulator, live: KotakBroker, tmp_path: Path
) -> None:
    assert await live.positions() == []  # v2 answers 5203 "No Data" (ref §5)
    assert paths(sim) == [V2]

    sim.positions_v2 = False
    fallback = KotakBroker(kotak_config(sim, tmp_path / "fb"))
    try:
        await fallback.login(SIM_TOTP)
        assert await fallback.positions() == []  # /quick answers 5203 too
        assert await fallback.positions() == []
    finally:
        await fallback.close()
    assert paths(sim) == [V2, V2, QUICK, QUICK]


async def test_v2_errors_are_errors_not_a_missing_path(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    """Only 404/405 select the fallback. A 5xx or an expired session on v2 raises as usual, and
    nothing is remembered: the next call tries v2 again."""
    sim.fail_next(V2, "http500")
    with pytest.raises(BrokerUnavailable):
        await live.positions()
    sim.expire_sessions()
    with pytest.raises(SessionExpired):  # HTTP 403 on reports (ref §8)
        await live.positions()
    assert paths(sim) == [V2, V2]

    await live.login(SIM_TOTP)
    assert await live.positions() == []
    assert paths(sim) == [V2, V2, V2]


async def test_positions_before_login_send_nothing(
    sim: KotakSimulator, broker: KotakBroker
) -> None:
    with pytest.raises(SessionExpired):
        await broker.positions()
    assert paths(sim) == []


# --------------------------------------------------------------------------- check-margin (§6.4)


async def test_check_margin_sends_the_sdk_jdata(sim: KotakSimulator, live: KotakBroker) -> None:
    sbin = await live.resolve("NSE:SBIN")
    token = sim.instrument("NSE:SBIN").token
    await live.check_margin(buy(sbin, 10, "812.50", "m-1"))
    await live.check_margin(
        buy(
            sbin,
            3,
            "811.00",
            "m-2",
            order_type=OrderType.SL,
            trigger="810.5",
            product=Product.MIS,
        )
    )

    plain, stop = sim.calls_of("check-margin")
    assert plain.method == "POST" and plain.path == "/quick/user/check-margin"
    bracket = dict.fromkeys(
        ("slAbsOrTks", "slVal", "sqrOffAbsOrTks", "sqrOffVal", "trailSL", "tSLTks")
    )
    assert plain.jdata == {
        "exSeg": "nse_cm", "prc": "812.5", "prcTp": "L", "prod": "CNC", "qty": "10",
        "tok": token, "trnsTp": "B", "trgPrc": None, "brkName": "KOTAK", "brnchId": "ONLINE",
        **bracket,
    }  # fmt: skip
    assert list(plain.jdata)[:10] == [
        "exSeg", "prc", "prcTp", "prod", "qty", "tok", "trnsTp", "trgPrc", "brkName", "brnchId",
    ]  # fmt: skip  # the SDK's order (ref §6.4 table)
    assert stop.jdata is not None
    assert (stop.jdata["prcTp"], stop.jdata["prc"], stop.jdata["trgPrc"]) == ("SL", "811", "810.5")
    assert (stop.jdata["prod"], stop.jdata["qty"]) == ("MIS", "3")
    for call in (plain, stop):
        assert call.jdata is not None
        assert all(v is None or isinstance(v, str) for v in call.jdata.values())
        h = call.headers
        assert "authorization" not in h and "neo-fin-key" not in h  # ref §2.4
        assert h["auth"] and h["sid"]
        assert h["content-type"] == "application/x-www-form-urlencoded"


async def test_check_margin_sufficient(sim: KotakSimulator, live: KotakBroker) -> None:
    sbin = await live.resolve("NSE:SBIN")
    result = await live.check_margin(buy(sbin, 10, "812.50", "m-ok"))
    # sim: CNC needs the full value; available = 106500.00 (funds) - 12500.50 (MarginUsed)
    assert result == MarginCheck(
        required=Decimal("8125.000000"), available=Decimal("93999.500000"), ok=True
    )
    mis = await live.check_margin(buy(sbin, 10, "812.50", "m-mis", product=Product.MIS))
    assert mis.required == Decimal("1625") and mis.ok


async def test_check_margin_insufficient(sim: KotakSimulator, live: KotakBroker) -> None:
    sbin = await live.resolve("NSE:SBIN")
    result = await live.check_margin(buy(sbin, 200, "812.50", "m-short"))
    assert result.required == Decimal("162500")
    assert result.available == Decimal("93999.5")
    assert result.ok is False

    sim.limits["CollateralValue"] = "500000.00"  # more money: the same order now fits
    assert (await live.check_margin(buy(sbin, 200, "812.50", "m-fits"))).ok


async def test_check_margin_with_expired_session(sim: KotakSimulator, live: KotakBroker) -> None:
    sbin = await live.resolve("NSE:SBIN")
    sim.expire_sessions()
    with pytest.raises(SessionExpired) as caught:  # stCode 100022 at HTTP 200 (ref §6.4, §8)
        await live.check_margin(buy(sbin, 1, "812.50", "m-exp"))
    assert caught.value.code == "100022"
    assert len(sim.calls_of("check-margin")) == 1


async def test_check_margin_refuses_an_index_before_sending(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    nifty = await live.resolve("NSE_INDEX:NIFTY")
    with pytest.raises(InstrumentNotFound):
        await live.check_margin(buy(nifty, 1, "24000", "m-idx"))
    assert sim.calls_of("check-margin") == []


def test_margin_reply_samples() -> None:
    """ref §6.4 sample (fits: reqdMrgn/avlMrgn zero, figures in ordMrgn/avlCash) and an older
    neo_api_client doc sample of a shortfall (rmsVldtd is the number 78)."""
    fits = margin_from_reply(
        {"avlCash": "38.190000", "totMrgnUsd": "34.280000", "mrgnUsd": "18.780000",
         "ordMrgn": "15.500000", "rmsVldtd": "OK", "reqdMrgn": "0.000000",
         "avlMrgn": "0.000000", "insufFund": "0.000000", "stat": "Ok", "stCode": 200}
    )  # fmt: skip
    assert fits == MarginCheck(Decimal("15.5"), Decimal("38.19"), True)
    short = margin_from_reply(
        {"avlCash": "104.96", "insufFund": "12520.04", "stat": "Ok", "totMrgnUsd": "12625.00",
         "mrgnUsd": "0.00", "reqdMrgn": "12625.00", "avlMrgn": "104.96", "stCode": 200,
         "ordMrgn": "12625.00", "rmsVldtd": 78}
    )  # fmt: skip
    assert short == MarginCheck(Decimal("12625"), Decimal("104.96"), False)
    # Both conditions must hold: an "OK" with a shortfall, or no verdict at all, is not ok.
    assert not margin_from_reply({"rmsVldtd": "OK", "insufFund": "1.00", "ordMrgn": "5"}).ok
    assert not margin_from_reply({"insufFund": "0", "ordMrgn": "5"}).ok
    assert margin_from_reply({"rmsVldtd": "ok", "insufFund": "0"}).ok
