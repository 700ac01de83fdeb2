"""Read-only commands: /orders /trades /positions /holdings /funds /quote /search."""

from __future__ import annotations

from telegram import Update

from bot.clock import utcnow
from bot.parsing import parse_quote, parse_search
from bot.services import Services
from bot.settings import Role
from handlers import render
from handlers.guard import Context, command


def _chat(update: Update) -> int:
    return update.effective_chat.id  # type: ignore[union-attr]


@command(Role.VIEWER)
async def orders(update: Update, context: Context, services: Services) -> None:
    """Today's order book."""
    await services.notifier.send(_chat(update), render.orders(await services.portfolio.orders()))


@command(Role.VIEWER)
async def trades(update: Update, context: Context, services: Services) -> None:
    """Today's trades."""
    await services.notifier.send(_chat(update), render.trades(await services.portfolio.trades()))


@command(Role.VIEWER)
async def positions(update: Update, context: Context, services: Services) -> None:
    """Open positions with P&L."""
    items = await services.portfolio.positions()
    await services.notifier.send(_chat(update), render.positions(items))


@command(Role.VIEWER)
async def holdings(update: Update, context: Context, services: Services) -> None:
    """Demat holdings with P&L."""
    items = await services.portfolio.holdings()
    await services.notifier.send(_chat(update), render.holdings(items))


@command(Role.VIEWER)
async def funds(update: Update, context: Context, services: Services) -> None:
    """Available funds and margin."""
    await services.notifier.send(_chat(update), render.funds(await services.portfolio.funds()))


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
