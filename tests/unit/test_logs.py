"""Log lines say their time zone: ISO 8601 in IST with the offset, whatever the host's zone."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from bot.logs import setup_logging


def test_timestamps_are_iso_8601_in_ist_with_the_offset() -> None:
    setup_logging("INFO", [])
    [ours] = [h for h in logging.getLogger().handlers if type(h).__name__ == "_ConsoleHandler"]
    record = logging.LogRecord("bot.app.run", logging.INFO, __file__, 1, "bot is running", (), None)
    record.created = datetime(2026, 4, 1, 3, 45, 0, 123_000, tzinfo=UTC).timestamp()
    record.msecs = 123.0

    line = ours.format(record)

    assert line == "2026-04-01T09:15:00.123+05:30 INFO bot.app.run: bot is running"
    assert re.fullmatch(r"\S+T\S+\+05:30 INFO .*", line)
