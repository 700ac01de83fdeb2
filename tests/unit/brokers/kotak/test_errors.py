"""Every wire failure lands on the most specific `brokers.errors` class, and no secret leaks.

Over loopback HTTP to the simulator for the broker's own error shapes (ref §8, §11); with
`httpx.MockTransport` only for transport failures a real socket cannot produce on demand.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from brokers.errors import (
    AuthError,
    BrokerError,
    BrokerRejected,
    BrokerUnavailable,
    DuplicateTag,
    InstrumentNotFound,
    InvalidQuantity,
    IPNotWhitelisted,
    OrderNotModifiable,
    OutcomeCause,
    SessionExpired,
    SessionIPMismatch,
    Throttled,
    UnknownOutcome,
)
from brokers.kotak import KotakBroker, KotakConfig, KotakTimeouts
from brokers.kotak.constants import CallKind
from brokers.kotak.replies import NO_DATA, classify, login_data, retry_after_seconds
from brokers.models import (
    Instrument,
    InstrumentKind,
    OrderRequest,
    OrderType,
    Product,
    Side,
)
from tests.fakes.kotak_sim import SIM_TOTP, KotakSimulator, kotak_config
from tests.words import class_names

TOTP = SIM_TOTP


@pytest.fixture
async def sim() -> AsyncIterator[KotakSimulator]:
    async with KotakSimulator(expected_totp=TOTP, hang_seconds=3.0) as s:
        yield s


def _short_timeouts() -> KotakTimeouts:
    short = httpx.Timeout(0.5, connect=2.0)
    return KotakTimeouts(login=short, orders=short, reports=short, market_data=short)


@pytest.fixture
async def live(sim: KotakSimulator, tmp_path: Path) -> AsyncIterator[KotakBroker]:
    b = KotakBroker(kotak_config(sim, tmp_path / "m", timeouts=_short_timeouts()))
    await b.login(TOTP)
    yield b
    await b.close()


SBIN = Instrument(
    "NSE", "SBIN", "SBI", InstrumentKind.EQUITY, Decimal("0.05"), broker_ref="nse_cm|3045|SBIN-EQ"
)


def order(tag: str, instrument: Instrument = SBIN) -> OrderRequest:
    return OrderRequest(instrument, Side.BUY, 1, OrderType.LIMIT, Decimal("800"), Product.CNC, tag)


# --------------------------------------------------------------------------- login


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"expected_totp": "000001"}, "Invalid TOTP"),
        ({"mpin": "999999"}, "Invalid MPIN"),
        ({"ucc": "OTHER1"}, "Invalid UCC"),
        ({"access_token": "another-key"}, "access token refused"),
    ],
)
async def test_bad_credentials_are_auth_errors(
    sim: KotakSimulator, tmp_path: Path, change: dict[str, str], needle: str
) -> None:
    broker = KotakBroker(kotak_config(sim, tmp_path))
    for name, value in change.items():
        setattr(sim, name, value)
    with pytest.raises(AuthError, match=needle):
        await broker.login(TOTP)
    with pytest.raises(SessionExpired):
        await broker.orders()  # no half-made session survives
    await broker.close()


async def test_bad_mobile_number_is_refused_without_a_request(
    sim: KotakSimulator, tmp_path: Path
) -> None:
    broker = KotakBroker(kotak_config(sim, tmp_path, mobile="12345"))
    with pytest.raises(AuthError, match="mobile"):
        await broker.login(TOTP)
    assert sim.calls == []
    with pytest.raises(AuthError):
        await broker.login("")
    await broker.close()


@pytest.mark.parametrize("mode", ["http500", "html", "malformed"])
async def test_login_garbage_is_unavailable(sim: KotakSimulator, tmp_path: Path, mode: str) -> None:
    broker = KotakBroker(kotak_config(sim, tmp_path))
    sim.fail_next("login", mode)
    with pytest.raises(BrokerUnavailable):
        await broker.login(TOTP)
    await broker.login(TOTP)  # next attempt is fine
    await broker.close()


# --------------------------------------------------------------------------- session and IP
# On a place, each of these is a contract case (tests/contract): an expired session read (403),
# 100008 and 1037 with their codes and texts, 429 with Retry-After, a place timeout found by tag.
# What stays here is Kotak's own wire: the other call kinds and envelopes that carry them.


async def test_expired_session_on_an_order_call_is_100022(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    sim.expire_sessions()
    with pytest.raises(SessionExpired) as on_place:  # 100022 with HTTP 200, not the 403 of reads
        await live.place_order(order("exp-1"))
    assert on_place.value.code == "100022"
    await live.login(TOTP)
    assert await live.place_order(order("exp-2"))


async def test_cancel_is_ip_checked_too(sim: KotakSimulator, live: KotakBroker) -> None:
    sim.egress_ip = "203.0.113.11"  # whitelisted, but the session was made from .10
    with pytest.raises(SessionIPMismatch) as caught:
        await live.cancel_order("261123000000001")
    assert caught.value.code == "1037"
    sim.egress_ip = "198.51.100.7"
    with pytest.raises(IPNotWhitelisted) as refused:
        await live.cancel_order("261123000000001")
    assert refused.value.code == "100008"


# --------------------------------------------------------------------------- failures


async def test_throttled_read_with_retry_after(sim: KotakSimulator, live: KotakBroker) -> None:
    sim.fail_next("orders", "throttle")
    with pytest.raises(Throttled) as caught:
        await live.orders()
    assert (caught.value.code, caught.value.retry_after) == ("429", 3.0)


async def test_throttled_master_download_carries_429(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    """The CDN's 429 goes through the same check as the API's, code and Retry-After included."""
    sim.fail_next("csv", "throttle")
    with pytest.raises(Throttled) as caught:
        await live.instruments()
    assert (caught.value.code, caught.value.retry_after) == ("429", 3.0)
    assert await live.instruments()  # the next load downloads again


@pytest.mark.parametrize("mode", ["http500", "html", "malformed"])
@pytest.mark.parametrize("kind", ["orders", "positions", "quotes", "limits"])
async def test_garbage_on_reads_is_unavailable(
    sim: KotakSimulator, live: KotakBroker, mode: str, kind: str
) -> None:
    sim.fail_next(kind, mode)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "orders": live.orders,
        "positions": live.positions,
        "limits": live.funds,
        "quotes": lambda: live.quotes([SBIN]),
    }
    call = calls[kind]
    with pytest.raises(BrokerUnavailable):
        await call()
    await call()  # one failure only


@pytest.mark.parametrize(
    ("mode", "cause"),
    [
        ("http500", OutcomeCause.SERVER_ERROR),
        ("html", OutcomeCause.BAD_REPLY),
        ("malformed", OutcomeCause.BAD_REPLY),
        ("timeout", OutcomeCause.TIMEOUT),
        ("odd_code", OutcomeCause.UNKNOWN_CODE),
    ],
)
async def test_garbage_after_place_is_an_unknown_outcome(
    sim: KotakSimulator, live: KotakBroker, mode: str, cause: OutcomeCause
) -> None:
    """ref §8 rule 3: a 5xx or an unreadable body after a place means the outcome is unknown, and
    so does a refusal with a code the adapter does not know; `cause` says which it was."""
    sim.fail_next("place", mode)
    with pytest.raises(UnknownOutcome) as caught:
        await live.place_order(order("garbage-1"))
    assert caught.value.cause is cause


@pytest.mark.parametrize("code", [32, 5204])
async def test_a_reused_tag_is_a_duplicate_not_a_rejection(
    sim: KotakSimulator, live: KotakBroker, code: int
) -> None:
    """ref §4.1: tags must be unique, even after the first order with the tag was cancelled."""
    sim.duplicate_tag_code = code
    first = await live.place_order(order("dup-1"))
    await live.cancel_order(first)
    with pytest.raises(DuplicateTag) as caught:
        await live.place_order(order("dup-1"))
    assert caught.value.code == str(code)
    assert "Client OrderID already exists" in caught.value.message
    assert not isinstance(caught.value, BrokerRejected)
    assert len(sim.orders) == 1


async def test_read_timeout_on_a_report_is_unavailable(
    sim: KotakSimulator, live: KotakBroker
) -> None:
    sim.fail_next("/quick/user/trades", "timeout")
    with pytest.raises(BrokerUnavailable):
        await live.trades()


async def test_cancel_timeout_is_unknown_outcome(sim: KotakSimulator, live: KotakBroker) -> None:
    order_id = await live.place_order(order("c-1"))
    sim.fail_next("cancel", "timeout")
    with pytest.raises(UnknownOutcome):
        await live.cancel_order(order_id)
    assert sim.orders[order_id].status == "cancelled"


async def test_other_rejections_are_verbatim(sim: KotakSimulator, live: KotakBroker) -> None:
    bogus = Instrument(
        "NSE",
        "NOPE",
        "NOPE",
        InstrumentKind.EQUITY,
        Decimal("0.05"),
        broker_ref="nse_cm|999999|NOPE-EQ",
    )
    with pytest.raises(BrokerRejected) as caught:
        await live.place_order(order("rej-1", bogus))
    assert type(caught.value) is BrokerRejected
    assert (caught.value.code, caught.value.message) == ("1007", "Invalid Symbol")


async def test_connection_refused_is_unavailable(tmp_path: Path) -> None:
    cfg = KotakConfig(
        mobile="9876543210",
        ucc="X",
        access_token="a",
        mpin="1",
        cache_dir=tmp_path,
        login_url="http://127.0.0.1:9",
    )
    broker = KotakBroker(cfg)
    with pytest.raises(BrokerUnavailable, match="nothing was sent") as caught:
        await broker.login(TOTP)
    await broker.close()
    assert "could not connect to 127.0.0.1" in caught.value.message
    assert class_names(caught.value.message) == []


# --------------------------------------------------------------------------- transport classes


async def _mock_broker(tmp_path: Path, exc: Exception) -> KotakBroker:
    """A logged-in broker whose next non-login request raises `exc`."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("tradeApiLogin") or request.url.path.endswith("Validate"):
            data = {"status": "success", "token": "t", "sid": "s", "baseUrl": "http://kotak.test"}
            return httpx.Response(200, json={"data": data})
        raise exc

    cfg = KotakConfig(
        mobile="9876543210",
        ucc="X",
        access_token="a",
        mpin="1",
        cache_dir=tmp_path,
        login_url="http://kotak.test",
    )
    broker = KotakBroker(cfg, transport=httpx.MockTransport(handler))
    await broker.login("123456")
    return broker


@pytest.mark.parametrize(
    ("exc", "on_place", "on_read", "advice"),
    [
        (httpx.ConnectTimeout("t"), BrokerUnavailable, BrokerUnavailable, "nothing was sent"),
        (httpx.PoolTimeout("t"), BrokerUnavailable, BrokerUnavailable, "nothing was sent"),
        (httpx.ConnectError("refused"), BrokerUnavailable, BrokerUnavailable, "nothing was sent"),
        (httpx.ReadTimeout("t"), UnknownOutcome, BrokerUnavailable, "check the order book"),
        (httpx.WriteTimeout("t"), UnknownOutcome, BrokerUnavailable, "check the order book"),
        (httpx.RemoteProtocolError("x"), UnknownOutcome, BrokerUnavailable, "check the order book"),
    ],
)
async def test_transport_failures_are_classified(
    tmp_path: Path, exc: Exception, on_place: type, on_read: type, advice: str
) -> None:
    """The place's message says what to do next; the loopback timeout is a contract case."""
    broker = await _mock_broker(tmp_path, exc)
    with pytest.raises(on_place, match=advice) as placing:
        await broker.place_order(order("mock-1"))
    with pytest.raises(on_read) as reading:
        await broker.positions()
    await broker.close()
    for caught in (placing, reading):  # shown to people (/session, login notices): words only
        assert class_names(caught.value.message) == [], caught.value.message
        assert "kotak.test" in caught.value.message


@pytest.mark.parametrize(
    ("exc", "cause"),
    [
        (httpx.ReadTimeout("t"), OutcomeCause.TIMEOUT),
        (httpx.WriteTimeout("t"), OutcomeCause.TIMEOUT),
        (httpx.RemoteProtocolError("x"), OutcomeCause.CONNECTION_LOST),
        (httpx.ReadError("reset"), OutcomeCause.CONNECTION_LOST),
    ],
)
async def test_an_unanswered_place_says_why(
    tmp_path: Path, exc: Exception, cause: OutcomeCause
) -> None:
    """Only a timeout may be worded "the broker did not answer in time"."""
    broker = await _mock_broker(tmp_path, exc)
    with pytest.raises(UnknownOutcome) as caught:
        await broker.place_order(order("mock-2"))
    assert caught.value.cause is cause
    await broker.close()


def _response(
    status: int, body: bytes | str, headers: dict[str, str] | None = None
) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(
        status,
        content=content,
        headers=headers,
        request=httpx.Request("GET", "http://kotak.test/x"),
    )


_OMS_DOWN = '{"message": "Not able to communicate with OMS"}'


def _st(code: int, text: str) -> str:
    return json.dumps({"stCode": code, "errMsg": text, "stat": "Not_Ok"})


@pytest.mark.parametrize(
    ("status", "body", "kind", "expected", "code"),
    [
        (401, "{}", CallKind.REPORTS, SessionExpired, "401"),
        (403, "<html>forbidden</html>", CallKind.ORDERS, SessionExpired, "403"),
        (429, "{}", CallKind.MARKET_DATA, Throttled, "429"),
        (502, _OMS_DOWN, CallKind.REPORTS, BrokerUnavailable, "502"),
        (502, _OMS_DOWN, CallKind.ORDERS, UnknownOutcome, "502"),
        (
            200,
            '{"fault": {"code": "900802", "message": "Message throttled out"}}',
            CallKind.REPORTS,
            Throttled,
            "900802",
        ),
        (200, '{"code": "900901", "message": "Invalid Credentials"}', CallKind.ORDERS,
         SessionExpired, "900901"),
        (
            200,
            '{"error": [{"code": "400", "message": "Missing required field"}]}',
            CallKind.ORDERS,
            BrokerRejected,
            "400",
        ),
        (
            200,
            '{"stCode": 1009, "emsg": "Invalid neosymbol", "stat": "Not_Ok"}',
            CallKind.MARKET_DATA,
            InstrumentNotFound,
            "1009",
        ),
        (200, _st(1009, "please provide valid lotwise quantity"), CallKind.ORDERS,
         InvalidQuantity, "1009"),
        (200, _st(100008, "unauthorized"), CallKind.ORDERS, IPNotWhitelisted, "100008"),
        (200, _st(1037, "session ip doesnt match"), CallKind.ORDERS, SessionIPMismatch, "1037"),
        (200, _st(100022, "invalid session token"), CallKind.ORDERS, SessionExpired, "100022"),
        (200, _st(1021, "order is completed"), CallKind.ORDERS, OrderNotModifiable, "1021"),
        (200, _st(1007, "Invalid Symbol"), CallKind.ORDERS, BrokerRejected, "1007"),
        (
            400,
            '{"stat": "Not_Ok", "stCode": 400, "errMsg": "bad"}',
            CallKind.ORDERS,
            BrokerRejected,
            "400",
        ),
        (404, "not here", CallKind.REPORTS, BrokerRejected, "404"),
        (200, '"just a string"', CallKind.REPORTS, BrokerUnavailable, None),
    ],
)  # fmt: skip
def test_classify_table(
    status: int, body: str, kind: CallKind, expected: type[BrokerError], code: str | None
) -> None:
    """Most specific class first; `code` is the broker's own (stCode, fault code, HTTP status):
    the core shows `exc.code`, so every typed error that had one must carry it."""
    with pytest.raises(expected) as caught:
        classify(_response(status, body), kind=kind, what="x")
    assert type(caught.value) is expected
    assert caught.value.code == code


_DUP_V2 = json.dumps(
    {
        "stCode": 32,
        "errMsg": "error from core",
        "stat": "Put Order Response : Client OrderID already exists Data: 0",
    }
)
_DUP_OLD = _st(5204, "Put Order Response : Client OrderID already exists")


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (200, _DUP_V2, DuplicateTag, "32"),
        (200, _DUP_OLD, DuplicateTag, "5204"),
        (200, _st(1, "Client OrderID already exists"), DuplicateTag, "1"),  # by its text
        (200, _st(70707, "a code nobody documented"), UnknownOutcome, "70707"),
        (200, '{"stat": "Not_Ok", "errMsg": "no code at all"}', UnknownOutcome, None),
        (200, _st(1005, "Internal Error"), UnknownOutcome, "1005"),  # says nothing of the order
        (200, _st(1007, "Invalid Symbol"), BrokerRejected, "1007"),
        (200, _st(1009, "please provide valid lotwise quantity"), InvalidQuantity, "1009"),
        (200, _st(1017, "algo order not allowed"), BrokerRejected, "1017"),
        (200, _st(100021, "invalid  access type"), BrokerRejected, "100021"),
        (200, _st(5202, "Error: Invalid Request"), BrokerRejected, "5202"),
        (200, _st(100022, "invalid session token"), SessionExpired, "100022"),
        (200, _st(100008, "unauthorized"), IPNotWhitelisted, "100008"),
        (400, _st(70707, "refused by HTTP status"), BrokerRejected, "70707"),
        (200, '{"error": [{"code": "400", "message": "Missing"}]}', BrokerRejected, "400"),
    ],
)  # fmt: skip
def test_classify_on_a_place(
    status: int, body: str, expected: type[BrokerError], code: str | None
) -> None:
    """On a place only codes known to mean "nothing was placed" are rejections; any other code
    is an unknown outcome (reconciled by tag), and a reused tag is `DuplicateTag`."""
    with pytest.raises(expected) as caught:
        classify(_response(status, body), kind=CallKind.ORDERS, what="place order", place=True)
    assert type(caught.value) is expected
    assert caught.value.code == code
    if expected is UnknownOutcome:
        assert caught.value.cause is OutcomeCause.UNKNOWN_CODE  # type: ignore[attr-defined]


def test_an_unknown_code_on_a_modify_stays_a_rejection() -> None:
    with pytest.raises(BrokerRejected):
        classify(_response(200, _st(70707, "new")), kind=CallKind.ORDERS, what="modify order")
    with pytest.raises(BrokerRejected):  # 32 means a reused tag on a place only
        classify(_response(200, _DUP_V2), kind=CallKind.ORDERS, what="modify order")


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (429, "{}", Throttled, "429"),
        (503, "Service Unavailable", BrokerUnavailable, "503"),
        (200, '{"fault": {"code": "900802", "message": "throttled"}}', Throttled, "900802"),
        (200, '{"error": [{"code": "400", "message": "Missing Totp"}]}', AuthError, "400"),
        (200, '{"stCode": 401, "errMsg": "Invalid TOTP", "status": "failure"}', AuthError, "401"),
        (401, "<html>no</html>", AuthError, "401"),
        (200, '{"data": {"status": "success"}}', AuthError, None),  # no token: nothing to cite
    ],
)
def test_login_errors_carry_the_code(
    status: int, body: str, expected: type[BrokerError], code: str | None
) -> None:
    with pytest.raises(expected) as caught:
        login_data(_response(status, body), step="TOTP")
    assert caught.value.code == code


def test_classify_success_shapes() -> None:
    ok = classify(_response(200, '{"stat": "ok", "data": [1]}'), kind=CallKind.REPORTS, what="x")
    assert ok == {"stat": "ok", "data": [1]}  # lower-case ok (trade-book sample, ref §5)
    assert classify(_response(200, "[]"), kind=CallKind.MARKET_DATA, what="x") == []
    assert classify(_response(200, '{"data": []}'), kind=CallKind.REPORTS, what="x") == {
        "data": []
    }  # holdings: no stat at all (ref §6.2)
    no_data = '{"stCode": 5203, "errMsg": "No Data", "desc": "data not found", "stat": "Not_Ok"}'
    assert (
        classify(_response(200, no_data), kind=CallKind.REPORTS, what="x", empty_ok=True) is NO_DATA
    )
    with pytest.raises(BrokerRejected, match="No Data"):
        classify(_response(200, no_data), kind=CallKind.REPORTS, what="x")


def test_retry_after_forms() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    throttled = _response(429, "{}", {"Retry-After": "2.5"})
    with pytest.raises(Throttled) as caught:
        classify(throttled, kind=CallKind.ORDERS, what="x")
    assert caught.value.retry_after == 2.5


# --------------------------------------------------------------------------- secrets


async def test_no_secret_in_logs_errors_or_reprs(
    sim: KotakSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """style.md "Avoid" 8: run logins (good and bad), orders and failures with every logger at
    DEBUG, then look for every credential that crossed the wire in all text we produced."""
    caplog.set_level(logging.DEBUG)
    cfg = kotak_config(sim, tmp_path, timeouts=_short_timeouts())
    broker = KotakBroker(cfg)
    errors: list[BrokerError] = []

    async def attempt(coro: object) -> None:
        try:
            await coro  # type: ignore[misc]
        except BrokerError as exc:
            errors.append(exc)

    sim.expected_totp = "482913"
    await attempt(broker.login(TOTP))  # wrong TOTP
    sim.expected_totp = TOTP
    sim.mpin, real_mpin = "999999", sim.mpin
    await attempt(broker.login(TOTP))  # wrong MPIN (the config holds the real one)
    sim.mpin = real_mpin
    await broker.login(TOTP)
    await attempt(broker.place_order(order("sec-1")))
    for kind, mode in (
        ("place", "timeout"),
        ("orders", "html"),
        ("place", "malformed"),
        ("positions", "throttle"),
    ):
        sim.fail_next(kind, mode)
        await attempt(
            broker.place_order(order("sec-2"))
            if kind == "place"
            else (broker.orders() if kind == "orders" else broker.positions())
        )
    sim.egress_ip = "198.51.100.9"
    await attempt(broker.place_order(order("sec-3")))
    sim.expire_sessions()
    await attempt(broker.orders())
    await attempt(broker.place_order(order("sec-4")))
    await attempt(broker.quotes([SBIN]))
    text_of_broker = repr(broker) + repr(cfg) + repr(broker._session)
    await broker.close()

    secrets = {sim.access_token, sim.mpin, TOTP, "482913", "999999"}
    for call in sim.calls:
        for name in ("authorization", "auth", "sid"):
            if call.headers.get(name):
                secrets.add(call.headers[name])
    for session in sim._sessions.values():
        secrets |= {session.token, session.sid}
    assert len(secrets) > 6 and len(errors) >= 8

    produced = [caplog.text, text_of_broker]
    for exc in errors:
        produced += [str(exc), repr(exc), exc.message]
    assert caplog.records, "the adapter should log something"
    for secret in secrets:
        for text in produced:
            assert secret not in text, "a secret leaked"
