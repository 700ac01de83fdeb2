"""/status: is the bot alive, when did the broker last answer (everyone); the order feed, the
outbox backlog and the order gate as well (admins)."""

from __future__ import annotations

from telegram import Update

from bot.services import Services
from bot.settings import Role
from handlers.guard import Context, command
from handlers.render.status import vitals_text


@command(Role.VIEWER)
async def status(update: Update, context: Context, services: Services) -> None:
    """Uptime, last broker answer; for admins also feed, backlog and orders."""
    user, chat = update.effective_user.id, update.effective_chat.id  # type: ignore[union-attr]
    admin = services.role_of(user) is Role.ADMIN
    await services.notifier.send(chat, vitals_text(await services.vitals(), admin=admin))
