"""The one command registry: handlers, the Telegram menu (setMyCommands) and /help all come from
this list, so they cannot drift apart."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.echo import clip
from bot.errors import UserError
from bot.orders.limits import LIMITS_USAGE
from bot.parsing import CANCEL_USAGE, MODIFY_USAGE, ORDER_USAGE, QUOTE_USAGE, SEARCH_USAGE
from bot.services import Services
from bot.settings import Role
from brokers.models import Instrument
from handlers import accounts, alerts, exits, limits, notify, orders, reports, session, status
from handlers.guard import (
    NOT_ALLOWED,
    ROOM_SUFFIX,
    TAP_FAILED,
    Context,
    Handler,
    answer_quietly,
    command,
    services_of,
)
from handlers.render import CONFIRM_PREFIX, DECLINE_PREFIX
from handlers.render.accounts import ACCOUNT_PREFIX
from handlers.render.alerts import ALERT_PREFIX, UNFILLED_PREFIX
from handlers.render.exits import EXIT_PREFIX, POSITION_ALERT_PREFIX, REFRESH_PREFIX
from handlers.render.limits import KEEP_PREFIX, RESUME_PREFIX
from handlers.render.markup import esc
from handlers.render.notify import NOTIFY_PREFIX

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on my side; please try again in a moment."


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str
    usage: str
    example: str | None
    role: Role
    callback: Handler


# What each role may do, in the one line /start shows: a new user learns at once whether they
# can trade, instead of finding out from a refusal.
ROLE_LINES = {
    Role.ADMIN: "You are an <b>admin</b>: you can trade, see every report, and see and manage "
    "the broker session (/session).",
    Role.TRADER: "You are a <b>trader</b>: you can place, modify and cancel orders and see "
    "every report.",
    Role.VIEWER: "You are a <b>viewer</b>: you can see orders, trades, positions, holdings, "
    "funds and quotes, but not place orders.",
}


@command(Role.VIEWER, per_account=False)
async def start(update: Update, context: Context, services: Services) -> None:
    """Greeting with the broker in use and what this user's role allows."""
    user = update.effective_user.id  # type: ignore[union-attr]
    role = services.best_role(user)
    assert role is not None, "the guard lets only allowed users through"
    if services.several:
        names = ", ".join(f"<b>{esc(r.label)}</b>" for r in services.rooms_of(user))
        where = f"on your accounts {names} (/account shows them and which one commands act on)"
    else:
        where = f"on your <b>{esc(services.account.broker.name)}</b> account"
    await services.notifier.send(
        update.effective_chat.id,  # type: ignore[union-attr]
        f"Hello! I trade {where}. Every order asks you to confirm "
        f"before it goes out.\n{ROLE_LINES[role]}\nSend /help for the commands.",
    )


@command(Role.VIEWER, per_account=False)
async def help_command(update: Update, context: Context, services: Services) -> None:
    """The commands this user may use, with examples."""
    role = services.best_role(update.effective_user.id)  # type: ignore[union-attr]
    assert role is not None
    text = help_text(role, services.desk.index.example_option(), several=services.several)
    await services.notifier.send(update.effective_chat.id, text)  # type: ignore[union-attr]


@command(Role.VIEWER, per_account=False)
async def unknown(update: Update, context: Context, services: Services) -> None:
    """Anything that is not a known command. In a private chat (the only place the screen lets
    plain text through), a command typed without its slash gets "did you mean /buy …?": a
    phone keyboard makes the slash the easiest part to forget."""
    message, chat = update.message, update.effective_chat
    text = (message.text or "").strip() if message is not None else ""
    word, _, rest = text.partition(" ")
    if chat is not None and chat.type == ChatType.PRIVATE and word.lower() in _NAMES:
        suggestion = clip(" ".join([f"/{word.lower()}", *rest.split()]), SUGGESTION_LIMIT)
        raise UserError("missing_slash", f"Did you mean {suggestion}? Commands start with /.")
    raise UserError("unknown_command", "I don't know that command. Send /help for the list.")


COMMANDS: tuple[Command, ...] = (
    Command("start", "Start the bot", "/start", None, Role.VIEWER, start),
    Command("help", "List commands with examples", "/help", None, Role.VIEWER, help_command),
    Command(
        "buy",
        "Buy (market → protected limit, or limit)",
        ORDER_USAGE.format(side="buy"),
        "/buy NSE:SBIN 10   ·   /buy NSE:SBIN 10 @812.5 MIS   ·   /buy {option} 2L",
        Role.TRADER,
        orders.buy,
    ),
    Command(
        "sell",
        "Sell (market → protected limit, or limit)",
        ORDER_USAGE.format(side="sell"),
        "/sell {option} 1 lot @120   ·   /sell NSE:SBIN 10 sl=795",
        Role.TRADER,
        orders.sell,
    ),
    Command(
        "modify",
        "Change quantity or price of an open order",
        MODIFY_USAGE,
        "/modify 240101000123 @813",
        Role.TRADER,
        orders.modify,
    ),
    Command(
        "cancel",
        "Cancel an open order",
        CANCEL_USAGE,
        "/cancel 240101000123",
        Role.TRADER,
        orders.cancel,
    ),
    Command(
        "exitall",
        "One card to exit every open position (confirm sends them all)",
        "/exitall",
        None,
        Role.TRADER,
        exits.exitall,
    ),
    Command("orders", "Today's order book", "/orders", None, Role.VIEWER, reports.orders),
    Command("trades", "Today's trades", "/trades", None, Role.VIEWER, reports.trades),
    Command(
        "positions", "Open positions and P&L", "/positions", None, Role.VIEWER, reports.positions
    ),
    Command("holdings", "Holdings and P&L", "/holdings", None, Role.VIEWER, reports.holdings),
    Command("funds", "Funds and margin", "/funds", None, Role.VIEWER, reports.funds),
    Command(
        "pnl",
        "Today's realised and unrealised P&L, per position and in total",
        "/pnl",
        None,
        Role.VIEWER,
        limits.pnl,
    ),
    Command(
        "quote",
        "Last price of one or more symbols",
        QUOTE_USAGE,
        "/quote NSE:SBIN NSE_INDEX:NIFTY",
        Role.VIEWER,
        reports.quote,
    ),
    Command(
        "search",
        "Find an instrument's symbol",
        SEARCH_USAGE,
        "/search nifty {strike} ce   ·   /search sbin",
        Role.VIEWER,
        reports.search,
    ),
    Command(
        "alert",
        "Price alert: above, below, crosses, move %; `repeat [10m]` fires on each new "
        "crossing, 5 min apart unless given; the rest of the line is your note. "
        "/alert off ID removes one",
        alerts.ALERT_USAGE,
        "/alert NSE:SBIN above 820   ·   /alert NSE:SBIN crosses 815 repeat 10m retest   ·   "
        "/alert NSE:SBIN move 2%   ·   /alert {option} below 45.5   ·   /alert off 3",
        Role.VIEWER,
        alerts.alert,
    ),
    Command(
        "alerts",
        "Your price alerts, with a remove button each",
        "/alerts",
        None,
        Role.VIEWER,
        alerts.alerts,
    ),
    Command(
        "session",
        "Broker session, IP and order status",
        "/session",
        None,
        Role.ADMIN,
        session.session,
    ),
    Command(
        "limits",
        "Daily limits (max loss, orders, order value) and today's use; admins change one",
        LIMITS_USAGE,
        "/limits   ·   /limits loss 5000   ·   /limits orders off",
        Role.VIEWER,
        limits.limits,
    ),
    Command(
        "resume",
        "Lift today's halt of new entries (a confirmation card)",
        "/resume",
        None,
        Role.ADMIN,
        limits.resume,
    ),
    Command(
        "status",
        "Uptime, broker contact (admins: feed, backlog)",
        "/status",
        None,
        Role.VIEWER,
        status.status,
    ),
    Command(
        "account",
        "Your accounts; which one commands act on",
        "/account [NAME]",
        None,
        Role.VIEWER,
        accounts.account,
    ),
    Command(
        "notify",
        "Notifications: on, silent or off per kind",
        "/notify",
        None,
        Role.VIEWER,
        notify.notify,
    ),
)


_NAMES = frozenset(c.name for c in COMMANDS)
SUGGESTION_LIMIT = 80  # longer than an echo: the suggestion is only useful whole
_SEPARATOR = "   ·   "


def examples(template: str, option: Instrument | None) -> list[str]:
    """A command's examples with today's contract filled in: `{option}` is the nearest-expiry
    NIFTY call near the money, `{strike}` its strike. An example needing a contract the broker
    does not list is left out rather than shown with one that does not exist."""
    found = []
    for example in template.split(_SEPARATOR):
        if "{" in example:
            if option is None or option.strike is None:
                continue
            example = example.format(option=option.key, strike=f"{option.strike:f}")
        found.append(example)
    return found


def help_text(role: Role, option: Instrument | None, *, several: bool = False) -> str:
    lines = ["<b>Commands</b>"]
    for c in COMMANDS:
        if not role.allows(c.role):
            continue
        lines.append(f"\n<code>{esc(c.usage)}</code>\n{esc(c.description)}")
        if c.example and (shown := examples(c.example, option)):
            lines.append(f"e.g. <code>{esc(_SEPARATOR.join(shown))}</code>")
    lines.append(
        "\nSymbols are EXCHANGE:SYMBOL (NSE, BSE, NFO, BFO, MCX...). Quantities are units, or "
        "lots for F&amp;O: <code>2 lots</code> or <code>2L</code>. Prices: <code>@812.5</code> "
        "or <code>@ ₹812.5</code>."
    )
    if several:
        lines.append(
            "\nSeveral accounts: a command acts on your default account (/account shows and "
            "switches it); put an account's name first to act on another one, e.g. "
            "<code>/buy mom NSE:SBIN 10</code> or <code>/positions mom</code>; "
            "<code>/positions all</code> (also /orders, /holdings, /funds, /trades) covers "
            "every account you may see."
        )
    return "\n".join(lines)


def bot_commands() -> list[BotCommand]:
    return [BotCommand(c.name, c.description) for c in COMMANDS]


async def on_error(update: object, context: Context) -> None:
    """python-telegram-bot's error handler: whatever escaped a handler (the guard catches what
    the handlers raise, so this is the database or Telegram failing around them) is logged, and
    a known user hears one plain sentence instead of silence or a spinning button."""
    log.error("update failed", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    try:
        known = services_of(context).best_role(update.effective_user.id) is not None
    except Exception:
        log.warning("no services to answer a failed update with", exc_info=True)
        known = False
    if update.callback_query is not None:
        await answer_quietly(update.callback_query, TAP_FAILED if known else NOT_ALLOWED)
        return
    if known and update.effective_chat is not None:
        try:
            await services_of(context).notifier.send(update.effective_chat.id, UNEXPECTED)
        except Exception:
            log.warning("could not tell the user about a failed update", exc_info=True)


# The buttons: each handler and the pattern its data must match (the account suffix included).
TAPS: tuple[tuple[Handler, str], ...] = (
    (orders.confirm_tap, rf"{CONFIRM_PREFIX}[A-Za-z0-9_-]{{12}}"),
    (orders.decline_tap, rf"{DECLINE_PREFIX}[A-Za-z0-9_-]{{12}}"),
    (alerts.alert_tap, rf"{ALERT_PREFIX}[bszxr]:\d{{1,12}}"),
    (alerts.unfilled_tap, rf"{UNFILLED_PREFIX}[rc]:[A-Za-z0-9_-]{{1,40}}"),
    (notify.notify_tap, rf"{NOTIFY_PREFIX}[a-z]+"),
    (limits.resume_tap, rf"{RESUME_PREFIX}\d{{1,12}}"),
    (limits.keep_tap, rf"{KEEP_PREFIX}\d{{1,12}}"),
    (accounts.account_tap, rf"{ACCOUNT_PREFIX}[a-z][a-z0-9-]{{0,15}}"),
    (exits.exit_tap, rf"{EXIT_PREFIX}[0-9a-f]{{8}}:(?:25|50|100)"),
    (exits.position_alert_tap, rf"{POSITION_ALERT_PREFIX}[0-9a-f]{{8}}"),
    (exits.refresh_tap, REFRESH_PREFIX),
)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_error_handler(on_error)
    for c in COMMANDS:
        app.add_handler(CommandHandler(c.name, c.callback))
    for callback, pattern in TAPS:
        app.add_handler(CallbackQueryHandler(callback, pattern=f"^{pattern}{ROOM_SUFFIX}$"))
    app.add_handler(CallbackQueryHandler(orders.stale_tap))
    app.add_handler(MessageHandler(filters.ALL, unknown))
