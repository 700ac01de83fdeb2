"""/alert, /alerts, the buttons under a fired alert, and the unfilled-limit push's buttons.

Alerts do not trade, so a viewer may set them; the Buy / Sell buttons under a fired alert lead
to the normal confirmation card (the desk's `prepare_order`, as /buy), so they need the trader
role, and a viewer's notices carry no such buttons. Every button acts only for the person who
set the alert (or placed the order), whoever else can see the message.

Grammar (one line; the note is the rest of it, kept as typed):
    /alert EXCHANGE:SYMBOL above|below|crosses PRICE [repeat [10m]] [note]
    /alert EXCHANGE:SYMBOL move N% [repeat [10m]] [note]
    /alert off ID
`repeat` fires again on each new crossing, at most once per cool-down (5 min unless given as
`30s`, `10m` or `1h`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from telegram import Update

from bot.echo import echo
from bot.errors import UserError
from bot.market import Alert, AlertKind
from bot.notify import AlertTriggered, Keyboard, LimitUnfilled, Notifier
from bot.orders import OrderTicket, Prepared
from bot.orders.one_tap import suggested_quantity
from bot.parsing import parse_key, parse_price
from bot.services import Services
from bot.settings import Role
from brokers.models import OrderType, Side
from handlers.guard import Context, answer_quietly, command, in_room, role_refusal, tap
from handlers.orders import send_card
from handlers.render import render_event
from handlers.render.accounts import about
from handlers.render.alerts import (
    ALERT_PREFIX,
    SNOOZE,
    UNFILLED_PREFIX,
    alert_keyboard,
    alert_list,
    alert_set,
    snoozed,
    unfilled_keyboard,
)

ALERT_USAGE = "/alert EXCHANGE:SYMBOL above|below|crosses PRICE (or move N%) [repeat [10m]] [note]"
OFF_USAGE = "/alert off ID"
DEFAULT_COOLDOWN = timedelta(minutes=5)
MAX_COOLDOWN = timedelta(hours=24)

_DURATION = re.compile(r"^(\d{1,5})([smh])$")
_UNITS = {"s": 1, "m": 60, "h": 3600}
_ID = re.compile(r"^\d{1,12}$")


@dataclass(frozen=True, slots=True)
class AlertArgs:
    key: str
    kind: AlertKind
    level: Decimal
    repeat: bool
    cooldown: timedelta
    note: str


def _take(text: str) -> tuple[str, str]:
    """The first word of `text` and the rest (kept as typed, less the space between)."""
    parts = text.split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def parse_off(text: str) -> int:
    """`/alert off ID`."""
    word, rest = _take(text)
    if not word:
        raise UserError("missing_arguments", "I need the alert's number.", usage=OFF_USAGE)
    if not _ID.match(word) or rest:
        raise UserError(
            "bad_alert_id", f"{echo(text.strip())} is not an alert number.", usage=OFF_USAGE
        )
    return int(word)


def parse_alert(text: str) -> AlertArgs:
    """The words after /alert (not `off`), or one plain sentence and the usage line."""
    symbol, rest = _take(text)
    if not symbol:
        raise UserError(
            "missing_arguments", "I need a symbol, a condition and a level.", usage=ALERT_USAGE
        )
    key = parse_key(symbol, ALERT_USAGE)
    word, rest = _take(rest)
    try:
        kind = AlertKind(word.lower())
    except ValueError:
        said = f"{echo(word)} is not a condition" if word else "I need a condition"
        raise UserError(
            "bad_condition",
            f"{said}; use above, below, crosses or move.",
            usage=ALERT_USAGE,
        ) from None
    level_text, rest = _take(rest)
    if not level_text:
        what = "a percentage" if kind is AlertKind.MOVE else "a price level"
        raise UserError("missing_arguments", f"I need {what} after {kind}.", usage=ALERT_USAGE)
    if kind is AlertKind.MOVE:
        if level_text.endswith("%"):
            level_text = level_text[:-1]
        elif rest.startswith("%"):
            rest = rest[1:].lstrip()
        level = parse_price(level_text, "percentage", ALERT_USAGE)
    else:
        level = parse_price(level_text, "price level", ALERT_USAGE)
    repeat, cooldown = False, timedelta(0)
    word, after = _take(rest)
    if word.lower() == "repeat":
        repeat, rest = True, after
        cooldown = DEFAULT_COOLDOWN
        word, after = _take(rest)
        if (duration := _duration(word)) is not None:
            cooldown, rest = duration, after
    return AlertArgs(key, kind, level, repeat, cooldown, rest.strip())


def _duration(word: str) -> timedelta | None:
    """`30s`, `10m`, `1h` → the cool-down; None when `word` is not one (it starts the note)."""
    match = _DURATION.match(word.lower())
    if match is None:
        return None
    span = timedelta(seconds=int(match[1]) * _UNITS[match[2]])
    if span > MAX_COOLDOWN:
        raise UserError(
            "bad_cooldown", f"{echo(word)} is too long a cool-down; at most 24h.", usage=ALERT_USAGE
        )
    return span


def _ids(update: Update) -> tuple[int, int]:
    return update.effective_user.id, update.effective_chat.id  # type: ignore[union-attr]


def _arguments(update: Update) -> str:
    """Everything after the command word, as typed (the note keeps its spacing)."""
    message = update.message
    return _take(message.text or "")[1] if message is not None else ""


@command(Role.VIEWER)
async def alert(update: Update, context: Context, services: Services) -> None:
    """Set a price alert, or remove one with `off ID`."""
    user_id, chat_id = _ids(update)
    text = _arguments(update)
    word, rest = _take(text)
    if word.lower() == "off":
        alert_id = parse_off(rest)
        await services.alerts.remove(alert_id, user_id)
        await services.notifier.send(chat_id, f"Alert {alert_id} removed.")
        return
    args = parse_alert(text)
    made = await services.alerts.add(
        user_id=user_id,
        chat_id=chat_id,
        key=args.key,
        kind=args.kind,
        level=args.level,
        note=args.note,
        repeat=args.repeat,
        cooldown=args.cooldown,
    )
    await services.notifier.send(chat_id, alert_set(made))


@command(Role.VIEWER)
async def alerts(update: Update, context: Context, services: Services) -> None:
    """The user's active alerts, each with a remove button."""
    user_id, chat_id = _ids(update)
    text, keyboard = _listed(services, await services.alerts.alerts_of(user_id))
    await services.notifier.send(chat_id, text, keyboard)


def _listed(services: Services, items: list[Alert]) -> tuple[str, Keyboard | None]:
    """The alert list of the account in use, its buttons naming that account."""
    text, keyboard = alert_list(items)
    room = services.current
    return text + about(room, services.several), in_room(
        keyboard, room
    ) if keyboard is not None else None


@tap(Role.VIEWER)
async def alert_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Buy / Sell (a confirmation card), Snooze, Delete (from a notice) or Remove (from the
    list, which is then shown again): only for the alert's owner."""
    query = update.callback_query
    assert query is not None and query.message is not None
    action, _, number = data.removeprefix(ALERT_PREFIX).partition(":")
    alert_id, user_id = int(number), query.from_user.id
    chat_id = query.message.chat.id
    if action in ("b", "s"):
        role = services.role_of(user_id)
        if role is None or not role.allows(Role.TRADER):
            raise UserError("role", role_refusal(role or Role.VIEWER, Role.TRADER))
        owned = await services.alerts.owned(alert_id, user_id)
        instrument = services.desk.index.resolve(owned.key)
        quantity = await suggested_quantity(services.current.store, user_id, instrument)
        side = Side.BUY if action == "b" else Side.SELL
        ticket = OrderTicket(side, instrument.key, quantity, OrderType.MARKET)
        prepared = await services.desk.prepare_order(user_id, chat_id, ticket)
        await send_card(update, services, prepared)
        await answer_quietly(query, "Confirm on the card below; nothing is sent before.")
        return "card"
    if action == "z":
        snoozed_alert = await services.alerts.snooze(alert_id, user_id, SNOOZE)
        await answer_quietly(query, snoozed(snoozed_alert))
        return "snoozed"
    await services.alerts.owned(alert_id, user_id)
    await services.alerts.remove(alert_id, user_id)
    await answer_quietly(query, f"Alert {alert_id} deleted.")
    if action == "r":
        text, keyboard = _listed(services, await services.alerts.alerts_of(user_id))
        await services.notifier.edit(chat_id, query.message.message_id, text, keyboard)
    return "deleted"


@tap(Role.TRADER)
async def unfilled_tap(update: Update, context: Context, services: Services, data: str) -> str:
    """Re-price or Cancel under an unfilled-limit push: each opens the normal card."""
    query = update.callback_query
    assert query is not None and query.message is not None
    action, _, order_id = data.removeprefix(UNFILLED_PREFIX).partition(":")
    user_id, chat_id = query.from_user.id, query.message.chat.id
    prepared: Prepared
    if action == "r":
        prepared = await services.unfilled.reprice(user_id, chat_id, order_id)
    else:
        prepared = await services.unfilled.cancel(user_id, chat_id, order_id)
    await send_card(update, services, prepared)
    await answer_quietly(query, "Confirm on the card below; nothing is sent before.")
    return "card"


class Pusher:
    """Pushes fired alerts and unfilled limits with their buttons (the notifier's `publish`
    sends words only). A notice to someone who may not trade has no Buy / Sell. One per
    account: its pushes end with the account's line and its buttons name the account."""

    def __init__(
        self, notifier: Notifier, roles: Mapping[int, Role], room: str, footer: str = ""
    ) -> None:
        self._notifier = notifier
        self._roles = roles
        self._room = room
        self._footer = footer

    async def __call__(self, event: AlertTriggered | LimitUnfilled) -> None:
        if isinstance(event, AlertTriggered):
            role = self._roles.get(event.user_id)
            can_trade = role is not None and role.allows(Role.TRADER)
            keyboard = alert_keyboard(event, can_trade=can_trade)
        else:
            keyboard = unfilled_keyboard(event)
        text = render_event(event) + self._footer
        await self._notifier.push(event.chat_id, text, in_room(keyboard, self._room))
