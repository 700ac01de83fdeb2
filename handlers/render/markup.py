"""The HTML helpers every renderer uses: Telegram's HTML parse mode, escaped values, plain text
for the fallback when Telegram refuses the markup."""

from __future__ import annotations

import html
import re

__all__ = ["esc", "html_to_plain"]

_TAG_RE = re.compile(r"<[^>]+>")


def esc(value: object) -> str:
    """HTML-escape a dynamic value (symbols like M&M, broker reasons with <, user text)."""
    return html.escape(str(value), quote=True)


def html_to_plain(text: str) -> str:
    """What a message says without its markup: sent when Telegram cannot parse the HTML."""
    return html.unescape(_TAG_RE.sub("", text))
