"""The wall clock, in one place: every service takes a `now` callable defaulting to this, so tests
inject a clock instead of waiting on the real one."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """Aware UTC now; stored timestamps are always UTC."""
    return datetime.now(UTC)
