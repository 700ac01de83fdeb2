"""/buy, /sell, /modify, /cancel and their Confirm / Cancel buttons."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import CallbackQuery, Update

from bot.errors import UserError
from bot.notify import CardRef, Notifier, next_revision
from bot.orders import Prepared
from bot.parsing import parse_cancel, parse_modify, parse_order
from bot.services import Services
from bot.settings import Role
from bot.store import AuditLine
from brokers.models import Side
from handlers import render
from handlers.guard import Context, answer_quietly, claim_tap, command, in_room, tap
from handlers.render.accounts import about
from handlers.render.limits import halted_line

log = logging.getLogger(__name__)


async def send_card(update: Update, services: Services, prepared: Prepared) -> None:
    """Show `prepared`'s confirmation card in the update's chat (a command's or a tap's), with
    the account it is for; its buttons name that account, so only it can send the order."""
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    room = services.current
    text = render.card_with_expiry(prepared, services.confirm_ttl_seconds) + about(
        room, services.several
    )
    halt = await room.limits.halt() if room.limits is not None else None
    if halt is not None:  # while halted, only exits (and changes) get a card
        text += "\n" + halted_line(halt)
    keyboard = in_room(render.confirm_keyboard(prepared), room)
    message_id = await services.notifier.send(chat_id, text, keyboard)
    await services.desk.attach_card(prepared.intent_id, message_id)


def _ids(update: Update) -> tuple[int, int]:
    return update.effective_user.id, update.effective_chat.id  # type: ignore[union-attr]


@command(Role.TRADER)
async def buy(update: Update, context: Context, services: Services) -> None:
    """Prepare a buy and show its confirmation card."""
    args = parse_order(Side.BUY, context.args or [])
    ticket = args.ticket(services.desk.index.resolve(args.key))
    await send_card(update, services, await services.desk.prepare_order(*_ids(update), ticket))


@command(Role.TRADER)
async def sell(update: Update, context: Context, services: Services) -> None:
    """Prepare a sell and show its confirmation card."""
    args = parse_order(Side.SELL, context.args or [])
    ticket = args.ticket(services.desk.index.resolve(args.key))
    await send_card(update, services, await services.desk.prepare_order(*_ids(update), ticket))


@command(Role.TRADER)
async def modify(update: Update, context: Context, services: Services) -> None:
    """Prepare a change to an open order."""
    args = parse_modify(context.args or [])
    await send_card(update, services, await services.desk.prepare_modify(*_ids(update), args))


@command(Role.TRADER)
async def cancel(update: Update, context: Context, services: Services) -> None:
    """Prepare the cancellation of an open order."""
    order_id = parse_cancel(context.args or [])
    await send_card(update, services, await services.desk.prepare_cancel(*_ids(update), order_id))


class _ProgressCard:
    """Best-effort "Sending… n/N" edits of a batch's card: at most one a second and one in
    flight (the last one waits for its turn), each a single attempt. The batch never waits
    for them, and a failed edit is only logged; the final outcome has a later revision, so no
    progress edit can land over it."""

    def __init__(self, notifier: Notifier, card: CardRef, prepared: Prepared, footer: str) -> None:
        self._notifier = notifier
        self._card = card
        self._prepared = prepared
        self._footer = footer
        self._last = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, done: int, total: int) -> None:
        busy = self._task is not None and not self._task.done()
        final = done == total
        if not final and (busy or time.monotonic() - self._last < 1.0):
            return
        self._last = time.monotonic()
        text = render.progress(self._prepared, done, total) + self._footer
        self._task = asyncio.create_task(self._edit(self._task, text, next_revision()))

    async def settled(self) -> None:
        """Wait for the progress edit in flight, if any (it never raises): the batch's last
        "Sending… n/n" lands before its outcome instead of racing it and being dropped."""
        if self._task is not None:
            await asyncio.wait([self._task])

    async def _edit(self, previous: asyncio.Task[None] | None, text: str, revision: int) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        await self._notifier.edit_card(self._card, text, revision=revision, best_effort=True)


@claim_tap(Role.TRADER)
async def confirm_tap(
    update: Update, context: Context, services: Services, data: str, line: AuditLine
) -> str:
    """Confirm: claim the intent (one tap wins; the tap's audit line lands in the claim's
    commit), then send while the tap is being answered (the order does not wait on Telegram),
    and edit the card with the outcome."""
    query = update.callback_query
    assert query is not None and query.message is not None
    intent_id = data.removeprefix(render.CONFIRM_PREFIX)
    prepared = await _claim(services, intent_id, query.from_user.id, line)
    answer = _TapAnswer(query, "Sending…")
    card = CardRef(query.message.chat.id, query.message.message_id)
    progress = _ProgressCard(
        services.notifier, card, prepared, about(services.current, services.several)
    )
    try:
        result = await services.desk.execute(prepared, progress, on_sending=answer.send)
    except Exception:
        await _sending_failed(services, card, prepared, answer)
        raise
    answer.send()
    await progress.settled()
    text = render.outcome(result) + about(services.current, services.several)
    await services.notifier.edit_card(card, text, revision=result.revision)
    await answer.sent()
    return result.status


async def _claim(services: Services, intent_id: str, user_id: int, line: AuditLine) -> Prepared:
    try:
        return await services.desk.claim(intent_id, user_id, with_steps=(line.step,))
    except UserError as exc:
        await _end_if_expired(services, intent_id, exc)
        raise


async def _end_if_expired(services: Services, intent_id: str, exc: UserError) -> None:
    """A tap found its card expired: the card ends in its expired state (the order it asked
    for, no buttons) whether or not the sweep got there first; the tap is answered by the
    caller's refusal."""
    if exc.reason != "expired":
        return
    view = await services.desk.expired_view(intent_id)
    if view is not None:
        await services.notifier.publish(view)


# The longest a Confirm tap waits for its order to be on its way before it is answered anyway
# (normally one database write and the request's own write after the claim: far less).
ANSWER_WITHIN_SECONDS = 0.25


class _TapAnswer:
    """A Confirm tap's answer, started once: when the desk says the order is on its way (its
    request written, for a broker adapter that reports it), after `ANSWER_WITHIN_SECONDS` if
    that takes longer, or at the end at the latest. Not before: the answer's HTTP work
    (building, sending and reading answerCallbackQuery) shares the event loop with the order's
    database writes and request, and delayed them (see bench/tap_to_wire.py). Not later: it
    never waits for the broker's reply, and a rate-limit slot or a login holds it a quarter of
    a second at most, so the tap stops spinning at once however slow the place is."""

    def __init__(self, query: CallbackQuery, text: str) -> None:
        self._query = query
        self._text = text
        self._task: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(ANSWER_WITHIN_SECONDS, self.send)

    def send(self) -> None:
        """Start the answer now, unless it has started."""
        if self._task is None:
            self._timer.cancel()
            self._task = asyncio.create_task(answer_quietly(self._query, self._text))

    async def sent(self) -> None:
        """Start the answer if need be, and wait until Telegram has taken (or refused) it."""
        self.send()
        assert self._task is not None
        await self._task


async def _sending_failed(
    services: Services, card: CardRef, prepared: Prepared, answer: _TapAnswer
) -> None:
    """The desk closes every intent it sends, so this is a fault of ours (the database, a
    bug): the card says so in one sentence, and the tap is still answered."""
    answer.send()
    text = render.send_failed(prepared) + about(services.current, services.several)
    await services.notifier.edit_card(card, text, revision=next_revision())
    await answer.sent()


@tap(Role.TRADER)
async def decline_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Cancel on the card: nothing is sent."""
    query = update.callback_query
    assert query is not None and query.message is not None
    intent_id = data.removeprefix(render.DECLINE_PREFIX)
    try:
        result = await services.desk.decline(intent_id, query.from_user.id)
    except UserError as exc:
        await _end_if_expired(services, intent_id, exc)
        raise
    await answer_quietly(query, render.declined_answer(result.prepared))
    card = CardRef(query.message.chat.id, query.message.message_id)
    text = render.outcome(result) + about(services.current, services.several)
    await services.notifier.edit_card(card, text, revision=result.revision)
    return "declined"


@tap(Role.VIEWER)
async def stale_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """A button this version of the bot does not know (an old message)."""
    raise UserError("stale_button", "This button is no longer valid.")
