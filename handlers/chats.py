"""Which chats the bot serves, and what a stranger gets: the screen in front of every handler.

Private chats only, unless a group's id is in TELEGRAM_ALLOWED_CHATS: in any other group or
channel the bot stays silent and writes nothing, so adding it to a group cannot make it post
cards or the order book there. In a group it does serve, only commands are for it (not the
chat's conversation).

A user not in TELEGRAM_ALLOWED_USERS gets one refusal, which tells them their numeric Telegram
id (what the owner must add to TELEGRAM_ALLOWED_USERS: Telegram shows it nowhere in its app),
written once to the audit trail, and then silence; their button taps are still answered (every
tap is), with a toast and no write.
Strangers cannot make the database grow without bound: each is refused (and audited) once while
remembered, at most `remember` of them are remembered, and at most `refusals_per_hour` first
refusals are written in any clock hour, whatever the number of strangers.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, TypeHandler

from handlers.guard import NOT_ALLOWED, Context, services_of

__all__ = ["Doorman", "screen"]


def _refusal(user_id: int) -> str:
    return (
        f"{NOT_ALLOWED} Your Telegram id is <code>{user_id}</code>: if you should have access, "
        "send it to the bot's owner."
    )


class Doorman:
    """The rules of the screen, free of Telegram objects so they are easy to state and test."""

    def __init__(
        self,
        allowed_chats: frozenset[int] = frozenset(),
        *,
        remember: int = 10_000,
        refusals_per_hour: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._allowed_chats = allowed_chats
        self._remember = remember
        self._per_hour = refusals_per_hour
        self._clock = clock
        self._refused: OrderedDict[int, None] = OrderedDict()
        self._hour_started = clock()
        self._refusals_this_hour = 0

    def serves(self, chat_type: str, chat_id: int) -> bool:
        return chat_type == ChatType.PRIVATE or chat_id in self._allowed_chats

    def first_refusal(self, user_id: int) -> bool:
        """True when this stranger should get the one refusal (and its audit line) now; False
        for every later message, and for every stranger once the hour's budget is spent."""
        if user_id in self._refused:
            self._refused.move_to_end(user_id)
            return False
        now = self._clock()
        if now - self._hour_started >= 3600:
            self._hour_started, self._refusals_this_hour = now, 0
        if self._refusals_this_hour >= self._per_hour:
            return False
        self._refusals_this_hour += 1
        self._refused[user_id] = None
        if len(self._refused) > self._remember:
            self._refused.popitem(last=False)
        return True


def screen(doorman: Doorman) -> TypeHandler[Update, Context, None]:
    """The handler to register in group -1, ahead of all others: it lets through updates from
    allowed users in served chats and ends everything else here (`ApplicationHandlerStop`)."""

    async def check(update: Update, context: Context) -> None:
        chat, user, query = update.effective_chat, update.effective_user, update.callback_query
        if chat is None or user is None:
            raise ApplicationHandlerStop
        if not doorman.serves(chat.type, chat.id):
            if query is not None:
                await query.answer()  # stop the spinner, say nothing
            raise ApplicationHandlerStop
        if chat.type != ChatType.PRIVATE and query is None and not _text(update).startswith("/"):
            raise ApplicationHandlerStop  # the group's own conversation
        services = services_of(context)
        if services.best_role(user.id) is not None:
            return
        if doorman.first_refusal(user.id):
            kind, what = ("tap", query.data or "") if query else ("command", _text(update))
            audit_id = await services.store.audit.add(user.id, kind, what[:300])
            await services.store.audit.set_outcome(audit_id, "refused: not allowed")
            if query is None:
                await services.notifier.send(chat.id, _refusal(user.id))
        if query is not None:
            await query.answer(NOT_ALLOWED)
        raise ApplicationHandlerStop

    return TypeHandler(Update, check)


def _text(update: Update) -> str:
    message = update.message
    return (message.text or "") if message is not None else ""
