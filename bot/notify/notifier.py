"""The one door to Telegram for everything the bot says.

Command replies and card edits go straight out (`send`, `edit`, `edit_card`): the user is
waiting for them, and they are retried a few times. Every push the user did not ask for (a
fill, a rejection, an alert, a session notice) goes through the persistent outbox instead
(`publish`, `push`): it is written to SQLite and delivered by the one `Sender`, paced, in order,
coalesced, retried for as long as Telegram is away and across restarts. A card outcome that
cannot be edited in for good (card deleted, Telegram down) becomes such a push, so the user
learns it either way. The Telegram specifics sit behind the small `Outbox` protocol and the
words of each event behind a `Renderer`, both implemented in `handlers/`: the core stays
transport-free and markup-free, and tests can count what was sent.

Each push passes a `preference(user_id, event)` hook ("on", "silent" or "off") before it is
written, so the per-user notification settings (`bot.notify.preferences`) plug in without
touching the delivery.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, Protocol, TypeVar

from bot.notify.events import (
    AdminEvent,
    AlertTriggered,
    CardRef,
    CardUpdate,
    ChangeSettled,
    Event,
    OrderEvent,
    OrderNotFound,
    OrdersLapsed,
    UserEvent,
)
from bot.notify.sender import Sender
from bot.notify.transport import (
    MAX_UNITS,
    BadMarkup,
    Button,
    ChatUnreachable,
    FloodWait,
    Keyboard,
    Outbox,
    SendFailed,
    split_message,
    utf16_len,
)

__all__ = [
    "MAX_UNITS",
    "BadMarkup",
    "Button",
    "ChatUnreachable",
    "FloodWait",
    "Keyboard",
    "Notifier",
    "Outbox",
    "Preference",
    "Renderer",
    "SendFailed",
    "always_on",
    "split_message",
    "utf16_len",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

# How many cards' last shown revision are remembered: far more than are edited in one session.
_CARD_MEMORY = 4096
# Pushes that may be merged into one message when several wait for a chat.
_ORDERS, _ALERTS, _ADMIN = "orders", "alerts", "admin"

Setting = Literal["on", "silent", "off"]


class Preference(Protocol):
    """A user's setting for one kind of event: sent, sent without a sound, or not sent."""

    def __call__(self, user_id: int, event: Event, /) -> Awaitable[Setting]: ...


async def always_on(user_id: int, event: Event, /) -> Setting:
    """The default without per-user settings: everything is sent, with a sound."""
    return "on"


class Renderer(Protocol):
    """Turns a core event into the text the outbox sends."""

    def __call__(self, event: UserEvent | AdminEvent, /) -> str: ...


class Notifier:
    def __init__(
        self,
        outbox: Outbox,
        render: Renderer,
        *,
        sender: Sender,
        admins: Sequence[int] = (),
        max_retries: int = 3,
        preference: Preference = always_on,
    ) -> None:
        self._outbox = outbox
        self._render = render
        self._sender = sender
        self._admins = tuple(admins)
        self._max_retries = max_retries
        self._preference = preference
        self._card_locks: dict[int, asyncio.Lock] = {}
        self._card_revisions: dict[CardRef, int] = {}
        self._editing: set[asyncio.Task[None]] = set()

    async def send(self, chat_id: int, text: str, keyboard: Keyboard | None = None) -> int:
        """Send a reply now (split if long; the keyboard goes on the last part). Returns the
        message id of the last part. For replies the user is waiting for; pushes use `push`."""
        parts = split_message(text)
        message_id = 0
        for i, part in enumerate(parts):
            kb = keyboard if i == len(parts) - 1 else None

            async def attempt(markup: bool, part: str = part, kb: Keyboard | None = kb) -> int:
                return await self._outbox.send(chat_id, part, markup=markup, keyboard=kb)

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
        flood control is waited out and, when the card cannot be edited for good (deleted, too
        old, Telegram away), the text goes through the outbox as a message: the outcome of an
        order (placed, rejected, filled) reaches the user whatever became of the card."""
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
                log.warning(
                    "could not edit card %s; its text goes out as a message", card, exc_info=True
                )
            else:
                return
            await self._enqueue(card.chat_id, text, silent=False, coalesce_key=None)

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
        """Deliver an order event: a card update edits its card (in the background, so the
        tracker never waits on Telegram; edits of one chat still land in order), anything else
        is written to the outbox for the chat it belongs to (as the user's preference says).
        Never raises."""
        try:
            text = self._render(event)
        except Exception:
            log.exception("could not render a %s", type(event).__name__)
            return
        if isinstance(event, CardUpdate):
            edit = self.edit_card(event.card, text, revision=event.revision)
            task = asyncio.get_running_loop().create_task(edit)
            self._editing.add(task)
            task.add_done_callback(self._editing.discard)
            return
        user = event.user_id if isinstance(event, AlertTriggered) else event.chat_id
        setting = await self._setting(user, event)
        if setting == "off":
            return
        key = _ALERTS if isinstance(event, AlertTriggered) else _coalesce_key(event)
        await self._enqueue(event.chat_id, text, silent=setting == "silent", coalesce_key=key)

    async def settled(self) -> None:
        """Wait for the card edits `publish` started: at shutdown, so an outcome is shown or
        written to the outbox before the sender stops."""
        while self._editing:
            await asyncio.gather(*self._editing)

    def for_account(
        self, account: str, *, paper: bool, cards: bool = True
    ) -> Callable[[UserEvent], Awaitable[None]]:
        """`publish` for one account's services (its tracker, desk, watches): every event about
        an order, and with `cards` every card update, is stamped with the account's label and
        whether it trades paper or live money."""
        stamped = (*_ABOUT_ORDERS, CardUpdate) if cards else _ABOUT_ORDERS

        async def publish(event: UserEvent) -> None:
            if isinstance(event, stamped):
                event = dataclasses.replace(event, account=account, paper=paper)
            await self.publish(event)

        return publish

    async def tell_admins(
        self, event: AdminEvent, *, wait: bool = False, admins: Sequence[int] | None = None
    ) -> None:
        """Post a session/IP/gate event to every admin (of the account it is about, when
        `admins` names them), through the outbox; with `wait`, until the admins' chats have
        nothing waiting (the start and stop notices; the caller bounds the wait)."""
        text = self._render(event)
        told = self._admins if admins is None else tuple(admins)
        for admin in told:
            setting = await self._setting(admin, event)
            if setting != "off":
                await self._enqueue(admin, text, silent=setting == "silent", coalesce_key=_ADMIN)
        if wait:
            await self._sender.drained(told)

    async def push(
        self,
        chat_id: int,
        text: str,
        keyboard: Keyboard | None = None,
        *,
        silent: bool = False,
        coalesce_key: str | None = None,
    ) -> None:
        """An unsolicited message (rendered text, with buttons under it when `keyboard`, e.g. an
        alert's): written to the outbox and delivered by the sender, paced per chat. Never
        raises: returns once the row is written."""
        await self._enqueue(
            chat_id, text, keyboard=keyboard, silent=silent, coalesce_key=coalesce_key
        )

    async def push_photo(
        self, chat_id: int, png: bytes, caption: str, *, silent: bool = False
    ) -> None:
        """A picture (the daily P&L chart) with a short rendered caption, through the outbox like
        every push. Never raises: returns once the row is written."""
        try:
            await self._sender.enqueue(chat_id, caption, silent=silent, photo=png)
        except Exception:
            log.exception("could not write a picture for chat %s to the outbox", chat_id)

    async def _setting(self, user_id: int, event: Event) -> Setting:
        """The user's preference; "on" when the hook fails (a notice too many beats one lost)."""
        try:
            return await self._preference(user_id, event)
        except Exception:
            log.exception("the notification preference failed for user %s; sending", user_id)
            return "on"

    async def _enqueue(
        self,
        chat_id: int,
        text: str,
        *,
        keyboard: Keyboard | None = None,
        silent: bool,
        coalesce_key: str | None,
    ) -> None:
        try:
            await self._sender.enqueue(
                chat_id, text, keyboard=keyboard, silent=silent, coalesce_key=coalesce_key
            )
        except Exception:
            log.exception("could not write a push for chat %s to the outbox", chat_id)

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


# Events about orders: they carry the account and its paper/live marker, and a burst of them
# for one chat (fills of a 40-slice order) may be coalesced into one message.
_ABOUT_ORDERS = (OrderEvent, OrderNotFound, ChangeSettled, OrdersLapsed)


def _coalesce_key(event: UserEvent) -> str | None:
    return _ORDERS if isinstance(event, _ABOUT_ORDERS) else None
