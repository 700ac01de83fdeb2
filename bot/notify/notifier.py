"""The one sender for everything the bot says in Telegram.

Command replies and pushes (fills, rejections, session problems) all go through `Notifier`, so
splitting at Telegram's length limit, the plain-text fallback after a markup error, flood control
(`retry_after`) and per-chat pacing live in exactly one place. The Telegram specifics sit behind
the small `Outbox` protocol and the words of each event behind a `Renderer`, both implemented in
`handlers/`: the core stays transport-free and markup-free, and tests can count what was sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.notify.events import AdminEvent, CardRef, CardUpdate, Event, UserEvent

log = logging.getLogger(__name__)
T = TypeVar("T")

# Telegram counts message length in UTF-16 code units (entity offsets do); stay well under 4096.
MAX_UNITS = 4000
# How many cards' last shown revision are remembered: far more than are edited in one session.
_CARD_MEMORY = 4096


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
    """Telegram could not parse the markup; the same text can go out without it."""


class SendFailed(Exception):
    """A transient failure (network, 5xx): the caller may retry."""


class ChatUnreachable(Exception):
    """Telegram will not deliver to this user: they never opened the bot and pressed Start (a
    bot cannot write first), or they blocked it. Retrying does not help; they must act."""


class Outbox(Protocol):
    """Sends rendered text. With `markup=False` the outbox sends the same text stripped of its
    markup (the fallback after `BadMarkup`)."""

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: bool,
        keyboard: Keyboard | None,
        disable_notification: bool = False,
    ) -> int: ...

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, markup: bool, keyboard: Keyboard | None
    ) -> None: ...


class Renderer(Protocol):
    """Turns a core event into the text the outbox sends."""

    def __call__(self, event: UserEvent | AdminEvent, /) -> str: ...


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


class Notifier:
    def __init__(
        self,
        outbox: Outbox,
        render: Renderer,
        *,
        admins: Sequence[int] = (),
        chat_interval: float = 1.0,
        max_retries: int = 3,
        preference: Callable[[int, Event], Awaitable[str]] | None = None,
    ) -> None:
        """`preference(chat_id, event)`: "on", "silent" (sent without a sound) or "off"
        (not sent) for a push; every push is "on" without it."""
        self._outbox = outbox
        self._render = render
        self._admins = tuple(admins)
        self._chat_interval = chat_interval
        self._max_retries = max_retries
        self._next_slot: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._card_locks: dict[int, asyncio.Lock] = {}
        self._card_revisions: dict[CardRef, int] = {}
        self._posting: set[asyncio.Task[None]] = set()
        self._preference = preference

    async def _choice(self, chat_id: int, event: Event) -> str:
        return "on" if self._preference is None else await self._preference(chat_id, event)

    async def send(
        self, chat_id: int, text: str, keyboard: Keyboard | None = None, *, silent: bool = False
    ) -> int:
        """Send rendered `text` (split if long; the keyboard goes on the last part). Returns the
        message id of the last part."""
        parts = split_message(text)
        message_id = 0
        for i, part in enumerate(parts):
            kb = keyboard if i == len(parts) - 1 else None

            async def attempt(markup: bool, part: str = part, kb: Keyboard | None = kb) -> int:
                return await self._outbox.send(
                    chat_id, part, markup=markup, keyboard=kb, disable_notification=silent
                )

            message_id = await self._deliver(attempt)
        return message_id

    async def edit(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None
    ) -> None:
        """Edit a message to show `text` whole: a text too long for one message is edited in
        with its first part and the rest follows as new messages (the keyboard goes on the
        last part), so a 40-slice outcome is never cut."""
        first, *rest = split_message(text)

        async def attempt(markup: bool) -> None:
            kb = None if rest else keyboard
            await self._outbox.edit(chat_id, message_id, first, markup=markup, keyboard=kb)

        await self._deliver(attempt)
        if rest:
            await self.send(chat_id, "\n".join(rest), keyboard)

    async def edit_card(
        self, card: CardRef, text: str, *, revision: int, best_effort: bool = False
    ) -> None:
        """Show `text` on a confirmation card, unless the card already shows a later revision
        (edits of one chat's cards are made one at a time, so none lands out of order). Never
        raises. `best_effort` (progress): one attempt, and a failure is only logged. Otherwise
        flood control is waited out and, when the card cannot be edited at all (deleted, too
        old), the text is sent as a new message so the user still reads it."""
        lock = self._card_locks.setdefault(card.chat_id, asyncio.Lock())
        async with lock:
            if revision <= self._card_revisions.get(card, 0):
                return
            self._remember(card, revision)
            if best_effort:
                await self._try_progress(card, text)
                return
            try:
                await self.edit(card.chat_id, card.message_id, text)
            except Exception:
                log.warning("could not edit card %s; sending it as a message", card, exc_info=True)
            else:
                return
            try:
                await self.send(card.chat_id, text)
            except Exception:
                log.exception("could not deliver a card's outcome to chat %s", card.chat_id)

    async def _try_progress(self, card: CardRef, text: str) -> None:
        try:
            await self._outbox.edit(
                card.chat_id, card.message_id, split_message(text)[0], markup=True, keyboard=None
            )
        except Exception:
            log.warning("progress edit of card %s failed; the batch goes on", card, exc_info=True)

    def _remember(self, card: CardRef, revision: int) -> None:
        self._card_revisions.pop(card, None)
        self._card_revisions[card] = revision
        if len(self._card_revisions) > _CARD_MEMORY:
            del self._card_revisions[next(iter(self._card_revisions))]

    async def publish(self, event: UserEvent) -> None:
        """Deliver an order event: a card update edits its card, anything else is pushed to
        the chat it belongs to. Never raises."""
        if isinstance(event, CardUpdate):
            try:
                text = self._render(event)
            except Exception:
                log.exception("could not render a card update")
                return
            await self.edit_card(event.card, text, revision=event.revision)
            return
        choice = await self._choice(event.chat_id, event)
        if choice != "off":
            await self.push(event.chat_id, self._render(event), silent=choice == "silent")

    async def tell_admins(self, event: AdminEvent, *, wait: bool = False) -> None:
        """Post a session/IP/gate event to every admin without waiting on Telegram pacing
        (it is raised inside work such as a login during an order call); with `wait`, until
        it is delivered (the stop notice, sent before the process ends)."""
        text = self._render(event)
        for admin in self._admins:
            choice = await self._choice(admin, event)
            if choice == "off":
                continue
            if wait:
                await self.push(admin, text, silent=choice == "silent")
            else:
                self.post(admin, text, silent=choice == "silent")

    def post(self, chat_id: int, text: str, *, silent: bool = False) -> None:
        """`push` without waiting: for notices raised inside work that must not stall on
        Telegram pacing (a login inside an order call). Per-chat order is kept by the lock."""
        task = asyncio.get_running_loop().create_task(self.push(chat_id, text, silent=silent))
        self._posting.add(task)
        task.add_done_callback(self._posting.discard)

    async def push(
        self, chat_id: int, text: str, keyboard: Keyboard | None = None, *, silent: bool = False
    ) -> None:
        """An unsolicited message (fill, rejection, alert): paced per chat so a burst of fills
        does not trip Telegram's flood control. Never raises: a push that cannot be delivered
        is logged, and trading-side work goes on. `keyboard`: buttons under it (an alert's)."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            wait = self._next_slot.get(chat_id, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                await self.send(chat_id, text, keyboard, silent=silent)
            except ChatUnreachable as exc:
                log.warning("could not deliver a notification to chat %s: %s", chat_id, exc)
            except Exception:
                log.exception("could not deliver a notification to chat %s", chat_id)
            finally:
                self._next_slot[chat_id] = time.monotonic() + self._chat_interval

    async def _deliver(self, call: Callable[[bool], Awaitable[T]]) -> T:
        """Try with markup; fall back to plain text once on a markup error; wait out flood
        control and transient failures up to `max_retries` times."""
        markup = True
        attempt = 0
        while True:
            try:
                return await call(markup)
            except BadMarkup:
                if not markup:
                    raise
                log.warning("markup rejected by Telegram; sending as plain text")
                markup = False
            except (FloodWait, SendFailed) as exc:
                attempt += 1
                if attempt > self._max_retries:
                    raise
                if isinstance(exc, FloodWait):
                    await asyncio.sleep(exc.retry_after + 0.1)
                else:
                    await asyncio.sleep(min(2**attempt, 10))
