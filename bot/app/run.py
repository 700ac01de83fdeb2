"""Wiring: builds the core services and the Telegram application around the account, and runs them.

This is the one module in `bot/` that imports `handlers` (to register them). `run()` drives the
python-telegram-bot lifecycle itself (initialize → start → start_polling) inside the caller's
event loop instead of `run_polling()`, so end-to-end tests run exactly this function against a
fake Bot API server. `post_init` is not called on that path, so start-up work such as
`setMyCommands` is done here explicitly.

Start-up order matters: the account (IP, session), the instrument index (loaded meanwhile) and
the order tracker are ready, and orders a crash left in SENDING are reconciled against the order
book, *before* the first Telegram update is read, so no tap can race the reconciliation. Before
any of it, the instance lock beside the database (`bot.app.lock`) makes a second bot on the same
database stop with one line.

Updates are processed concurrently (see `CONCURRENT_UPDATES`): one user's 40-slice batch, a
slow broker read or a TOTP wait never holds up another user's command or tap. Nothing in the
order path relies on updates arriving one at a time: a confirmation is claimed with a
compare-and-set in SQLite, so of many simultaneous taps exactly one wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, ApplicationBuilder

from bot.accounts import TotpClock
from bot.app.build import build_account, build_broker, secret_values
from bot.app.health import beat, heartbeat_path
from bot.app.imports import remember_absent_sniffio
from bot.app.lock import instance_lock
from bot.app.reach import telegram_unreachable
from bot.app.startup import AdminNotices
from bot.clock import utcnow
from bot.errors import StartupError
from bot.logs import setup_logging
from bot.market.alert_watch import AlertWatch
from bot.market.follow import IndexFollower
from bot.market.instruments import InstrumentIndex
from bot.market.portfolio import Portfolio
from bot.market.summary import DailySummaries
from bot.notify import Notifier, Sender
from bot.notify.events import BotStarted, BotStopping
from bot.notify.preferences import Preferences
from bot.orders.desk import OrderDesk
from bot.orders.policy import PolicyConfig
from bot.orders.tracker import OrderTracker, Patience
from bot.orders.unfilled import UnfilledWatch
from bot.services import FeedState, Services
from bot.settings import Settings
from bot.store.connection import Store
from brokers.base import (
    Broker,
    LimitsQuoteBatch,
    ListsInstrumentsBeforeLogin,
    StreamsOrders,
    VersionedInstruments,
)
from brokers.errors import BrokerError
from handlers.alerts import Pusher
from handlers.chats import Doorman, screen
from handlers.outbox import TelegramOutbox
from handlers.registry import bot_commands, register
from handlers.render import render_event
from handlers.summary import SummaryPoster

log = logging.getLogger(__name__)

# How many updates are handled at once. `ApplicationBuilder.concurrent_updates` rather than
# `block=False` on each handler: one setting covers every handler, the chat screen and the error
# handler, including any added later, and it is a bound, so a flood of updates queues instead
# of starting an unbounded number of tasks. 256 is far above what a handful of users need.
CONCURRENT_UPDATES = 256
# How long the start-up and stop messages may wait for Telegram.
NOTICE_SECONDS = 10.0


def _master_version(broker: Broker) -> Callable[[], str] | None:
    """The broker's master version when its instrument list changes while the bot runs."""
    return broker.instruments_version if isinstance(broker, VersionedInstruments) else None


async def _expire_cards(desk: OrderDesk, notifier: Notifier, every: float = 5.0) -> None:
    """End the cards whose confirmation expired: they say so over their order, without buttons."""
    while True:
        await asyncio.sleep(every)
        try:
            for update in await desk.expire_due():
                await notifier.publish(update)
        except Exception:
            log.exception("could not expire confirmation cards")


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
    totp_clock: TotpClock | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Run the bot until `stop` is set (or SIGINT/SIGTERM when `stop` is None). `broker` is
    built from the settings unless given (tests pass a paper broker they can steer);
    `totp_clock` is the wall clock unless given (see `build_account`); `clock` is what the
    desk (quote age, card expiry), the alert and unfilled-limit watches and the daily summary
    read the time from: one clock, so a test that moves it moves the whole bot."""
    remember_absent_sniffio()
    setup_logging(settings.log_level, secret_values(settings))
    for warning in settings.warnings():
        log.warning(warning)
    stop = stop or _signal_event()
    # Each part pushes its own stop here as soon as it exists, and they run in reverse, each
    # even when an earlier one fails: a start-up that fails half-way (Telegram unreachable,
    # token refused) still closes what it opened. The database's worker thread is not a
    # daemon: a process left holding it would hang instead of exiting for its restart policy.
    resources = contextlib.AsyncExitStack()
    try:
        resources.enter_context(instance_lock(settings.database_path))
        broker = broker or build_broker(settings)
        store = await Store.open(settings.database_path)
        resources.push_async_callback(store.close)
        application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(settings.telegram_base_url)
            .concurrent_updates(CONCURRENT_UPDATES)
            .build()
        )
        started_at = utcnow()
        preferences = await Preferences.load(store.preferences, settings.allowed_users)
        outbox = TelegramOutbox(application.bot)
        sender = Sender(store.outbox, outbox)  # pushes: persistent outbox, paced
        notifier = Notifier(
            outbox,
            render_event,
            sender=sender,
            admins=settings.admins,
            preference=preferences.for_event,
        )
        # Until the bot is ready, the account's notices are held for one start-up message.
        notices = AdminNotices(notifier.tell_admins, store.audit)
        account = build_account(settings, broker, notices, totp_clock=totp_clock)
        resources.push_async_callback(account.stop)  # closes the broker too
        resources.push_async_callback(application.shutdown)  # a no-op unless initialized
        # The instrument list (the longest step: a 48 MB master to parse, or its compact copy
        # to read) loads while Telegram and the broker session start when the broker serves it
        # without a session (Kotak, ref §1), else right after the login (mStock). Nothing reads
        # it before it is ready: polling, and so every order, starts only after the index exists.
        follower = IndexFollower(
            account.instruments, _master_version(broker), every=settings.instruments_check_seconds
        )
        first_index: asyncio.Task[InstrumentIndex] | None = None
        if isinstance(broker, ListsInstrumentsBeforeLogin) and broker.instruments_before_login:
            first_index = asyncio.create_task(follower.first(search=False), name="instruments")
            resources.push_async_callback(_cancel, [first_index])
        try:
            await application.initialize()
        except InvalidToken:
            raise StartupError("Telegram refused TELEGRAM_BOT_TOKEN; check the token.") from None
        except NetworkError as exc:
            reason = telegram_unreachable(settings.telegram_base_url, exc)
            raise StartupError(f"{reason}.") from None
        resources.push_async_callback(sender.stop)  # before the bot's HTTP client closes
        resources.push_async_callback(notifier.settled)  # card edits still under way
        await sender.start()  # with what an earlier run left undelivered
        await account.start()
        try:
            index = await (first_index if first_index is not None else follower.first(search=False))
        except BrokerError as exc:
            raise StartupError(f"The instrument list could not be loaded: {exc.message}") from None
        log.info("broker %s ready with %d instruments", broker.name, len(index))

        # The account's name in pushes, the start/stop notices and the summary.
        label = settings.account_label or account.status().account or broker.name
        tracker = OrderTracker(
            store,
            account,
            notifier.for_account(label, paper=broker.name == "paper"),
            index=index,
            poll_seconds=settings.order_poll_seconds,
            patience=Patience(
                settings.unknown_order_looks,
                timedelta(seconds=settings.unknown_order_window_seconds),
            ),
        )
        policy = PolicyConfig(
            grid=settings.grid, max_ltp_age=timedelta(seconds=settings.ltp_max_age_seconds)
        )
        desk = OrderDesk(
            store,
            account,
            index,
            confirm_ttl=timedelta(seconds=settings.confirm_ttl_seconds),
            policy=policy,
            on_orders_sent=tracker.wake,
            now=clock,
        )
        pusher = Pusher(notifier, settings.allowed_users)
        alerts = AlertWatch(
            store.alerts,
            account.quotes,
            index,
            pusher,
            every=settings.alert_check_seconds,
            max_age=timedelta(seconds=settings.ltp_max_age_seconds),
            batch_size=broker.quote_batch_limit if isinstance(broker, LimitsQuoteBatch) else None,
            now=clock,
        )
        unfilled = UnfilledWatch(
            store,
            account,
            desk,
            pusher,
            after=timedelta(seconds=settings.unfilled_alert_seconds),
            every=settings.order_poll_seconds,
            policy=policy,
            now=clock,
        )
        feed = FeedState()
        application.bot_data["services"] = Services(
            desk=desk,
            portfolio=Portfolio(account, index),
            account=account,
            store=store,
            notifier=notifier,
            roles=settings.allowed_users,
            confirm_ttl_seconds=settings.confirm_ttl_seconds,
            alerts=alerts,
            unfilled=unfilled,
            preferences=preferences,
            started_at=started_at,
            feed=feed,
            backlog=store.outbox.backlog,
        )
        summaries = DailySummaries(
            account,
            store.preferences,
            SummaryPoster(notifier, preferences, settings.allowed_users),
            at=settings.daily_summary_time,
            label=label,
            now=clock,
        )
        # Before polling: orders a crash left SENDING are settled against the book and earlier
        # days' orders lapsed, so no update is handled against a stale picture.
        resources.push_async_callback(tracker.stop)
        await tracker.start()
        resources.push_async_callback(alerts.stop)
        await alerts.start()
        resources.push_async_callback(unfilled.stop)
        await unfilled.start()
        register(application)
        application.add_handler(screen(Doorman(settings.allowed_chats)), group=-1)
        await application.bot.set_my_commands(bot_commands())
        resources.push_async_callback(_stop_polling, application)
        await application.start()
        # Ready: the one start-up message goes out, delivered before the first update is read.
        started = notices.ready(
            broker=broker.name,
            account=label,
            paper=broker.name == "paper",
            orders_problem=account.status().blocked_reason,
        )
        await _tell_and_wait(notifier, started)
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=["message", "callback_query"])
        updater = application.updater
        # The search postings (a second of CPU on a 150k-row master) only once polling runs:
        # made earlier, they hold the GIL against the start-up; /search works before, slower.
        index.start_search_postings()
        background = [
            asyncio.create_task(_expire_cards(desk, notifier)),
            asyncio.create_task(follower.run()),
            asyncio.create_task(beat(heartbeat_path(settings), lambda: updater.running)),
            asyncio.create_task(summaries.run()),
        ]
        if isinstance(broker, StreamsOrders):
            background.append(asyncio.create_task(_follow_feed(broker, tracker, feed)))
        resources.push_async_callback(_cancel, background)
        log.info("bot is running")
        await stop.wait()
        await _tell_and_wait(notifier, BotStopping(broker.name, label))
    finally:
        await resources.aclose()
    log.info("bot stopped")


async def _tell_and_wait(notifier: Notifier, event: BotStarted | BotStopping) -> None:
    """Tell the admins that the bot started or stops, waiting for Telegram a few seconds at
    most: a slow Telegram delays neither trading nor the exit for longer."""
    try:
        await asyncio.wait_for(notifier.tell_admins(event, wait=True), NOTICE_SECONDS)
    except TimeoutError:
        log.warning("the %s notice did not reach Telegram in time", type(event).__name__)


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
