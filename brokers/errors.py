"""One error hierarchy for every broker adapter.

Adapters translate wire errors once, at the boundary, into the most specific class here. Callers
decide from the class alone: the docstrings say what a caller should do. No secret (token, TOTP,
MPIN, password) may appear in an error message; messages are safe to show the user.
"""

from __future__ import annotations

from typing import Literal


class BrokerError(Exception):
    """Base class. `code` is the broker's own code when it gave one (stCode, errorcode)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class BrokerRejected(BrokerError):
    """The broker refused the request and nothing happened. Show the message; do not retry."""


class InstrumentNotFound(BrokerRejected):
    """The broker does not know the symbol or token."""


class OrderNotFound(BrokerRejected):
    """No such order in the broker's book."""


class OrderNotModifiable(BrokerRejected):
    """The order is already complete, cancelled or rejected (Kotak stCode 1021)."""


class InvalidQuantity(BrokerRejected):
    """Quantity is not a lot multiple or is above a limit (Kotak stCode 1009)."""


class InsufficientFunds(BrokerRejected):
    """Not enough margin or cash for the order."""


class AuthError(BrokerError):
    """Login failed: bad credentials, TOTP or MPIN. A human must fix the configuration."""


class SessionExpired(BrokerError):
    """The session token is no longer valid (HTTP 401/403, Kotak 100022): log in again, then the
    call may be retried once (nothing was executed)."""


class IPNotWhitelisted(BrokerError):
    """The order call came from an IP the broker has not whitelisted (Kotak 100008). Nothing was
    placed. Retrying from the same IP cannot help."""


class SessionIPMismatch(BrokerError):
    """The IP is whitelisted but the session was created from another one (Kotak 1037). Nothing
    was placed: create a new session from this IP, then retry once."""


class Throttled(BrokerError):
    """Too many requests (HTTP 429). Nothing was executed; wait `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or answered with garbage (5xx, HTML, bad JSON) before the
    request could have taken effect. Reads may be retried with backoff."""


class UnknownOutcome(BrokerError):
    """A place/modify/cancel was sent but no answer came back (read timeout, dropped connection).
    The order may or may not exist: reconcile against the order book by tag, never re-send.

    `cause` says why there is no usable answer, so the user is told the right thing: `timeout`
    (no reply in time), `server_error` (HTTP 5xx), `bad_reply` (HTML or garbled JSON) or
    `connection_lost` (the connection broke after the request went out)."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        cause: Literal["timeout", "server_error", "bad_reply", "connection_lost"] = "timeout",
    ) -> None:
        super().__init__(message, code=code)
        self.cause = cause
