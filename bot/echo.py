"""Quoting what the user typed back to them, capped.

A reply that repeats the user's text ("'SBIN' is not a symbol") must stay one readable line even
when the text was a pasted paragraph, so every echo goes through `clip` (or `echo`, which also
quotes it): at most `ECHO_LIMIT` characters, then "…".
"""

from __future__ import annotations

__all__ = ["ECHO_LIMIT", "clip", "echo"]

ECHO_LIMIT = 40


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` cut to `limit` characters plus "…"."""
    return text if len(text) <= limit else text[:limit] + "…"


def echo(text: str) -> str:
    """`text` clipped and in quotes, for a reply that names what was not understood."""
    return repr(clip(text))
