"""Kotak adapter settings. Secrets are plain `str` fields kept out of `repr`
(style.md "Avoid" 8)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from brokers.kotak.constants import DEFAULT_LOGIN_URL, DEFAULT_SEGMENTS
from brokers.timeouts import CallTimeouts

KotakTimeouts = CallTimeouts  # the same budgets as the other adapter (brokers.timeouts)


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
