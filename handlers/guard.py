"""Authorization, the account a request acts on, audit and error rendering around every handler.

Deny by default, on messages *and* button taps: a user allowed on no account gets one refusal
line and nothing else. The guard then picks the account: a command's first word when it names
one of the user's accounts (`/buy mom NSE:SBIN 10`; the word is taken off the arguments), a
button's `@name` suffix (every keyboard made for an account carries it, see `in_room`), else the
user's default account; the role checked is the user's role on *that* account, and the handler
gets the services acting on it. Every command and tap is written to the audit table before the
handler acts (a Confirm tap's line in the same commit as its claim, see `claim_tap`), and its
outcome after. A `UserError` becomes its plain sentence (plus the usage
line); anything else becomes one apologetic line, never a traceback.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import ContextTypes

from bot.errors import UserError
from bot.notify import Button, Keyboard
from bot.services import Room, Services
from bot.settings import Role
from bot.store import AuditLine
from handlers.render.markup import esc

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
CommandFn = Callable[[Update, Context, Services], Awaitable[None]]
# python-telegram-bot wants handler callbacks that are coroutine functions, not any awaitable.
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

NOT_ALLOWED = "Sorry, this is a private bot."
INTERNAL_ERROR = "Something went wrong on my side; nothing was sent to the broker."
TAP_FAILED = "Something went wrong on my side. Check /orders before you try again."


def services_of(context: Context) -> Services:
    services = context.bot_data["services"]
    assert isinstance(services, Services), "bot.app wires Services into bot_data"
    return services


def error_text(exc: UserError) -> str:
    text = esc(exc.text)
    if exc.usage:
        text += f"\nUsage: <code>{esc(exc.usage)}</code>"
    return text


def role_refusal(role: Role, needed: Role, room: Room | None = None) -> str:
    where = f" on {room.label}" if room is not None else ""
    return f"Your role{where} ({role.value}) cannot do this; it needs {needed.value} access."


# What a keyboard made for an account appends to each button's data, and the pattern that
# accepts it (account names are `[a-z][a-z0-9-]{0,15}`, see bot.accounts.config).
ROOM_SEPARATOR = "@"
ROOM_SUFFIX = r"(?:@[a-z][a-z0-9-]{0,15})?"


def in_room(keyboard: Keyboard, room: Room | str) -> Keyboard:
    """`keyboard` with every button naming `room`, so a tap acts on the account it was made for
    whatever the user's default is by then (and a confirmation is valid only for it)."""
    suffix = ROOM_SEPARATOR + (room if isinstance(room, str) else room.name)
    return [[Button(b.text, b.data + suffix) for b in row] for row in keyboard]


def _room_role(
    services: Services, user_id: int, room: Room | None, per_account: bool
) -> tuple[Role | None, Room | None]:
    """The role that counts for this request: on its account, or (`per_account=False`, for
    what is about the bot rather than an account) the user's highest anywhere."""
    if not per_account or room is None:
        return services.best_role(user_id), None
    return room.role_of(user_id), (room if services.several else None)


def command(needed: Role, *, per_account: bool = True) -> Callable[[CommandFn], Handler]:
    """Wrap a command handler: pick the account, check the role on it, audit, render errors."""

    def wrap(fn: CommandFn) -> Handler:
        @functools.wraps(fn)
        async def handler(update: Update, context: Context) -> None:
            services = services_of(context)
            user, chat, message = update.effective_user, update.effective_chat, update.message
            if user is None or chat is None or message is None:
                return
            audit_id = await services.store.audit.add(
                user.id, "command", (message.text or "")[:300]
            )
            if services.best_role(user.id) is None:
                await services.store.audit.set_outcome(audit_id, "refused: not allowed")
                await services.notifier.send(chat.id, NOT_ALLOWED)
                return
            try:
                # A command about the bot rather than an account (/account, /help) keeps its
                # words: `/account mom` names the account to switch to, not one to act on.
                room, words = (
                    services.pick(user.id, context.args or [])
                    if per_account
                    else (services.default_room(user.id), list(context.args or []))
                )
            except UserError as exc:
                await services.store.audit.set_outcome(audit_id, f"refused: {exc.reason}")
                await services.notifier.send(chat.id, error_text(exc))
                return
            context.args = words
            role, named = _room_role(services, user.id, room, per_account)
            if role is None or not role.allows(needed):
                await services.store.audit.set_outcome(audit_id, "refused: role")
                await services.notifier.send(
                    chat.id, esc(role_refusal(role or Role.VIEWER, needed, named))
                )
                return
            if room is not None:
                services = services.at(room)
            try:
                await fn(update, context, services)
            except UserError as exc:
                await services.store.audit.set_outcome(audit_id, f"refused: {exc.reason}")
                await services.notifier.send(chat.id, error_text(exc))
                return
            except Exception:
                log.exception("command failed")
                await services.store.audit.set_outcome(audit_id, "error")
                await services.notifier.send(chat.id, INTERNAL_ERROR)
                return
            await services.store.audit.set_outcome(audit_id, "ok")

        return handler

    return wrap


TapFn = Callable[[Update, Context, Services, str], Awaitable[str]]
ClaimTapFn = Callable[[Update, Context, Services, str, AuditLine], Awaitable[str]]


async def answer_quietly(query: CallbackQuery, text: str) -> None:
    """Answer a tap (clearing its spinner), never raising: a tap answered twice or too late is
    refused by Telegram, and that must not turn one failure into two."""
    try:
        await query.answer(text[:200], show_alert=False)
    except Exception:
        log.warning("could not answer a button tap", exc_info=True)


def _tap_room(services: Services, user_id: int, data: str) -> tuple[Room | None, str]:
    """The account a button names (its `@name` suffix; an older button without one acts on the
    user's default account) and the data without the suffix."""
    body, separator, name = data.rpartition(ROOM_SEPARATOR)
    if not separator:
        return services.default_room(user_id), data
    return services.named(user_id, name), body


def tap(needed: Role, *, per_account: bool = True) -> Callable[[TapFn], Handler]:
    """Wrap a button handler. The allowlist is checked here because `filters.User` only guards
    messages. The wrapped function gets the data without its account suffix and returns the
    audit outcome; it must answer the query itself (refusals raised as UserError are answered
    here, as a short toast, and so is an unexpected failure, in one plain sentence: a tap never
    keeps spinning). The tap's audit line is written before the wrapped function runs."""

    def wrap(fn: TapFn) -> Handler:
        async def act(
            update: Update, context: Context, services: Services, data: str, line: AuditLine
        ) -> str:
            await line.write()
            return await fn(update, context, services, data)

        return functools.wraps(fn)(_tap_handler(needed, act, per_account))

        return functools.wraps(fn)(_tap_handler(needed, act))

    return wrap


def claim_tap(needed: Role) -> Callable[[ClaimTapFn], Handler]:
    """`tap`, for a handler that claims something in the store before it acts (Confirm): it
    gets the tap's audit line unwritten and puts `line.step` in the claim's unit of work, so
    the line and the claim are one commit and one trip to the database thread before the order
    leaves, not two. A tap refused before that unit (not its owner, already answered) gets its
    line with the outcome, in one insert."""

    def wrap(fn: ClaimTapFn) -> Handler:
        return functools.wraps(fn)(_tap_handler(needed, fn, True))

    return wrap


def _tap_handler(needed: Role, fn: ClaimTapFn, per_account: bool) -> Handler:
    async def handler(update: Update, context: Context) -> None:
        services = services_of(context)
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        data = query.data or ""
        line = services.store.audit.line(user.id, "tap", data[:64])
        try:
            room, data = _tap_room(services, user.id, data)
            role, named = _room_role(services, user.id, room, per_account)
        except UserError:
            role, named = None, None
        if role is None or not role.allows(needed):
            text = NOT_ALLOWED if role is None else role_refusal(role, needed, named)
            await line.close("refused: not allowed")
            await answer_quietly(query, text)
            return
        if room is not None:
            services = services.at(room)
        try:
            outcome = await fn(update, context, services, data, line)
        except UserError as exc:
            await answer_quietly(query, exc.text)
            await line.close(f"refused: {exc.reason}")
            return
        except Exception:
            log.exception("button handler failed")
            await answer_quietly(query, TAP_FAILED)
            await line.close("error")
            return
        await line.close(outcome)

    return handler
