"""mStock session state and the headers each call kind carries (ref §1 table).

`connect/login` carries only `X-Mirae-Version`; `session/verifytotp` adds `X-PrivateKey`; every
later call carries both plus `Authorization: Bearer <jwt>`. Content-Type is left to httpx: it
sets `application/json` for `json=` bodies and nothing on bodiless GETs (never the SDK's
literal "None", ref §1). Nothing in this module logs: its values must never reach a log line.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from brokers.mstock.constants import API_VERSION, IST, MAX_SESSION, CallKind


@dataclass(frozen=True, slots=True)
class TradeSession:
    """What verifytotp produced (ref §2.3). The JWT is a secret: kept out of repr."""

    jwt: str = field(repr=False)
    client_code: str
    created_at: datetime
    expires_at: datetime


def jwt_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, read without checking the signature (ref §2.6: the token's
    payload says when it ends; we only need to know when to log in again). None when the token
    is not a JWT or has no usable `exp`."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
        exp = claims.get("exp") if isinstance(claims, dict) else None
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            return None
        return datetime.fromtimestamp(exp, UTC)
    except (ValueError, binascii.Error, OverflowError, OSError):
        return None


def session_end(created: datetime, token: str) -> datetime:
    """When a session made at `created` stops working: the midnight IST that ends its day
    ("valid till 12:00 AM of generated day", ref §2.6), or 12 hours after it (the other doc
    copy), or the token's own `exp`, whichever comes first."""
    local = created.astimezone(IST)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), IST)
    ends = min(midnight, created + MAX_SESSION)
    exp = jwt_expiry(token)
    return min(ends, exp) if exp is not None else ends


def headers_for(kind: CallKind, *, api_key: str, session: TradeSession | None) -> dict[str, str]:
    """The credential headers for one call kind, exactly as ref §1 lays them out."""
    headers = {"X-Mirae-Version": API_VERSION, "Accept": "application/json"}
    if kind is CallKind.LOGIN:
        return headers
    headers["X-PrivateKey"] = api_key
    if kind is CallKind.VERIFY or session is None:
        return headers
    headers["Authorization"] = f"Bearer {session.jwt}"
    return headers
