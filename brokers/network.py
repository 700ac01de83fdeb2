"""A network failure in words, for messages people read.

An httpx exception's class name (`ConnectError`, `ReadTimeout`) means nothing to a trader and
must never reach the chat (style: every user-facing error is one plain sentence). Every place
that turns a failed HTTP call into a message (a broker adapter, the IP check) words it here, so
the same failure reads the same wherever it is shown.
"""

from __future__ import annotations

import logging

import httpx

from brokers.errors import BrokerError, BrokerUnavailable, OutcomeCause, UnknownOutcome

__all__ = ["describe_failure", "garbage_reply", "send_failure"]


def describe_failure(exc: httpx.HTTPError, where: str) -> str:
    """What went wrong talking to `where` (a host name or address), as a phrase that fits in a
    sentence: "could not connect to 127.0.0.1", "203.0.113.9 did not answer in time"."""
    match exc:
        case httpx.ConnectTimeout() | httpx.PoolTimeout():
            return f"could not connect to {where} in time"
        case httpx.ReadTimeout():
            return f"{where} did not answer in time"
        case httpx.WriteTimeout():
            return f"timed out while sending to {where}"
        case httpx.TimeoutException():
            return f"{where} timed out"
        case httpx.ProxyError():
            return f"the proxy refused the connection to {where}"
        case httpx.ConnectError():
            return f"could not connect to {where}"
        case httpx.RemoteProtocolError() | httpx.ReadError() | httpx.WriteError():
            return f"the connection to {where} broke before the answer came"
        case httpx.HTTPStatusError():
            return f"{where} answered HTTP {exc.response.status_code}"
        case httpx.UnsupportedProtocol() | httpx.InvalidURL():
            return f"{where} is not a valid http(s) address"
        case httpx.TooManyRedirects():
            return f"{where} redirected too many times"
        case httpx.DecodingError():
            return f"the answer from {where} could not be decoded"
        case _:
            return f"a network error while talking to {where}"


def send_failure(
    exc: httpx.TransportError,
    *,
    broker: str,
    what: str,
    host: str,
    order_call: bool,
    log: logging.Logger,
) -> BrokerError:
    """What an adapter raises when a request got no reply. A failed connect sent nothing
    (`BrokerUnavailable`); any later failure on an order call may have placed, changed or
    cancelled an order (`UnknownOutcome`), so the trader is told to check the book by tag first.
    `broker` is the name as shown ("Kotak", "mStock"); the log line uses it lower-cased."""
    name = broker.lower()
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout | httpx.ConnectError):
        log.warning("%s %s: could not connect (%s)", name, what, type(exc).__name__)
        failure = describe_failure(exc, host)
        return BrokerUnavailable(f"{broker} {what}: {failure}; nothing was sent")
    log.warning("%s %s: no reply (%s)", name, what, type(exc).__name__)
    if order_call:
        timed_out = isinstance(exc, httpx.TimeoutException)
        return UnknownOutcome(
            f"{broker} {what}: sent, but {describe_failure(exc, host)}; the order may or may not "
            "exist, check the order book by tag before doing anything else",
            cause=OutcomeCause.TIMEOUT if timed_out else OutcomeCause.CONNECTION_LOST,
        )
    return BrokerUnavailable(f"{broker} {what}: {describe_failure(exc, host)}")


def garbage_reply(
    broker: str, what: str, detail: str, *, cause: OutcomeCause, code: str | None, order_call: bool
) -> BrokerError:
    """What an adapter raises for a reply it cannot trust (HTTP 5xx, a body that is not JSON): on
    an order call the request may have been acted on (`UnknownOutcome`), elsewhere the broker is
    just not answering usefully (`BrokerUnavailable`)."""
    if order_call:
        return UnknownOutcome(
            f"{broker} {what}: {detail}; the order may or may not have been accepted, "
            "check the order book before doing anything else",
            cause=cause,
            code=code,
        )
    return BrokerUnavailable(f"{broker} {what}: {detail}", code=code)
