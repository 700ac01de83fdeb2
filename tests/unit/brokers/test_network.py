"""Network failures in words: every httpx failure class gets a phrase that names the host and
no class name, the way the IP check and the broker adapters word them."""

from __future__ import annotations

import httpx
import pytest

from brokers.network import describe_failure
from tests.words import class_names

_REQUEST = httpx.Request("GET", "http://127.0.0.1:9/")


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (httpx.ConnectError("All connection attempts failed"), "could not connect to 127.0.0.1"),
        (httpx.ConnectTimeout("t"), "could not connect to 127.0.0.1 in time"),
        (httpx.PoolTimeout("t"), "could not connect to 127.0.0.1 in time"),
        (httpx.ReadTimeout("t"), "127.0.0.1 did not answer in time"),
        (httpx.WriteTimeout("t"), "timed out while sending to 127.0.0.1"),
        (httpx.RemoteProtocolError("x"), "the connection to 127.0.0.1 broke"),
        (httpx.ReadError("reset"), "the connection to 127.0.0.1 broke"),
        (httpx.ProxyError("no"), "the proxy refused the connection to 127.0.0.1"),
        (httpx.UnsupportedProtocol("ftp"), "127.0.0.1 is not a valid http(s) address"),
        (
            httpx.HTTPStatusError(
                "x", request=_REQUEST, response=httpx.Response(503, request=_REQUEST)
            ),
            "127.0.0.1 answered HTTP 503",
        ),
        (httpx.TooManyRedirects("x"), "127.0.0.1 redirected too many times"),
        (httpx.DecodingError("x"), "the answer from 127.0.0.1 could not be decoded"),
    ],
)
def test_each_failure_is_worded_without_its_class_name(exc: httpx.HTTPError, words: str) -> None:
    text = describe_failure(exc, "127.0.0.1")
    assert text.startswith(words)
    assert class_names(text) == [] and type(exc).__name__ not in text


def test_the_class_name_check_catches_what_it_must() -> None:
    assert class_names("Last error: 127.0.0.1: ConnectError") == ["ConnectError"]
    assert class_names("Kotak login: no reply (ReadTimeout)") == ["ReadTimeout"]
    assert class_names("unexpected KeyError: 'x'") == ["KeyError"]
    assert class_names("BUY 10 NSE:SBIN at 812.35; IPv6; PAPER000001; TB0A1B2C3D4E") == []
