"""/positions with its buttons, /exitall, and the Exit / Alert / Refresh taps.

Every exit leads to the normal confirmation card (the desk's `prepare_order`, or
`prepare_exits` for /exitall): nothing is sent in one tap. The exit rules are in
`bot.orders.exits`; a tap reads the positions again and acts only on the position its button
was made for, unchanged."""

from __future__ import annotations

from telegram import Update

from bot.errors import UserError
from bot.notify import Keyboard
from bot.orders.exits import exit_ticket, find, open_positions
from bot.services import Services
from bot.settings import Role
from handlers import render
from handlers.guard import Context, answer_quietly, command, in_room, tap
from handlers.orders import send_card
from handlers.render.accounts import about
from handlers.render.exits import (
    EXIT_PREFIX,
    POSITION_ALERT_PREFIX,
    alert_suggestion,
    positions_keyboard,
)
from handlers.render.numbers import clock_time

CARD_BELOW = "Confirm on the card below; nothing is sent before."


async def show_positions(update: Update, services: Services) -> None:
    """One account's positions, numbered, with their buttons."""
    user_id, chat_id = update.effective_user.id, update.effective_chat.id  # type: ignore[union-attr]
    text, keyboard = await _view(services, user_id)
    await services.notifier.send(chat_id, text, keyboard)


async def _view(
    services: Services, user_id: int, *, refreshed: bool = False
) -> tuple[str, Keyboard]:
    """The positions as they are now and their buttons (exits only for a trader); a refreshed
    view says when it was read, so each Refresh visibly lands."""
    items = await services.portfolio.positions()
    role = services.role_of(user_id)
    trader = role is not None and role.allows(Role.TRADER)
    text = render.positions(items, numbered=True)
    if refreshed:
        text += f"\n<i>Updated {clock_time(services.now())}</i>"
    text += about(services.current, services.several)
    return text, in_room(positions_keyboard(items, trader=trader), services.current)


@command(Role.TRADER)
async def exitall(update: Update, context: Context, services: Services) -> None:
    """One card with an exit order for every open position; Confirm sends them all."""
    if context.args:
        raise UserError("usage", "Add nothing, or an account's name.")
    held = open_positions(await services.portfolio.positions())
    if not held:
        raise UserError("no_positions", "There are no open positions to exit.")
    index = services.desk.index
    tickets = [exit_ticket(p, index.resolve(p.key), 100) for p in held]
    user_id, chat_id = update.effective_user.id, update.effective_chat.id  # type: ignore[union-attr]
    await send_card(update, services, await services.desk.prepare_exits(user_id, chat_id, tickets))


@tap(Role.TRADER)
async def exit_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Exit N % of one position: its confirmation card, for the position as it is now."""
    query = update.callback_query
    assert query is not None and query.message is not None
    reference, _, percent = data.removeprefix(EXIT_PREFIX).partition(":")
    position = find(await services.portfolio.positions(), reference)
    instrument = services.desk.index.resolve(position.key)
    ticket = exit_ticket(position, instrument, int(percent))
    prepared = await services.desk.prepare_order(query.from_user.id, query.message.chat.id, ticket)
    await send_card(update, services, prepared)
    await answer_quietly(query, CARD_BELOW)
    return "card"


@tap(Role.VIEWER)
async def position_alert_tap(
    update: Update, context: Context, services: Services, data: str
) -> str:
    """Alert: two ready /alert lines around the position's LTP, to send as they are or
    changed (the tap sets nothing, so the alert is whatever the user sends)."""
    query = update.callback_query
    assert query is not None and query.message is not None
    position = find(await services.portfolio.positions(), data.removeprefix(POSITION_ALERT_PREFIX))
    instrument = services.desk.index.resolve(position.key)
    ltp = position.ltp if position.ltp is not None else position.average_price
    text = alert_suggestion(position, ltp, instrument.tick_size)
    await services.notifier.send(query.message.chat.id, text)
    await answer_quietly(query, "Send one of the lines below to set the alert.")
    return "suggested"


@tap(Role.VIEWER)
async def refresh_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Refresh: the same message, edited in place with the positions and P&L as they are now."""
    query = update.callback_query
    assert query is not None and query.message is not None
    text, keyboard = await _view(services, query.from_user.id, refreshed=True)
    await services.notifier.edit(query.message.chat.id, query.message.message_id, text, keyboard)
    await answer_quietly(query, "Refreshed")
    return "refreshed"
