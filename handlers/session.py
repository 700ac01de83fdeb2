"""/session: the broker session, the egress IP and whether orders are open (admins only), for
every account the user administers, each under its name."""

from __future__ import annotations

from telegram import Update

from bot.services import Services
from bot.settings import Role
from handlers.guard import Context, command
from handlers.render import render_status
from handlers.render.accounts import heading
from handlers.render.limits import halted_line


@command(Role.ADMIN, per_account=False)
async def session(update: Update, context: Context, services: Services) -> None:
    """Session, IP and order-gate status of each account the user is an admin of, and a halt
    of its new entries (daily limits)."""
    user, chat = update.effective_user.id, update.effective_chat.id  # type: ignore[union-attr]
    mine = [room for room in services.rooms if room.role_of(user) is Role.ADMIN]
    if not services.several:
        mine = [services.current]
    parts = []
    for room in mine:
        text = render_status(room.account.status())
        halt = await room.limits.halt() if room.limits is not None else None
        if halt is not None:
            text += "\n" + halted_line(halt)
        parts.append(heading(room) + text if services.several else text)
    await services.notifier.send(chat, "\n\n".join(parts))
