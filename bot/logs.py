"""Logging set-up that keeps secrets out of every log line.

httpx logs each request URL at INFO, and a Telegram bot's URLs contain its token; broker adapters
handle session tokens. So: quiet httpx/httpcore to WARNING, and put a redacting filter on the
root handler that replaces every configured secret value wherever it appears.

Timestamps are ISO 8601 in Indian Standard Time with the offset written out
(`2026-04-01T09:15:00.123+05:30`): every time the bot shows a trader is IST, so the log reads the
same as the chat, and the offset makes it unambiguous on a server whose clock runs in UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

REDACTED = "***"
LOG_ZONE = ZoneInfo("Asia/Kolkata")


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self._secrets:
                text = text.replace(secret, REDACTED)
            record.exc_text = text
        return True


class _IsoFormatter(logging.Formatter):
    """`%(asctime)s` as ISO 8601 in IST, with milliseconds and the +05:30 offset."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, LOG_ZONE).isoformat(timespec="milliseconds")


class _ConsoleHandler(logging.StreamHandler[TextIO]):
    """Ours, so a second `setup_logging` (tests, the doctor) does not add another one."""


def setup_logging(level: str, secrets: Iterable[str]) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(h, _ConsoleHandler) for h in root.handlers):
        ours = _ConsoleHandler()
        ours.setFormatter(_IsoFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(ours)
    for handler in root.handlers:
        for f in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(f)
        handler.addFilter(RedactSecrets(secrets))
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
