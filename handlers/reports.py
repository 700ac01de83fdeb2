"""Read-only commands: /orders /trades /positions /holdings /funds /quote /search.

The account reports take `all` (`/positions all`): every account the user may see, read at the
same time, each part under its account's name; one account that cannot answer says so in its
part and leaves the others whole."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Update

from bot.clock import utcnow
from bot.errors import UserError
from bot.parsing import parse_quote, parse_search
from bot.services import Room, Services
from bot.settings import Role
from handlers import exits, render
from handlers.guard import Context, command
from handlers.render.accounts import about, heading

log = logging.getLogger(__name__)

T = TypeVar("T")


def _chat(update: Update) -> int:
    return update.effective_chat.id  # type: ignore[union-attr]


async def _report(
    update: Update,
    context: Context,
    services: Services,
    read: Callable[[Room], Awaitable[T]],
    show: Callable[[T], str],
) -> None:
    """One account's report, or with `all` every account's, labelled."""
    words = context.args or []
    if not words:
        text = show(await read(services.current)) + about(services.current, services.several)
        await services.notifier.send(_chat(update), text)
        return
    if [w.lower() for w in words] != ["all"]:
        raise UserError("usage", "Add nothing, an account's name or all.")
    rooms = services.rooms_of(update.effective_user.id)  # type: ignore[union-attr]
    found = await asyncio.gather(*(read(room) for room in rooms), return_exceptions=True)
    parts = []
    for room, result in zip(rooms, found, strict=True):
        if isinstance(result, UserError):
            body = render.esc(result.text)
        elif isinstance(result, BaseException):
            log.error("a report of %s failed", room.name, exc_info=result)
            body = "Could not be read just now; try again in a moment."
        else:
            body = show(result)
        parts.append(heading(room) + body)
    await services.notifier.send(_chat(update), "\n\n".join(parts))


@command(Role.VIEWER)
async def orders(update: Update, context: Context, services: Services) -> None:
    """Today's order book."""
    await _report(update, context, services, lambda r: r.portfolio.orders(), render.orders)


@command(Role.VIEWER)
async def trades(update: Update, context: Context, services: Services) -> None:
    """Today's trades."""
    await _report(update, context, services, lambda r: r.portfolio.trades(), render.trades)


@command(Role.VIEWER)
async def positions(update: Update, context: Context, services: Services) -> None:
    """Open positions with P&L; one account's come with their Exit, Alert and Refresh buttons
    (`all` lists every account's without them: a keyboard acts on one account)."""
    if not context.args:
        await exits.show_positions(update, services)
        return
    await _report(update, context, services, lambda r: r.portfolio.positions(), render.positions)


@command(Role.VIEWER)
async def holdings(update: Update, context: Context, services: Services) -> None:
    """Demat holdings with P&L."""
    await _report(update, context, services, lambda r: r.portfolio.holdings(), render.holdings)


@command(Role.VIEWER)
async def funds(update: Update, context: Context, services: Services) -> None:
    """Available funds and margin."""
    await _report(update, context, services, lambda r: r.portfolio.funds(), render.funds)


@command(Role.VIEWER)
async def quote(update: Update, context: Context, services: Services) -> None:
    """Last price, bid/ask and circuit limits."""
    keys = parse_quote(context.args or [])
    lines = await services.portfolio.quotes(keys)
    await services.notifier.send(_chat(update), render.quotes(lines, utcnow()))


@command(Role.VIEWER)
async def search(update: Update, context: Context, services: Services) -> None:
    """Find instruments by name."""
    text = parse_search(context.args or [])
    results = await services.portfolio.search(text)
    await services.notifier.send(_chat(update), render.search(results, text))
