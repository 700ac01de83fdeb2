"""/limits, /resume and /pnl (issue 15): the daily limits, lifting a halt, the day's P&L."""

from __future__ import annotations

from telegram import Update

from bot.errors import UserError
from bot.orders.guard import LimitGuard
from bot.orders.limits import parse_limit_change
from bot.services import Services
from bot.settings import Role
from handlers.guard import Context, answer_quietly, command, in_room, tap
from handlers.render.limits import (
    KEEP_PREFIX,
    RESUME_PREFIX,
    kept_text,
    limits_text,
    pnl_text,
    resume_card,
    resumed_text,
)


def _guard(services: Services) -> LimitGuard:
    if services.limits is None:
        raise UserError("no_limits", "Daily limits are not available right now.")
    return services.limits


@command(Role.VIEWER)
async def limits(update: Update, context: Context, services: Services) -> None:
    """The daily limits and today's use; an admin changes one with `/limits loss 5000`."""
    user, chat = update.effective_user.id, update.effective_chat.id  # type: ignore[union-attr]
    guard = _guard(services)
    if context.args:
        role = services.role_of(user)
        if role is None or not role.allows(Role.ADMIN):
            raise UserError("not_admin", "Only an admin can change the daily limits.")
        kind, value = parse_limit_change(context.args)
        await guard.set_limit(user, kind, value)
    await services.notifier.send(chat, limits_text(await guard.view()))


@command(Role.ADMIN)
async def resume(update: Update, context: Context, services: Services) -> None:
    """A confirmation card to lift today's halt of new entries."""
    chat = update.effective_chat.id  # type: ignore[union-attr]
    guard = _guard(services)
    halt = await guard.halt()
    if halt is None:
        raise UserError("not_halted", "New entries are not halted; there is nothing to resume.")
    text, keyboard = resume_card(halt, guard.label)
    await services.notifier.send(chat, text, in_room(keyboard, services.current))


@command(Role.VIEWER)
async def pnl(update: Update, context: Context, services: Services) -> None:
    """Today's realised and unrealised P&L per position and in total."""
    chat = update.effective_chat.id  # type: ignore[union-attr]
    day = await services.limits.pnl() if services.limits else await services.portfolio.pnl()
    await services.notifier.send(chat, pnl_text(day))


@tap(Role.ADMIN)
async def resume_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Resume entries (Confirm on the /resume card): only the halt the card named, once."""
    query = update.callback_query
    assert query is not None and query.message is not None
    guard = _guard(services)
    halt = await guard.resume(query.from_user.id, int(data.removeprefix(RESUME_PREFIX)))
    await answer_quietly(query, "Entries resumed")
    text = resumed_text(halt, guard.label, query.from_user.id)
    await services.notifier.edit(query.message.chat.id, query.message.message_id, text)
    return f"resumed halt {halt.id}"


@tap(Role.ADMIN)
async def keep_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Keep halted: nothing changes; the card loses its buttons."""
    query = update.callback_query
    assert query is not None and query.message is not None
    guard = _guard(services)
    await answer_quietly(query, "Still halted")
    text = kept_text(guard.label)
    await services.notifier.edit(query.message.chat.id, query.message.message_id, text)
    return f"kept halt {data.removeprefix(KEEP_PREFIX)}"
