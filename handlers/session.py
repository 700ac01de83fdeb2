"""/session: the broker session, the egress IP and whether orders are open (admins only)."""

from __future__ import annotations

from telegram import Update

from bot.services import Services
from bot.settings import Role
from handlers.guard import Context, command
from handlers.render import render_status


@command(Role.ADMIN)
async def session(update: Update, context: Context, services: Services) -> None:
    """Session, IP and order-gate status."""
    chat = update.effective_chat.id  # type: ignore[union-attr]
    await services.notifier.send(chat, render_status(services.account.status()))
