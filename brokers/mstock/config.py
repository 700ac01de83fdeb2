"""mStock adapter settings. Secrets are plain `str` fields kept out of `repr`
(style.md "Avoid" 8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from brokers.mstock.constants import DEFAULT_BASE_URL


def _timeout(read: float, connect: float) -> httpx.Timeout:
    return httpx.Timeout(read, connect=connect, pool=connect)


@dataclass(frozen=True, slots=True)
class MStockTimeouts:
    """One explicit `httpx.Timeout` per call class (style.md "Absorb" 8). A connect/pool timeout
    means nothing was sent; a read/write timeout on `orders` means the outcome is unknown. The
    SDK waits 7 s on everything (ref §10); orders get a little more, the master much more."""

    login: httpx.Timeout = field(default_factory=lambda: _timeout(15.0, 5.0))
    orders: httpx.Timeout = field(default_factory=lambda: _timeout(10.0, 3.0))
    reports: httpx.Timeout = field(default_factory=lambda: _timeout(10.0, 5.0))
    market_data: httpx.Timeout = field(default_factory=lambda: _timeout(8.0, 5.0))
    master: httpx.Timeout = field(default_factory=lambda: _timeout(120.0, 10.0))


@dataclass(frozen=True, slots=True)
class MStockConfig:
    """One mStock Type B account (ref §2.1, OpenAlgo's set-up page).

    `client_code` is the login id (BROKER_API_KEY), `api_key` the Type B API key from Trading
    APIs (BROKER_API_SECRET, sent as `X-PrivateKey`), `password` the trading password. The TOTP
    seed is never here: the account passes the current code to `login(otp)`. `cache_dir` holds
    the day's instrument master; `base_url` is MSTOCK_BASE_URL.
    """

    client_code: str
    api_key: str = field(repr=False)
    password: str = field(repr=False)
    cache_dir: Path
    base_url: str = DEFAULT_BASE_URL
    timeouts: MStockTimeouts = field(default_factory=MStockTimeouts)
    # Freeze quantity per underlying: the master has none (rules.md §3.4, MSTOCK_FREEZE_QTY).
    freeze_qty: Mapping[str, int] = field(default_factory=dict)

    @property
    def key_prefix(self) -> str:
        """The first characters of the API key, enough to tell keys apart on the Trading APIs
        page (IPs are registered per key, ref §9) and too few to be of use to anyone."""
        return self.api_key.strip()[:4]
