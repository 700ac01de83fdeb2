"""How "Telegram could not be reached" is said, by the bot and the doctor alike: the host and the
reason, without the exception class python-telegram-bot puts in front of the reason
("httpx.ConnectError: All connection attempts failed")."""

from __future__ import annotations

import re

import httpx
from telegram.error import NetworkError

__all__ = ["host_of", "telegram_unreachable"]

_CLASS_PREFIX = re.compile(r"^httpx\.\w+: ")


def host_of(url: str) -> str:
    """The host of `url`, or `url` itself when it has none."""
    try:
        return httpx.URL(url).host or url
    except (httpx.InvalidURL, TypeError):
        return url


def telegram_unreachable(base_url: str, exc: NetworkError) -> str:
    reason = _CLASS_PREFIX.sub("", exc.message) or "no answer"
    return f"Telegram could not be reached at {host_of(base_url)} ({reason})"
