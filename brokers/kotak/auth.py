"""Kotak session state and the credential headers each call kind carries.

Ref §2.4 is the authority: the access token rides in `Authorization` (no `Bearer`) on login,
validate, get-client-ip, orders and market data; `Auth` + `Sid` carry the view pair on validate only
and the trade pair everywhere else; reports carry no `Authorization`; market data carries nothing
else; `neo-fin-key` goes on the two login calls only. The CDN gets no credentials at all (§7.2).
Nothing in this module logs: the values here are exactly what must never reach a log line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from brokers.errors import AuthError
from brokers.kotak.constants import NEO_FIN_KEY, CallKind

_MOBILE_DIGITS = re.compile(r"\d{10}")


@dataclass(frozen=True, slots=True)
class TradeSession:
    """What tradeApiValidate produced (ref §2.6). Token and sid are secrets: kept out of repr."""

    token: str = field(repr=False)
    sid: str = field(repr=False)
    base_url: str
    data_center: str
    ucc: str
    created_at: datetime
    feed_url: str = ""  # optional `feedUrl` from validate (ref §2.2)
    rt_url: str = ""  # optional `rtUrl` from validate (ref §2.2)


def normalize_mobile(mobile: str) -> str:
    """Return `+91` followed by the 10 digits. OpenAlgo always normalises this way (ref §2.1); the
    SDK passes the input through, so a bare 10-digit number would be sent without the prefix."""
    digits = re.sub(r"[\s\-()]", "", mobile)
    if digits.startswith("+91"):
        digits = digits[3:]
    elif len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    if not _MOBILE_DIGITS.fullmatch(digits):
        raise AuthError("Kotak login: the configured mobile number is not a 10-digit Indian number")
    return "+91" + digits


def headers_for(
    kind: CallKind,
    *,
    access_token: str,
    session: TradeSession | None = None,
    view: tuple[str, str] | None = None,
) -> dict[str, str]:
    """Credential headers for one call kind, exactly as ref §2.4 lays them out.

    `view` is the (token, sid) pair from tradeApiLogin, used for validate only. Content-Type is left
    to httpx: it sets `application/json` for `json=` and `application/x-www-form-urlencoded` for
    `data=` (ref §3), and nothing on bodiless GETs, which the server ignores anyway (ref §2.4).
    """
    if kind is CallKind.CDN:
        return {}
    if kind is CallKind.LOGIN:
        return {
            "Authorization": access_token,
            "neo-fin-key": NEO_FIN_KEY,
            "Accept": "application/json",
        }
    if kind is CallKind.VALIDATE:
        if view is None:
            raise AuthError("Kotak login: validate called without the TOTP step")
        token, sid = view
        return {
            "Authorization": access_token,
            "sid": sid,
            "Auth": token,
            "neo-fin-key": NEO_FIN_KEY,
            "Accept": "application/json",
        }
    if kind is CallKind.MARKET_DATA:
        return {"Authorization": access_token, "Accept": "application/json"}
    if session is None:  # pragma: no cover - the client checks before building headers
        raise AuthError("Kotak: no session")
    trade = {"Auth": session.token, "Sid": session.sid, "Accept": "application/json"}
    if kind in (CallKind.ORDERS, CallKind.CLIENT_IP):
        return {"Authorization": access_token, **trade}
    return trade  # CallKind.REPORTS
