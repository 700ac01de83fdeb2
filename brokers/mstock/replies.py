"""Classify every mStock reply once, at the boundary, into data or one `brokers.errors` class.

Ref §3 "What an adapter should do instead", in its order:
1. HTTP 429 is throttling (no documented body, ref §8). A body that is not JSON is garbage: on
   an order call (place, modify, cancel) that makes the outcome unknown, never "nothing
   happened"; so does an HTTP 5xx (`IA500`).
2. A one-element list is unwrapped (the live server wraps place replies, ref §4.1).
3. Success is HTTP 2xx with `status` `"true"`, `true` or `"success"`. Anything else is an error
   whose code is `errorcode`, else `error_type`, else the HTTP status, and whose text is
   `message`; the ASP.NET ProblemDetails shape (`title` + `errors`, no `status` string) is read
   too (ref §3, seen on Type A).
4. The text decides before the code where the code is ambiguous (`constants.TEXT_PATTERNS`):
   `IA403` is both the static-IP refusal and an expired API key (ref §9), told apart only by
   the message; the IP refusal may come on any endpoint and is always `IPNotWhitelisted`.
   `IA401` is an expired session; `RS-…` (RMS) and `MA…` (backend) are rejections with their
   text; on a place, a refusal with a code of no known family is an unknown outcome (a new code
   is no proof that nothing was placed).
Messages carry the broker's text verbatim, plus our own words only where the broker's would
mislead; never a header, a token or a body.
"""

from __future__ import annotations

from typing import Any

import httpx

from brokers.errors import (
    AuthError,
    BrokerError,
    BrokerRejected,
    InstrumentNotFound,
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
from brokers.mstock.constants import (
    CODE_BAD_REQUEST,
    CODE_FORBIDDEN,
    CODE_NOT_FOUND,
    CODE_SESSION,
    REJECTION_PREFIXES,
    STATUS_OK,
    TEXT_PATTERNS,
    VERSION_EXCEPTION,
    CallKind,
    Meaning,
)
from brokers.network import garbage_reply
from brokers.wire import NOT_JSON, parse_json, retry_after_seconds

__all__ = ["classify", "data_of", "meaning_of", "succeeded"]


def succeeded(status: Any) -> bool:
    """`status` as the API writes success: `"true"`, `true` or `"success"` (ref §3)."""
    if isinstance(status, bool):
        return status
    return isinstance(status, str) and status.strip().lower() in STATUS_OK


def meaning_of(text: str) -> Meaning | None:
    """What a refusal's words say (the one table, `TEXT_PATTERNS`), or None."""
    for pattern, meaning in TEXT_PATTERNS:
        if pattern.search(text):
            return meaning
    return None


def data_of(body: Any) -> Any:
    """The envelope's `data`, or the body itself when it has no envelope (the master)."""
    return body.get("data") if isinstance(body, dict) else body


def _garbage(
    kind: CallKind, what: str, detail: str, cause: OutcomeCause, code: str | None
) -> BrokerError:
    return garbage_reply(
        "mStock", what, detail, cause=cause, code=code, order_call=kind is CallKind.ORDERS
    )


def _problem_details(body: dict[str, Any]) -> str | None:
    """`title` plus every `errors` entry of an ASP.NET ProblemDetails body, or None."""
    title = body.get("title")
    if not isinstance(title, str) or ("errors" not in body and "traceId" not in body):
        return None
    parts = [title.strip()]
    errors = body.get("errors")
    if isinstance(errors, dict):
        for entries in errors.values():
            items = entries if isinstance(entries, list) else [entries]
            parts += [str(item).strip() for item in items if str(item).strip()]
    return " ".join(parts)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def error_for(
    code: str | None, message: str, *, http: int, kind: CallKind, what: str, place: bool
) -> BrokerError:
    """The most specific error for a refusal (see the module docstring, rule 4)."""
    meaning = meaning_of(message)
    if meaning is Meaning.IP_REFUSED:
        return IPNotWhitelisted(message, code=code)
    if code == CODE_SESSION or http == 401:
        return SessionExpired(message or f"mStock {what}: session expired", code=code or "401")
    if code == CODE_FORBIDDEN or http == 403:
        return AuthError(
            f"mStock refused the API key ({message or 'HTTP 403'}); the Type B key is suspended "
            "or expired: renew it on trade.mstock.com → Trading APIs and set BROKER_API_SECRET",
            code=code or "403",
        )
    if code == VERSION_EXCEPTION:
        return BrokerRejected(
            f"mStock {what}: {message} (the adapter sent no API version)", code=code
        )
    specific = (
        {
            Meaning.NOT_MODIFIABLE: OrderNotModifiable,
            Meaning.NOT_FOUND: OrderNotFound,
            Meaning.QUANTITY: InvalidQuantity,
            Meaning.FUNDS: InsufficientFunds,
        }.get(meaning)
        if meaning is not None
        else None
    )
    if specific is not None:
        return specific(message, code=code)
    if code == CODE_NOT_FOUND:
        if kind is CallKind.MARKET_DATA:
            return InstrumentNotFound(message, code=code)
        return OrderNotFound(message, code=code)
    known = code is not None and (code in CODE_BAD_REQUEST or code.startswith(REJECTION_PREFIXES))
    if place and not known and http < 400:
        return UnknownOutcome(
            f"{message or 'refused'} (a reply I do not know; the order may or may not have been "
            "accepted, check the order book by tag)",
            cause=OutcomeCause.UNKNOWN_CODE,
            code=code,
        )
    return BrokerRejected(message or f"mStock {what}: refused (HTTP {http})", code=code)


def classify(response: httpx.Response, *, kind: CallKind, what: str, place: bool = False) -> Any:
    """The parsed body of a successful reply (unwrapped from a one-element list), or raise.

    `what` names the call in plain words ("place order", "order book"); `place` marks a place
    (see rule 4). The instrument master, a bare JSON array, is returned as that array."""
    http = response.status_code
    if http == 429:
        raise Throttled(
            f"mStock {what}: too many requests",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            code="429",
        )
    body = parse_json(response.content)
    if body is NOT_JSON:
        if http >= 500:
            raise _garbage(
                kind, what, f"server error HTTP {http}", OutcomeCause.SERVER_ERROR, str(http)
            )
        if 400 <= http < 500:
            raise error_for(None, "", http=http, kind=kind, what=what, place=False)
        raise _garbage(kind, what, "unreadable reply (not JSON)", OutcomeCause.BAD_REPLY, None)
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, list):
        if kind is CallKind.MASTER and http < 300:
            return body
        raise _garbage(kind, what, "unexpected reply shape", OutcomeCause.BAD_REPLY, None)
    if not isinstance(body, dict):
        raise _garbage(kind, what, "unexpected reply shape", OutcomeCause.BAD_REPLY, None)
    problem = _problem_details(body)
    if problem is not None:
        raise error_for(str(http), problem, http=http, kind=kind, what=what, place=False)
    if http < 300 and succeeded(body.get("status")):
        return body
    code = _text(body.get("errorcode")) or _text(body.get("error_type")) or None
    message = _text(body.get("message"))
    if http >= 500 and meaning_of(message) is not Meaning.IP_REFUSED:
        raise _garbage(
            kind,
            what,
            f"server error HTTP {http} ({message or 'no text'})",
            OutcomeCause.SERVER_ERROR,
            code or str(http),
        )
    raise error_for(
        code or (str(http) if http >= 400 else None),
        message,
        http=http,
        kind=kind,
        what=what,
        place=place,
    )


def login_data(response: httpx.Response, *, step: str) -> dict[str, Any]:
    """A login step's `data` with its `jwtToken`, or raise. Credential refusals (wrong password,
    wrong TOTP, a suspended key) are `AuthError`: a human must fix the configuration; the IP
    refusal stays `IPNotWhitelisted`, throttling and outages keep their classes. A failed
    verify is a failed login (the SDK carries on without a token, ref §2.3; we stop)."""
    what = f"login ({step})"
    try:
        body = classify(response, kind=CallKind.LOGIN, what=what)
    except (SessionExpired, BrokerRejected, InvalidQuantity) as exc:
        raise AuthError(f"mStock {what}: {exc.message}", code=exc.code) from None
    data = body.get("data")
    if isinstance(data, dict) and isinstance(data.get("jwtToken"), str) and data["jwtToken"]:
        return data
    raise AuthError(f"mStock {what}: the reply carried no token")
