"""Wiring: builds the core services and the Telegram application around the accounts, and runs
them.

This module and `bot.app.rooms` (one room of services per account) are the only ones in `bot/`
that import `handlers` (to register them). `run()` drives the python-telegram-bot lifecycle
itself (initialize → start → start_polling) inside the caller's event loop instead of
`run_polling()`, so end-to-end tests run exactly this function against a fake Bot API server.
`post_init` is not called on that path, so start-up work such as `setMyCommands` is done here
explicitly.

Start-up order matters: every account (IP, session; all at once), the instrument index of each
broker (loaded meanwhile, once per broker) and each account's order tracker are ready, and
orders a crash left in SENDING are reconciled against the order book, *before* the first
Telegram update is read, so no tap can race the reconciliation. Before
any of it, the instance lock beside the database (`bot.app.lock`) makes a second bot on the same
database stop with one line.

Updates are processed concurrently (`CONCURRENT_UPDATES` in `bot.app.application`): one user's
40-slice batch, a slow broker read or a TOTP wait never holds up another user's command or tap.
Nothing in the order path relies on updates arriving one at a time: a confirmation is claimed
with a compare-and-set in SQLite, so of many simultaneous taps exactly one wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from bot.accounts import TotpClock, account_secrets, load_accounts, users_of
from bot.app.application import build_application
from bot.app.build import secret_values
from bot.app.health import beat, heartbeat_path
from bot.app.imports import remember_absent_sniffio
from bot.app.lock import instance_lock
from bot.app.reach import telegram_unreachable
from bot.app.rooms import (
    Opened,
    Teller,
    expire_cards,
    furnish,
    index_loader,
    label_of,
    open_account,
)
from bot.clock import utcnow
from bot.errors import StartupError
from bot.logs import setup_logging
from bot.market.follow import IndexFollower
from bot.market.hours import MarketHours
from bot.market.instruments import InstrumentIndex
from bot.notify import Notifier, Sender
from bot.notify.events import BotStopping
from bot.notify.preferences import Preferences
from bot.orders.tracker import OrderTracker
from bot.services import Choices, FeedState, Services
from bot.settings import Role, Settings
from bot.store.connection import Store
from brokers.base import (
    Broker,
    ListsInstrumentsBeforeLogin,
    SharesInstruments,
    StreamsOrders,
    VersionedInstruments,
)
from brokers.errors import BrokerError
from handlers.chats import Doorman, screen
from handlers.outbox import TelegramOutbox
from handlers.registry import bot_commands, register
from handlers.render import render_event

log = logging.getLogger(__name__)

# How long the start-up and stop messages may wait for Telegram.
NOTICE_SECONDS = 10.0


def _master_version(broker: Broker) -> Callable[[], str] | None:
    """The broker's master version when its instrument list changes while the bot runs."""
    return broker.instruments_version if isinstance(broker, VersionedInstruments) else None


async def _follow_feed(broker: StreamsOrders, tracker: OrderTracker, feed: FeedState) -> None:
    """Keep the broker's order feed running; polling covers any gap while it is down."""
    while True:
        feed.set("streaming")
        try:
            await broker.stream_orders(tracker.apply)
        except Exception:
            log.exception("order feed stopped; restarting in 5 s")
        feed.set("down")
        await asyncio.sleep(5)


async def run(
    settings: Settings,
    stop: asyncio.Event | None = None,
    broker: Broker | None = None,
    *,
    brokers: Mapping[str, Broker] | None = None,
    totp_clock: TotpClock | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Run the bot until `stop` is set (or SIGINT/SIGTERM when `stop` is None). Each account's
    broker is built from its settings unless given: `broker` for the first (or only) account,
    `brokers` by account name (tests pass brokers they can steer); `totp_clock` is the wall
    clock unless given (see `build_account`); `clock` is what the desks (quote age, card
    expiry), the alert and unfilled-limit watches and the daily summaries read the time from:
    one clock, so a test that moves it moves the whole bot."""
    remember_absent_sniffio()
    configs = load_accounts(settings)
    setup_logging(settings.log_level, secret_values(settings) + account_secrets(configs))
    for warning in settings.warnings():
        log.warning(warning)
    stop = stop or _signal_event()
    given = dict(brokers or {})
    if broker is not None:
        given.setdefault(configs[0].name, broker)
    several = len(configs) > 1
    # Each part pushes its own stop here as soon as it exists, and they run in reverse, each
    # even when an earlier one fails: a start-up that fails half-way (Telegram unreachable,
    # token refused) still closes what it opened. The database's worker thread is not a
    # daemon: a process left holding it would hang instead of exiting for its restart policy.
    resources = contextlib.AsyncExitStack()
    try:
        resources.enter_context(instance_lock(settings.database_path))
        hours = MarketHours() if settings.market_hours else None
        store = await Store.open(settings.database_path)
        resources.push_async_callback(store.close)
        await store.adopt(configs[0].name)  # a single-account database's rows, once
        application = build_application(settings)
        started_at = utcnow()
        users = users_of(configs)
        preferences = await Preferences.load(store.preferences, users)
        outbox = TelegramOutbox(application.bot)
        sender = Sender(store.outbox, outbox)  # pushes: persistent outbox, paced
        notifier = Notifier(
            outbox,
            render_event,
            sender=sender,
            admins=[user for user, role in users.items() if role is Role.ADMIN],
            preference=preferences.for_event,
        )
        opened: list[Opened] = []
        for config in configs:
            # Until the bot is ready, each account's notices are held for one start-up message.
            one = open_account(
                settings,
                config,
                store,
                notifier,
                given.get(config.name),
                totp_clock=totp_clock,
                hours=hours,
            )
            resources.push_async_callback(one.account.stop)  # closes the broker too
            opened.append(one)
        resources.push_async_callback(application.shutdown)  # a no-op unless initialized
        # One instrument index per broker, shared by its accounts. The list (the longest step:
        # a 48 MB master to parse, or its compact copy to read) loads while Telegram and the
        # sessions start when the broker serves it without a session (Kotak, ref §1), else
        # right after the logins (mStock). Nothing reads it before it is ready: polling, and so
        # every order, starts only after the indexes exist.
        followers: dict[str, IndexFollower] = {}
        early: dict[str, asyncio.Task[InstrumentIndex]] = {}
        broker_of: dict[str, str] = {}  # master → the broker's name, for what people read
        for one in opened:
            kind = _master_of(one.broker)
            if kind in followers:
                continue
            broker_of[kind] = one.broker.name
            same = [o.account for o in opened if _master_of(o.broker) == kind]
            followers[kind] = IndexFollower(
                index_loader(same),
                _master_version(one.broker),
                every=settings.instruments_check_seconds,
            )
            if _lists_before_login(one.broker):
                early[kind] = asyncio.create_task(
                    followers[kind].first(search=False), name=f"instruments-{one.broker.name}"
                )
        resources.push_async_callback(_cancel, list(early.values()))
        try:
            await application.initialize()
        except InvalidToken:
            raise StartupError("Telegram refused TELEGRAM_BOT_TOKEN; check the token.") from None
        except NetworkError as exc:
            reason = telegram_unreachable(settings.telegram_base_url, exc)
            raise StartupError(f"{reason}.") from None
        resources.push_async_callback(sender.stop)  # before the bot's HTTP client closes
        resources.push_async_callback(notifier.settled)  # card edits still under way
        # Every account starts at once: one slow login (a TOTP step to wait for) holds up
        # no other account's.
        await asyncio.gather(*(one.account.start() for one in opened))
        indexes: dict[str, InstrumentIndex] = {}
        for kind, follower in followers.items():
            try:
                task = early.get(kind)
                indexes[kind] = await (task if task is not None else follower.first(search=False))
            except BrokerError as exc:
                raise StartupError(
                    f"The {broker_of[kind]} instrument list could not be loaded: {exc.message}"
                ) from None
            log.info("broker %s ready with %d instruments", broker_of[kind], len(indexes[kind]))

        rooms = [
            furnish(
                settings,
                one,
                indexes[_master_of(one.broker)],
                notifier,
                preferences,
                label=label_of(settings, one, several),
                several=several,
                hours=hours,
                clock=clock,
            )
            for one in opened
        ]
        application.bot_data["services"] = Services(
            rooms=tuple(r.room for r in rooms),
            store=store,
            notifier=notifier,
            confirm_ttl_seconds=settings.confirm_ttl_seconds,
            choices=await Choices.load(store.choices),
            preferences=preferences,
            started_at=started_at,
            backlog=store.outbox.backlog,
        )
        for room in rooms:
            resources.push_async_callback(room.stop)
            await room.start()
        register(application)
        application.add_handler(screen(Doorman(settings.allowed_chats)), group=-1)
        await application.bot.set_my_commands(bot_commands())
        resources.push_async_callback(_stop_polling, application)
        await application.start()
        # Ready: each account's one start-up message is written to the outbox; then the sender
        # starts, with them and whatever an earlier run left undelivered, and the start-up
        # messages are delivered before the first update is read. A holiday calendar that does
        # not cover the year is told in each (and logged) once the bot is up, so a start that
        # fails stays one line.
        hours_warning = hours.coverage_warning(clock()) if hours is not None else None
        if hours_warning is not None:
            log.warning(hours_warning)
        warnings = (hours_warning,) if hours_warning is not None else ()
        await asyncio.gather(*(r.opened.teller(r.started(warnings)) for r in rooms))
        await sender.start()
        await _delivered(sender, [admin for r in rooms for admin in r.opened.teller.admins])
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=["message", "callback_query"])
        updater = application.updater
        # The search postings (a second of CPU on a 150k-row master) only once polling runs:
        # made earlier, they hold the GIL against the start-up; /search works before, slower.
        for index in indexes.values():
            index.start_search_postings()
        background = [
            asyncio.create_task(beat(heartbeat_path(settings), lambda: updater.running)),
            *(asyncio.create_task(follower.run()) for follower in followers.values()),
        ]
        for room in rooms:
            background.append(asyncio.create_task(expire_cards(room.room.desk, room.publish)))
            background.append(asyncio.create_task(room.summaries.run()))
            if room.room.limits is not None:
                background.append(asyncio.create_task(room.room.limits.run()))
            if isinstance(room.opened.broker, StreamsOrders):
                background.append(
                    asyncio.create_task(
                        _follow_feed(room.opened.broker, room.tracker, room.room.feed)
                    )
                )
        resources.push_async_callback(_cancel, background)
        log.info("bot is running")
        await stop.wait()
        await asyncio.gather(*(_tell_and_wait(r.opened.teller, r.stopping()) for r in rooms))
    finally:
        await resources.aclose()
    log.info("bot stopped")


def _master_of(broker: Broker) -> str:
    """Which instrument master the broker serves: accounts whose adapters share one (the same
    broker on the same cache folder, `master_key`) share one index; otherwise one per broker."""
    return broker.master_key if isinstance(broker, SharesInstruments) else broker.name


def _lists_before_login(broker: Broker) -> bool:
    return isinstance(broker, ListsInstrumentsBeforeLogin) and broker.instruments_before_login


async def _tell_and_wait(tell: Teller, event: BotStopping) -> None:
    """Tell the admins that the bot stops, waiting for Telegram a few seconds at most: a slow
    Telegram does not delay the exit for longer."""
    try:
        await asyncio.wait_for(tell(event, wait=True), NOTICE_SECONDS)
    except TimeoutError:
        log.warning("the %s notice did not reach Telegram in time", type(event).__name__)


async def _delivered(sender: Sender, chats: Sequence[int]) -> None:
    """Wait until the start-up messages to `chats` are delivered, a few seconds at most: a
    slow Telegram does not delay trading for longer."""
    try:
        await asyncio.wait_for(sender.drained(chats), NOTICE_SECONDS)
    except TimeoutError:
        log.warning("the start-up notice did not reach Telegram in time")


async def _stop_polling(application: Application) -> None:  # type: ignore[type-arg]
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()


async def _cancel(tasks: Sequence[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _signal_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, event.set)
    return event
