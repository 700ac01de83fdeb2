"""The one command registry: handlers, the Telegram menu (setMyCommands) and /help all come from
this list, so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import BotCommand, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.errors import UserError
from bot.parsing import CANCEL_USAGE, MODIFY_USAGE, ORDER_USAGE, QUOTE_USAGE, SEARCH_USAGE
from bot.services import Services
from bot.settings import Role
from handlers import orders, reports, session
from handlers.guard import Context, Handler, command
from handlers.render import CONFIRM_PREFIX, DECLINE_PREFIX
from handlers.render.markup import esc


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str
    usage: str
    example: str | None
    role: Role
    callback: Handler


@command(Role.VIEWER)
async def start(update: Update, context: Context, services: Services) -> None:
    """Greeting with the broker in use."""
    broker = services.account.broker.name
    await services.notifier.send(
        update.effective_chat.id,  # type: ignore[union-attr]
        f"Hello! I trade on your <b>{esc(broker)}</b> account. Every order asks you to confirm "
        "before it goes out. Send /help for the commands.",
    )


@command(Role.VIEWER)
async def help_command(update: Update, context: Context, services: Services) -> None:
    """The commands this user may use, with examples."""
    role = services.role_of(update.effective_user.id)  # type: ignore[union-attr]
    assert role is not None
    await services.notifier.send(update.effective_chat.id, help_text(role))  # type: ignore[union-attr]


@command(Role.VIEWER)
async def unknown(update: Update, context: Context, services: Services) -> None:
    """Anything that is not a known command."""
    raise UserError("unknown_command", "I don't know that command. Send /help for the list.")


COMMANDS: tuple[Command, ...] = (
    Command("start", "Start the bot", "/start", None, Role.VIEWER, start),
    Command("help", "List commands with examples", "/help", None, Role.VIEWER, help_command),
    Command(
        "buy",
        "Buy (market → protected limit, or limit)",
        ORDER_USAGE.format(side="buy"),
        "/buy NSE:SBIN 10   ·   /buy NSE:SBIN 10 @812.5 MIS",
        Role.TRADER,
        orders.buy,
    ),
    Command(
        "sell",
        "Sell (market → protected limit, or limit)",
        ORDER_USAGE.format(side="sell"),
        "/sell NFO:NIFTY30DEC2524000CE 65 @120   ·   /sell NSE:SBIN 10 sl=795",
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
    Command("orders", "Today's order book", "/orders", None, Role.VIEWER, reports.orders),
    Command("trades", "Today's trades", "/trades", None, Role.VIEWER, reports.trades),
    Command(
        "positions", "Open positions and P&L", "/positions", None, Role.VIEWER, reports.positions
    ),
    Command("holdings", "Holdings and P&L", "/holdings", None, Role.VIEWER, reports.holdings),
    Command("funds", "Funds and margin", "/funds", None, Role.VIEWER, reports.funds),
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
        "/search nifty 24000 ce",
        Role.VIEWER,
        reports.search,
    ),
    Command(
        "session",
        "Broker session, IP and order status",
        "/session",
        None,
        Role.ADMIN,
        session.session,
    ),
)


def help_text(role: Role) -> str:
    lines = ["<b>Commands</b>"]
    for c in COMMANDS:
        if not role.allows(c.role):
            continue
        lines.append(f"\n<code>{esc(c.usage)}</code>\n{esc(c.description)}")
        if c.example:
            lines.append(f"e.g. <code>{esc(c.example)}</code>")
    lines.append("\nSymbols are EXCHANGE:SYMBOL (NSE, BSE, NFO, BFO, MCX...); quantities in units.")
    return "\n".join(lines)


def bot_commands() -> list[BotCommand]:
    return [BotCommand(c.name, c.description) for c in COMMANDS]


def register(app: Application) -> None:  # type: ignore[type-arg]
    for c in COMMANDS:
        app.add_handler(CommandHandler(c.name, c.callback))
    app.add_handler(
        CallbackQueryHandler(orders.confirm_tap, pattern=rf"^{CONFIRM_PREFIX}[A-Za-z0-9_-]{{12}}$")
    )
    app.add_handler(
        CallbackQueryHandler(orders.decline_tap, pattern=rf"^{DECLINE_PREFIX}[A-Za-z0-9_-]{{12}}$")
    )
    app.add_handler(CallbackQueryHandler(orders.stale_tap))
    app.add_handler(MessageHandler(filters.ALL, unknown))
