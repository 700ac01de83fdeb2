"""mStock adapter settings. Secrets are plain `str` fields kept out of `repr`
(style.md "Avoid" 8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from brokers.mstock.constants import DEFAULT_BASE_URL, DEFAULT_WS_URL
from brokers.timeouts import CallTimeouts

MStockTimeouts = CallTimeouts  # the same budgets as the other adapter (brokers.timeouts)


@dataclass(frozen=True, slots=True)
class MStockConfig:
    """One mStock Type B account (ref §2.1, OpenAlgo's set-up page).

    `client_code` is the login id (BROKER_API_KEY), `api_key` the Type B API key from Trading
    APIs (BROKER_API_SECRET, sent as `X-PrivateKey`), `password` the trading password. The TOTP
    seed is never here: the account passes the current code to `login(otp)`. `cache_dir` holds
    the day's instrument master; `base_url` is MSTOCK_BASE_URL, `ws_url` the ticker websocket
    that carries order updates (MSTOCK_WS_URL).
    """

    client_code: str
    api_key: str = field(repr=False)
    password: str = field(repr=False)
    cache_dir: Path
    base_url: str = DEFAULT_BASE_URL
    ws_url: str = DEFAULT_WS_URL
    timeouts: MStockTimeouts = field(default_factory=MStockTimeouts)
    # Freeze quantity per underlying: the master has none (rules.md §3.4, MSTOCK_FREEZE_QTY).
    freeze_qty: Mapping[str, int] = field(default_factory=dict)

    @property
    def key_prefix(self) -> str:
        """The first characters of the API key, enough to tell keys apart on the Trading APIs
        page (IPs are registered per key, ref §9) and too few to be of use to anyone."""
        return self.api_key.strip()[:4]
