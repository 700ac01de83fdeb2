"""Kotak adapter settings. Secrets are plain `str` fields kept out of `repr`
(style.md "Avoid" 8)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from brokers.kotak.constants import DEFAULT_LOGIN_URL, DEFAULT_SEGMENTS


def _timeout(read: float, connect: float) -> httpx.Timeout:
    return httpx.Timeout(read, connect=connect, pool=connect)


@dataclass(frozen=True, slots=True)
class KotakTimeouts:
    """One explicit `httpx.Timeout` per call class (style.md "Absorb" 8).

    A connect/pool timeout means nothing was sent; a read/write timeout on `orders` means the
    outcome is unknown, so that budget is kept short enough for the user to get an answer and long
    enough not to abandon orders the OMS is still acknowledging.
    """

    login: httpx.Timeout = field(default_factory=lambda: _timeout(15.0, 5.0))
    orders: httpx.Timeout = field(default_factory=lambda: _timeout(10.0, 3.0))
    reports: httpx.Timeout = field(default_factory=lambda: _timeout(10.0, 5.0))
    market_data: httpx.Timeout = field(default_factory=lambda: _timeout(8.0, 5.0))
    master: httpx.Timeout = field(default_factory=lambda: _timeout(120.0, 10.0))


@dataclass(frozen=True, slots=True)
class KotakConfig:
    """One Kotak Neo account.

    `access_token` is the consumer key from the Neo API dashboard (sent bare in `Authorization`,
    ref §2); `mpin` is the static second factor. The TOTP seed is never here: the account passes
    the current code to `login(otp)`. `cache_dir` holds the day's scrip-master CSVs.
    """

    mobile: str = field(repr=False)
    ucc: str
    access_token: str = field(repr=False)
    mpin: str = field(repr=False)
    cache_dir: Path
    login_url: str = DEFAULT_LOGIN_URL
    timeouts: KotakTimeouts = field(default_factory=KotakTimeouts)
    segments: tuple[str, ...] = DEFAULT_SEGMENTS
