"""/notify: each user's own on / silent / off per kind of notification, as buttons."""

from __future__ import annotations

import logging

from telegram import Update

from bot.errors import UserError
from bot.notify.preferences import KINDS, Kind, Preferences, kinds_for
from bot.services import Services
from bot.settings import Role
from handlers.guard import Context, answer_quietly, command, tap
from handlers.render.notify import NOTIFY_PREFIX, notify_keyboard, notify_text, tapped_answer

log = logging.getLogger(__name__)


def _preferences(services: Services) -> Preferences:
    if services.preferences is None:
        raise UserError("no_preferences", "Notification settings are not available right now.")
    return services.preferences


@command(Role.VIEWER, per_account=False)
async def notify(update: Update, context: Context, services: Services) -> None:
    """Show the user's notification choices with a button per kind."""
    user, chat = update.effective_user.id, update.effective_chat.id  # type: ignore[union-attr]
    choices = await _preferences(services).all_of(user)
    await services.notifier.send(chat, notify_text(), notify_keyboard(choices))


@tap(Role.VIEWER, per_account=False)
async def notify_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Cycle one kind on → silent → off for the user who tapped, and redraw the buttons. Only
    in the user's own chat: a button under someone else's /notify would change the tapper's
    settings while showing the other person's."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None, "the tap guard checked both"
    message = query.message
    if message is None or message.chat.id != user.id:
        raise UserError("not_yours", "These are someone else's settings; send /notify for yours.")
    role = services.best_role(user.id)
    kind = _kind(data.removeprefix(NOTIFY_PREFIX))
    if role is None or kind not in kinds_for(role):
        raise UserError("unknown_kind", "That setting is not available to you.")
    preferences = _preferences(services)
    choice = await preferences.cycle(user.id, kind)
    await answer_quietly(query, tapped_answer(kind, choice))
    try:
        await services.notifier.edit(
            message.chat.id,
            message.message_id,
            notify_text(),
            notify_keyboard(await preferences.all_of(user.id)),
        )
    except Exception:
        log.warning("could not redraw the /notify buttons", exc_info=True)
    return f"ok: {kind} {choice}"


def _kind(text: str) -> Kind:
    for kind in KINDS:
        if kind == text:
            return kind
    raise UserError("unknown_kind", "That setting is not available to you.")
