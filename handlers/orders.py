"""/buy, /sell, /modify, /cancel and their Confirm / Cancel buttons."""

from __future__ import annotations

import time

from telegram import Update

from bot.errors import UserError
from bot.orders import Prepared
from bot.parsing import parse_cancel, parse_modify, parse_order
from bot.services import Services
from bot.settings import Role
from brokers.models import Side
from handlers import render
from handlers.guard import Context, command, tap


async def _send_card(update: Update, services: Services, prepared: Prepared) -> None:
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    text = render.card_with_expiry(prepared, services.confirm_ttl_seconds)
    message_id = await services.notifier.send(
        chat_id, text, render.confirm_keyboard(prepared.intent_id)
    )
    await services.desk.attach_card(prepared.intent_id, message_id)


def _ids(update: Update) -> tuple[int, int]:
    return update.effective_user.id, update.effective_chat.id  # type: ignore[union-attr]


@command(Role.TRADER)
async def buy(update: Update, context: Context, services: Services) -> None:
    """Prepare a buy and show its confirmation card."""
    ticket = parse_order(Side.BUY, context.args or [])
    await _send_card(update, services, await services.desk.prepare_order(*_ids(update), ticket))


@command(Role.TRADER)
async def sell(update: Update, context: Context, services: Services) -> None:
    """Prepare a sell and show its confirmation card."""
    ticket = parse_order(Side.SELL, context.args or [])
    await _send_card(update, services, await services.desk.prepare_order(*_ids(update), ticket))


@command(Role.TRADER)
async def modify(update: Update, context: Context, services: Services) -> None:
    """Prepare a change to an open order."""
    args = parse_modify(context.args or [])
    await _send_card(update, services, await services.desk.prepare_modify(*_ids(update), args))


@command(Role.TRADER)
async def cancel(update: Update, context: Context, services: Services) -> None:
    """Prepare the cancellation of an open order."""
    order_id = parse_cancel(context.args or [])
    await _send_card(update, services, await services.desk.prepare_cancel(*_ids(update), order_id))


@tap(Role.TRADER)
async def confirm_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Confirm: claim the intent (one tap wins), answer the tap, send, edit the card."""
    query = update.callback_query
    assert query is not None and query.message is not None
    intent_id = data.removeprefix(render.CONFIRM_PREFIX)
    prepared = await services.desk.claim(intent_id, query.from_user.id)
    await query.answer("Sending…")
    chat_id, message_id = query.message.chat.id, query.message.message_id
    last_edit = 0.0

    async def progress(done: int, total: int) -> None:
        nonlocal last_edit
        if time.monotonic() - last_edit >= 1.0 or done == total:
            last_edit = time.monotonic()
            text = render.card(prepared) + f"\n\n⏳ Sending… {done}/{total}"
            await services.notifier.edit(chat_id, message_id, text)

    result = await services.desk.execute(prepared, progress)
    await services.notifier.edit(chat_id, message_id, render.outcome(result))
    return result.status


@tap(Role.TRADER)
async def decline_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Cancel on the card: nothing is sent."""
    query = update.callback_query
    assert query is not None and query.message is not None
    intent_id = data.removeprefix(render.DECLINE_PREFIX)
    result = await services.desk.decline(intent_id, query.from_user.id)
    await query.answer("Cancelled")
    await services.notifier.edit(
        query.message.chat.id, query.message.message_id, render.outcome(result)
    )
    return "declined"


@tap(Role.VIEWER)
async def stale_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """A button this version of the bot does not know (an old message)."""
    raise UserError("stale_button", "This button is no longer valid.")
