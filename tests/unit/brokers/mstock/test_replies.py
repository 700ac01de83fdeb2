"""Every mStock reply shape of ref §3, classified once into data or one error class."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from brokers.errors import (
    AuthError,
    BrokerError,
    BrokerRejected,
    BrokerUnavailable,
    InsufficientFunds,
    InvalidQuantity,
    IPNotWhitelisted,
    OrderNotFound,
    OrderNotModifiable,
    OutcomeCause,
    SessionExpired,
    Throttled,
    UnknownOutcome,
)
from brokers.mstock.constants import CallKind
from brokers.mstock.replies import classify, data_of

IP_TEXT = "Primary and Secondary IP Address are not matching with current IP address."
KEY_TEXT = "API is suspended/expired for use. Please check your API subscription and try again."


def reply(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        {"status": "true", "message": "SUCCESS", "errorcode": "", "data": {"orderid": "1"}},
        {"status": True, "message": "SUCCESS", "errorcode": None, "data": {"orderid": "1"}},
        {"status": "success", "data": {"orderid": "1"}},
        [{"status": "true", "message": "SUCCESS", "errorcode": "", "data": {"orderid": "1"}}],
    ],
    ids=["string", "boolean", "success", "list-wrapped"],
)
def test_every_success_style_gives_the_data(body: Any) -> None:
    assert data_of(classify(reply(body), kind=CallKind.ORDERS, what="place")) == {"orderid": "1"}


def raised(
    response: httpx.Response, kind: CallKind = CallKind.REPORTS, place: bool = False
) -> BrokerError:
    with pytest.raises(BrokerError) as caught:
        classify(response, kind=kind, what="test", place=place)
    return caught.value


def test_the_ip_refusal_is_the_ip_error_on_any_endpoint_never_the_key() -> None:
    body = {
        "status": False,
        "message": IP_TEXT,
        "errorcode": "IA403",
        "error_type": "APIKeyException",
        "data": None,
    }
    for kind in (CallKind.ORDERS, CallKind.MARKET_DATA, CallKind.REPORTS):
        error = raised(reply(body, 403), kind)
        assert type(error) is IPNotWhitelisted
        assert (error.code, error.message) == ("IA403", IP_TEXT)


def test_any_other_ia403_is_the_suspended_key() -> None:
    error = raised(reply({"status": "false", "message": KEY_TEXT, "errorcode": "IA403"}, 403))
    assert type(error) is AuthError and error.code == "IA403"
    assert KEY_TEXT in error.message and "Trading APIs" in error.message


def test_ia401_is_an_expired_session() -> None:
    body = {"status": False, "message": "Invalid request. Please try again.", "errorcode": "IA401"}
    error = raised(reply(body, 401))
    assert type(error) is SessionExpired and error.code == "IA401"


@pytest.mark.parametrize(
    ("body", "cls", "code"),
    [
        ({"status": "false", "message": "RMS:1:NSE,EQUITY,22,ACC,INTRADAY,FUND LIMIT INSUFFICIENT,AVAILABLE FUND=0", "errorcode": "RS-0111"}, InsufficientFunds, "RS-0111"),  # noqa: E501
        ({"status": "false", "message": "Order is Cancelled.Kindly refresh your OrderBook", "errorcode": "RS-00093"}, OrderNotModifiable, "RS-00093"),  # noqa: E501
        ({"status": "false", "message": "Quantity should be in multiple of lot size 65", "errorcode": "400"}, InvalidQuantity, "400"),  # noqa: E501
        ({"status": "false", "message": "Order Does not Exsist.Need to refresh orderbook / relogin in application ", "error_type": "InputException"}, OrderNotFound, "InputException"),  # noqa: E501
        ({"status": "error", "message": "INSUFICIENT QUANTITY TO CONVERT", "errorcode": "MA0034"}, BrokerRejected, "MA0034"),  # noqa: E501
        ({"status": "false", "message": "Enter valid trigger price.", "errorcode": "400"}, BrokerRejected, "400"),  # noqa: E501
    ],
    ids=["rms-funds", "cancelled", "lot", "no-order", "backend", "bad-request"],
)  # fmt: skip
def test_rejections_carry_their_text(
    body: dict[str, Any], cls: type[BrokerError], code: str
) -> None:
    error = raised(reply(body), CallKind.ORDERS, place=True)
    assert type(error) is cls
    assert (error.code, error.message) == (code, body["message"].strip())


def test_problem_details_are_read() -> None:
    body = {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": {"order_no": ["The order_no field is required."]},
        "traceId": "00-abc",
    }
    error = raised(reply(body, 400))
    assert type(error) is BrokerRejected and error.code == "400"
    assert (
        error.message == "One or more validation errors occurred. The order_no field is required."
    )


def test_throttled_with_its_wait() -> None:
    error = raised(reply(b"", 429, **{"Retry-After": "2"}), CallKind.ORDERS, place=True)
    assert isinstance(error, Throttled) and error.retry_after == 2.0 and error.code == "429"


@pytest.mark.parametrize(
    ("response", "cause"),
    [
        (reply(b"<h1>500</h1>", 500), OutcomeCause.SERVER_ERROR),
        (reply({"status": "false", "message": "oops", "errorcode": "IA500"}, 500), OutcomeCause.SERVER_ERROR),  # noqa: E501
        (reply(b"<html>Bad Gateway</html>", 200), OutcomeCause.BAD_REPLY),
        (reply(b'[{"status": "true", "data": {"orderid": ', 200), OutcomeCause.BAD_REPLY),
        (reply([], 200), OutcomeCause.BAD_REPLY),
    ],
    ids=["html-500", "ia500", "html-200", "truncated", "empty-list"],
)  # fmt: skip
def test_garbage_after_an_order_call_is_an_unknown_outcome(
    response: httpx.Response, cause: OutcomeCause
) -> None:
    error = raised(response, CallKind.ORDERS, place=True)
    assert isinstance(error, UnknownOutcome) and error.cause is cause
    assert type(raised(response, CallKind.REPORTS)) is BrokerUnavailable  # a read: nothing done


def test_a_place_refused_with_a_code_of_no_known_family_is_unknown() -> None:
    body = {"status": "false", "message": "something new", "errorcode": "ZZ-1"}
    error = raised(reply(body), CallKind.ORDERS, place=True)
    assert isinstance(error, UnknownOutcome) and error.cause is OutcomeCause.UNKNOWN_CODE
    assert type(raised(reply(body), CallKind.ORDERS)) is BrokerRejected  # a cancel: refused


def test_the_missing_version_header_is_our_own_bug_in_words() -> None:
    body = {
        "status": "error",
        "message": "Please provide valid api version.",
        "error_type": "VersionException",
        "data": None,
    }
    error = raised(reply(body, 400))
    assert type(error) is BrokerRejected and "API version" in error.message


def test_the_master_is_a_bare_array() -> None:
    rows = [{"token": "1"}, {"token": "2"}]
    assert classify(reply(rows), kind=CallKind.MASTER, what="master") == rows
