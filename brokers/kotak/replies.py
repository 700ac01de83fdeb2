"""Classify every Kotak reply once, at the boundary, into data or one `brokers.errors` class.

Ref §8 "What an adapter should do instead" is the rule set implemented here, in its order:
HTTP status first (a 200 is not success), then the body (non-JSON is garbage), then the envelope
(`stat`/`stCode`, case-insensitive `ok`). Order calls are special: a 5xx or an unreadable body
after a place/modify/cancel means the outcome is unknown (ref §8 rule 3), never "nothing happened";
so does a place refused with a code we do not know to be a rejection (`PLACE_REJECTIONS`). A reused
tag (32 / 5204) is `DuplicateTag`: an order with that tag exists.
Messages carry the broker's text verbatim plus our own plain words; never a header or a body.
"""

from __future__ import annotations

from typing import Any

import httpx

from brokers.errors import (
    AuthError,
    BrokerError,
    BrokerRejected,
    BrokerUnavailable,
    DuplicateTag,
    InstrumentNotFound,
    InvalidQuantity,
    IPNotWhitelisted,
    OrderNotFound,
    OrderNotModifiable,
    OutcomeCause,
    SessionExpired,
    SessionIPMismatch,
    Throttled,
    UnknownOutcome,
)
from brokers.kotak.constants import (
    DUPLICATE_TAG_TEXT,
    GATEWAY_INVALID_CREDENTIALS,
    GATEWAY_THROTTLED,
    PLACE_REJECTIONS,
    ST_CLIENT_IP_OK,
    ST_DUPLICATE_TAG,
    ST_INVALID_QTY,
    ST_INVALID_SESSION,
    ST_IP_NOT_WHITELISTED,
    ST_NO_DATA,
    ST_OK,
    ST_ORDER_COMPLETED,
    ST_SESSION_IP_MISMATCH,
    CallKind,
)
from brokers.network import garbage_reply
from brokers.wire import NOT_JSON, parse_json, retry_after_seconds

NO_DATA: Any = None  # what `classify` returns for 5203 when the caller said an empty list is fine

_MESSAGE_KEYS = ("errMsg", "emsg", "message", "desc")  # ref §8 rule 4: errMsg, then fallbacks


def raise_if_throttled(response: httpx.Response, what: str) -> None:
    """HTTP 429 on any call (the API, the login host or the CDN): nothing was executed; the
    wait comes from `Retry-After` when the server sent one."""
    if response.status_code == 429:
        raise Throttled(
            f"Kotak {what}: too many requests",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            code="429",
        )


def _message(body: dict[str, Any], fallback: str) -> str:
    for key in _MESSAGE_KEYS:
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return fallback


def _code(body: dict[str, Any]) -> str | None:
    value = body.get("stCode")
    return None if value is None else str(value)


def _entry_code(entry: dict[str, Any]) -> str | None:
    """The `code` of one entry of the missing-field `error` list (ref §2.1), when it has one."""
    value = entry.get("code")
    return str(value) if value else None


def _garbage(
    kind: CallKind, what: str, detail: str, cause: OutcomeCause, code: str | None = None
) -> BrokerError:
    return garbage_reply(
        "Kotak", what, detail, cause=cause, code=code, order_call=kind is CallKind.ORDERS
    )


def _duplicate_tag_text(body: dict[str, Any]) -> str | None:
    """The broker's words for a reused tag, when it says so: code 32 carries "error from core" in
    `errMsg` and the real text in `stat` (ref §4.1), 5204 the text in `errMsg`."""
    for key in ("errMsg", "stat", "emsg", "message"):
        value = body.get(key)
        if isinstance(value, str) and DUPLICATE_TAG_TEXT in value.casefold():
            return value.strip()
    return None


def error_for_code(
    code: str | None, message: str, *, kind: CallKind, place: bool = False
) -> BrokerError:
    """Map an stCode to the most specific error (ref §8 table, §11 for the IP codes). On a
    `place`, a code outside `PLACE_REJECTIONS` and the session/IP codes is an unknown outcome."""
    if code == str(ST_INVALID_SESSION):
        return SessionExpired(message, code=code)
    if code == str(ST_IP_NOT_WHITELISTED):
        return IPNotWhitelisted(message, code=code)
    if code == str(ST_SESSION_IP_MISMATCH):
        return SessionIPMismatch(message, code=code)
    if code == str(ST_ORDER_COMPLETED):
        return OrderNotModifiable(message, code=code)
    if code == str(ST_INVALID_QTY):
        # The same code means "invalid instrument" on quotes (ref §7.1, [OA] comment).
        if kind is CallKind.MARKET_DATA:
            return InstrumentNotFound(message, code=code)
        return InvalidQuantity(message, code=code)
    if place and code not in PLACE_REJECTIONS:
        return UnknownOutcome(
            f"{message} (a reply I do not know; the order may or may not have been accepted, "
            "check the order book by tag)",
            cause=OutcomeCause.UNKNOWN_CODE,
            code=code,
        )
    return BrokerRejected(message, code=code)


def classify(
    response: httpx.Response,
    *,
    kind: CallKind,
    what: str,
    empty_ok: bool = False,
    not_found_ok: bool = False,
    place: bool = False,
) -> Any:
    """Return the parsed body of a successful reply, `NO_DATA` for 5203 when `empty_ok`, or raise.

    `what` names the call in plain words for messages ("place order", "order book").
    `not_found_ok` turns 5203 into `OrderNotFound` (single-order lookups). `place` marks a
    place: an HTTP 2xx refusal with a code not known to be a rejection is `UnknownOutcome`.
    """
    raise_if_throttled(response, what)
    status = response.status_code
    if status in (401, 403):
        # 403 "Invalid session, please re-login" (ref §8); 401 from the gateway on a bad token.
        raise SessionExpired(
            f"Kotak {what}: session is no longer valid (HTTP {status})", code=str(status)
        )
    if status >= 500:
        raise _garbage(
            kind, what, f"server error HTTP {status}", OutcomeCause.SERVER_ERROR, code=str(status)
        )
    body = parse_json(response.content)
    if body is NOT_JSON:
        if status >= 400:
            raise BrokerRejected(f"Kotak {what}: refused with HTTP {status}", code=str(status))
        raise _garbage(kind, what, "unreadable reply (not JSON)", OutcomeCause.BAD_REPLY)
    if isinstance(body, list):
        return body  # quotes are a bare list (ref §7.1)
    if not isinstance(body, dict):
        raise _garbage(kind, what, "unexpected reply shape", OutcomeCause.BAD_REPLY)
    fault = body.get("fault")
    if isinstance(fault, dict):  # WSO2 gateway fault (ref §8 shape 3)
        fcode = str(fault.get("code", ""))
        fmsg = _message(fault, f"gateway fault {fcode}")
        if fcode == GATEWAY_THROTTLED:
            raise Throttled(f"Kotak {what}: {fmsg}", retry_after=None, code=fcode)
        raise BrokerRejected(f"Kotak {what}: {fmsg}", code=fcode or None)
    if str(body.get("code", "")) == GATEWAY_INVALID_CREDENTIALS:
        raise SessionExpired(
            f"Kotak {what}: {_message(body, 'invalid credentials')}",
            code=GATEWAY_INVALID_CREDENTIALS,
        )
    errors = body.get("error")
    if isinstance(errors, list) and errors:  # missing-field shape (ref §2.1)
        first = errors[0] if isinstance(errors[0], dict) else {}
        raise BrokerRejected(_message(first, f"Kotak {what}: bad request"), code=_entry_code(first))
    code = _code(body)
    stat = body.get("stat")
    failed = (code is not None and code not in (str(ST_OK), str(ST_CLIENT_IP_OK))) or (
        isinstance(stat, str) and stat.strip().lower() != "ok"
    )
    if status >= 400 and not failed:
        raise BrokerRejected(
            _message(body, f"Kotak {what}: refused with HTTP {status}"), code=code or str(status)
        )
    if not failed:
        return body
    if code == str(ST_NO_DATA):
        if empty_ok:
            return NO_DATA
        if not_found_ok:
            raise OrderNotFound(_message(body, "No Data"), code=code)
    said = _duplicate_tag_text(body)
    if place and (code in ST_DUPLICATE_TAG or said):
        raise DuplicateTag(
            f"Kotak {what}: an order with this tag already exists "
            f"({said or _message(body, 'tag already used')})",
            code=code,
        )
    message = _message(body, f"Kotak {what} failed")
    raise error_for_code(code, message, kind=kind, place=place and status < 400)


def path_missing(response: httpx.Response) -> bool:
    """True when the server says it does not serve this path at all: HTTP 404 or 405 (an API
    gateway's "no matching resource"). Used to choose between the two positions paths (ref §6.1).
    A 404 that carries Kotak's 5203 "No Data" envelope is an empty answer, not a missing path."""
    if response.status_code not in (404, 405):
        return False
    body = parse_json(response.content)
    return not (isinstance(body, dict) and _code(body) == str(ST_NO_DATA))


def login_data(response: httpx.Response, *, step: str) -> dict[str, Any]:
    """Login and validate follow their own envelope (ref §2.1, §8 shape 2): success only when
    `data.status == "success"` with `token` and `sid` present. Credential failures are `AuthError`
    (a human must fix the config); gateway trouble stays `Throttled` / `BrokerUnavailable`."""
    what = f"login ({step})"
    raise_if_throttled(response, what)
    status = response.status_code
    if status >= 500:
        raise BrokerUnavailable(f"Kotak {what}: server error HTTP {status}", code=str(status))
    body = parse_json(response.content)
    if body is NOT_JSON or not isinstance(body, dict):
        if status in (401, 403):
            raise AuthError(f"Kotak {what}: access token refused (HTTP {status})", code=str(status))
        raise BrokerUnavailable(f"Kotak {what}: unreadable reply (not JSON)")
    data = body.get("data")
    if isinstance(data, dict) and str(data.get("status", "")).lower() == "success":
        if data.get("token") and data.get("sid"):
            return data
        raise AuthError(f"Kotak {what}: reply had no session token")
    fault = body.get("fault")
    if isinstance(fault, dict) and str(fault.get("code")) == GATEWAY_THROTTLED:
        raise Throttled(f"Kotak {what}: {_message(fault, 'throttled')}", code=GATEWAY_THROTTLED)
    errors = body.get("error")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        raise AuthError(
            f"Kotak {what}: {_message(errors[0], 'missing field')}", code=_entry_code(errors[0])
        )
    if status in (401, 403):
        raise AuthError(
            f"Kotak {what}: access token refused: {_message(body, f'HTTP {status}')}",
            code=str(status),
        )
    raise AuthError(f"Kotak {what}: {_message(body, 'refused')}", code=_code(body))
