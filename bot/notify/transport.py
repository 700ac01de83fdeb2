"""The small vocabulary between the notifier and Telegram: the `Outbox` protocol that
`handlers/` implements, the few ways a send can fail, and Telegram's message length.

The core never sees a Telegram library: it hands rendered text to an `Outbox` and gets back a
message id or one of these errors, which tell the sender what to do next (wait, retry, send
without markup, or give up on this chat).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# Telegram counts message length in UTF-16 code units (entity offsets do); stay well under 4096.
MAX_UNITS = 4000


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    data: str


Keyboard = Sequence[Sequence[Button]]


class FloodWait(Exception):
    """Telegram said 'retry after N seconds' (HTTP 429): wait that long, then send again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class BadMarkup(Exception):
    """Telegram could not parse the markup; the same text can go out without it."""


class SendFailed(Exception):
    """A transient failure (network, 5xx): Telegram may be back in a moment; retry."""


class ChatUnreachable(Exception):
    """Telegram will not deliver to this user: they never opened the bot and pressed Start (a
    bot cannot write first), or they blocked it. Retrying does not help; they must act."""


class Outbox(Protocol):
    """Sends rendered text. With `markup=False` the outbox sends the same text stripped of its
    markup (the fallback after `BadMarkup`); `silent` delivers without a notification sound."""

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: bool,
        keyboard: Keyboard | None,
        silent: bool = False,
    ) -> int: ...

    async def send_photo(
        self, chat_id: int, png: bytes, caption: str, *, markup: bool, silent: bool = False
    ) -> int:
        """A picture with a short caption (Telegram allows 1,024 characters)."""
        ...

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, markup: bool, keyboard: Keyboard | None
    ) -> None: ...


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_UNITS) -> list[str]:
    """Split on line boundaries into parts of at most `limit` UTF-16 units. A single line longer
    than the limit is cut hard (rare: lines we render are short)."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        units = utf16_len(line) + 1
        while units > limit:  # an overlong line: cut it
            head, line = line[: limit // 2], line[limit // 2 :]
            if current:
                parts.append("\n".join(current))
                current, size = [], 0
            parts.append(head)
            units = utf16_len(line) + 1
        if size + units > limit and current:
            parts.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += units
    if current:
        parts.append("\n".join(current))
    return [p for p in parts if p.strip()] or [text[:limit]]
