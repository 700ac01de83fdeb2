"""The one sender for everything the bot says in Telegram.

Command replies and pushes (fills, rejections, session problems) all go through `Notifier`, so
splitting at Telegram's length limit, the plain-text fallback after an HTML parse error, flood
control (`retry_after`) and per-chat pacing live in exactly one place. The Telegram specifics sit
behind the small `Outbox` protocol (implemented in `handlers/outbox.py`); the core stays
transport-free and tests can count what was sent.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

# Telegram counts message length in UTF-16 code units (entity offsets do); stay well under 4096.
MAX_UNITS = 4000


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    data: str


Keyboard = Sequence[Sequence[Button]]


class FloodWait(Exception):
    """Telegram said 'retry after N seconds' (HTTP 429)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class BadMarkup(Exception):
    """Telegram could not parse the HTML; the same text can go out as plain text."""


class SendFailed(Exception):
    """A transient failure (network, 5xx): the caller may retry."""


class Outbox(Protocol):
    async def send(
        self, chat_id: int, text: str, *, html: bool, keyboard: Keyboard | None
    ) -> int: ...

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, html: bool, keyboard: Keyboard | None
    ) -> None: ...


def esc(value: object) -> str:
    """HTML-escape a dynamic value (symbols like M&M, broker reasons with <, user text)."""
    return html.escape(str(value), quote=True)


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


_TAG_RE = re.compile(r"<[^>]+>")


def html_to_plain(text: str) -> str:
    return html.unescape(_TAG_RE.sub("", text))


class Notifier:
    def __init__(self, outbox: Outbox, *, chat_interval: float = 1.0, max_retries: int = 3) -> None:
        self._outbox = outbox
        self._chat_interval = chat_interval
        self._max_retries = max_retries
        self._next_slot: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._posting: set[asyncio.Task[None]] = set()

    async def send(self, chat_id: int, text: str, keyboard: Keyboard | None = None) -> int:
        """Send HTML `text` (split if long; the keyboard goes on the last part). Returns the
        message id of the last part."""
        parts = split_message(text)
        message_id = 0
        for i, part in enumerate(parts):
            kb = keyboard if i == len(parts) - 1 else None
            message_id = await self._deliver(
                lambda p=part, k=kb, h=True: self._outbox.send(chat_id, p, html=h, keyboard=k),
                lambda p=part, k=kb: self._outbox.send(
                    chat_id, html_to_plain(p), html=False, keyboard=k
                ),
            )
        return message_id

    async def edit(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None
    ) -> None:
        text = split_message(text)[0]
        await self._deliver(
            lambda: self._outbox.edit(chat_id, message_id, text, html=True, keyboard=keyboard),
            lambda: self._outbox.edit(
                chat_id, message_id, html_to_plain(text), html=False, keyboard=keyboard
            ),
        )

    def post(self, chat_id: int, text: str) -> None:
        """`push` without waiting: for notices raised inside work that must not stall on
        Telegram pacing (a login inside an order call). Per-chat order is kept by the lock."""
        task = asyncio.get_running_loop().create_task(self.push(chat_id, text))
        self._posting.add(task)
        task.add_done_callback(self._posting.discard)

    async def push(self, chat_id: int, text: str) -> None:
        """An unsolicited message (fill, rejection, alert): paced per chat so a burst of fills
        does not trip Telegram's flood control. Never raises: a push that cannot be delivered
        is logged, and trading-side work goes on."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            wait = self._next_slot.get(chat_id, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                await self.send(chat_id, text)
            except Exception:
                log.exception("could not deliver a notification to chat %s", chat_id)
            finally:
                self._next_slot[chat_id] = time.monotonic() + self._chat_interval

    async def _deliver(
        self, html_call: Callable[[], Awaitable[T]], plain_call: Callable[[], Awaitable[T]]
    ) -> T:
        """Try HTML; fall back to plain text once on a parse error; wait out flood control and
        transient failures up to `max_retries` times."""
        call = html_call
        attempt = 0
        while True:
            try:
                return await call()
            except BadMarkup:
                if call is plain_call:
                    raise
                log.warning("HTML rejected by Telegram; sending as plain text")
                call = plain_call
            except (FloodWait, SendFailed) as exc:
                attempt += 1
                if attempt > self._max_retries:
                    raise
                if isinstance(exc, FloodWait):
                    await asyncio.sleep(exc.retry_after + 0.1)
                else:
                    await asyncio.sleep(min(2**attempt, 10))
