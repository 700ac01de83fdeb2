"""/account: which accounts a user may use, which one commands act on, and a button to switch."""

from __future__ import annotations

from telegram import Update

from bot.errors import UserError
from bot.notify import Keyboard
from bot.services import Services
from bot.settings import Role
from handlers.guard import Context, answer_quietly, command, tap
from handlers.render.accounts import (
    ACCOUNT_PREFIX,
    accounts_keyboard,
    accounts_text,
    switched_answer,
)


def _view(services: Services, user_id: int) -> tuple[str, Keyboard | None]:
    """The list, and a button for each account that is not the default (None: nothing to switch
    to)."""
    mine = services.rooms_of(user_id)
    default = services.default_room(user_id)
    pairs = [(room, role) for room in mine if (role := room.role_of(user_id)) is not None]
    return accounts_text(pairs, default), accounts_keyboard(mine, default) or None


@command(Role.VIEWER, per_account=False)
async def account(update: Update, context: Context, services: Services) -> None:
    """Show the user's accounts; `/account NAME` makes NAME the default."""
    user, chat = update.effective_user.id, update.effective_chat.id  # type: ignore[union-attr]
    words = context.args or []
    if words:
        room = services.named(user, words[0])
        await services.choices.set(user, room.name)
    text, keyboard = _view(services, user)
    await services.notifier.send(chat, text, keyboard)


@tap(Role.VIEWER, per_account=False)
async def account_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Make the tapped account the tapper's default and redraw the list."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None and query.message is not None
    message = query.message
    if message.chat.id != user.id:
        raise UserError("not_yours", "Send /account for your own accounts.")
    room = services.named(user.id, data.removeprefix(ACCOUNT_PREFIX))
    await services.choices.set(user.id, room.name)
    await answer_quietly(query, switched_answer(room))
    text, keyboard = _view(services, user.id)
    await services.notifier.edit(message.chat.id, message.message_id, text, keyboard)
    return "switched"
