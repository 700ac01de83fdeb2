"""Wiring one room per account: its broker and account first (`open_account`), then, once the
instrument index of its broker exists, its tracker, desk, watches and summary (`furnish`).

Every account has its own gate, session, limiter, tracker and view of the store, so one
account's failing login or blocked IP never blocks another's orders. What is the same for every
account of one broker is shared: the instrument master and its index are loaded once per broker
(`index_loader`), not once per account.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.accounts import Account, AccountConfig, TotpClock
from bot.app.build import build_account, build_broker
from bot.app.startup import AdminNotices
from bot.market.alert_watch import AlertWatch
from bot.market.hours import MarketHours
from bot.market.instruments import InstrumentIndex
from bot.market.portfolio import Portfolio
from bot.market.summary import DailySummaries
from bot.notify import Notifier
from bot.notify.events import ABOUT_AN_ACCOUNT, AdminEvent, BotStarted, BotStopping, UserEvent
from bot.notify.preferences import Preferences
from bot.orders.desk import OrderDesk
from bot.orders.guard import LimitGuard
from bot.orders.limits import DailyLimits
from bot.orders.policy import PolicyConfig
from bot.orders.tracker import OrderTracker, Patience
from bot.orders.unfilled import UnfilledWatch
from bot.services import Room
from bot.settings import Role, Settings
from bot.store.connection import Store
from brokers.base import Broker, LimitsQuoteBatch
from brokers.errors import BrokerError
from brokers.models import Instrument
from handlers.alerts import Pusher
from handlers.render.events import account_line
from handlers.summary import SummaryPoster

log = logging.getLogger(__name__)

__all__ = [
    "Furnished",
    "Opened",
    "Teller",
    "daily_limits",
    "expire_cards",
    "furnish",
    "index_loader",
    "label_of",
    "open_account",
]


@dataclass(slots=True)
class Opened:
    """An account whose broker and session parts exist (not started yet)."""

    config: AccountConfig
    broker: Broker
    store: Store
    notices: AdminNotices
    account: Account
    teller: Teller

    @property
    def paper(self) -> bool:
        return self.broker.name == "paper"


@dataclass(slots=True)
class Furnished:
    """An account with everything that acts on it, ready to start."""

    opened: Opened
    room: Room
    tracker: OrderTracker
    summaries: DailySummaries
    publish: Callable[[UserEvent], Awaitable[None]]

    async def start(self) -> None:
        """Before polling: orders a crash left SENDING are settled against the book and
        earlier days' orders lapsed, so no update is handled against a stale picture."""
        await self.tracker.start()
        await self.room.alerts.start()
        await self.room.unfilled.start()

    async def stop(self) -> None:
        for part in (self.room.unfilled, self.room.alerts, self.tracker):
            try:
                await part.stop()
            except Exception:
                log.exception("could not stop part of account %s", self.room.name)

    def started(self, warnings: tuple[str, ...] = ()) -> BotStarted:
        """The account's one start-up message (with the notices it held back)."""
        started = self.opened.notices.ready(
            broker=self.opened.broker.name,
            account=self.room.label,
            paper=self.opened.paper,
            orders_problem=self.opened.account.status().blocked_reason,
        )
        return dataclasses.replace(started, warnings=warnings) if warnings else started

    def stopping(self) -> BotStopping:
        return BotStopping(self.opened.broker.name, self.room.label)


class Teller:
    """The account's notices go to its own admins, each naming the account by `label` (known
    once the account has started: a lone account may be named by its broker's account id)."""

    def __init__(self, notifier: Notifier, admins: tuple[int, ...], label: str) -> None:
        self._notifier = notifier
        self.admins = admins
        self.label = label
        self.several = False

    async def __call__(self, event: AdminEvent, *, wait: bool = False) -> None:
        if self.several and isinstance(event, ABOUT_AN_ACCOUNT):
            event = dataclasses.replace(event, account=self.label)
        await self._notifier.tell_admins(event, wait=wait, admins=self.admins)


def open_account(
    settings: Settings,
    config: AccountConfig,
    store: Store,
    notifier: Notifier,
    broker: Broker | None = None,
    *,
    totp_clock: TotpClock | None = None,
    hours: MarketHours | None = None,
) -> Opened:
    """The account's broker (built from its config unless given), gate, session and limiter,
    with its notices held for one start-up message and written to its audit lines."""
    broker = broker or build_broker(settings, config, hours)
    scoped = store.for_account(config.name)
    admins = tuple(user for user, role in config.users.items() if role is Role.ADMIN)
    teller = Teller(notifier, admins, config.label)
    notices = AdminNotices(teller, scoped.audit)
    account = build_account(settings, broker, notices, totp_clock=totp_clock, account=config)
    return Opened(config, broker, scoped, notices, account, teller)


def index_loader(accounts: Sequence[Account]) -> Callable[[], Awaitable[Sequence[Instrument]]]:
    """Load one broker's master through the first of its accounts that can serve it: a broker
    that lists instruments only to a session (mStock) still loads while one account's login
    fails, as long as another account's works."""

    async def load() -> Sequence[Instrument]:
        failure: BrokerError | None = None
        for account in accounts:
            try:
                return await account.instruments()
            except BrokerError as exc:
                failure = failure or exc
                log.warning("instrument list not loaded through one account: %s", exc.message)
        assert failure is not None, "every broker kind has at least one account"
        raise failure

    return load


def label_of(settings: Settings, opened: Opened, several: bool) -> str:
    """What cards and pushes call the account: its configured label; a lone account keeps
    ACCOUNT_LABEL, else the broker's account id, as before there were several."""
    if several:
        return opened.config.label
    return settings.account_label or opened.account.status().account or opened.broker.name


def daily_limits(settings: Settings, account: AccountConfig | None = None) -> DailyLimits:
    """The account's daily limits: its own from the accounts file, else the settings', until
    an admin changes one (/limits); 0 (the default) is no limit."""
    own = account.limits if account is not None else {}
    loss = own.get("daily_max_loss", settings.daily_max_loss)
    orders = own.get("daily_max_orders", settings.daily_max_orders)
    value = own.get("max_order_value", settings.max_order_value)
    return DailyLimits(
        max_loss=Decimal(loss) or None,
        max_orders=orders or None,
        max_order_value=Decimal(value) or None,
    )


def furnish(
    settings: Settings,
    opened: Opened,
    index: InstrumentIndex,
    notifier: Notifier,
    preferences: Preferences,
    *,
    label: str,
    several: bool,
    hours: MarketHours | None,
    clock: Callable[[], datetime],
) -> Furnished:
    """The account's tracker, desk, portfolio, watches and daily summary, around `index`."""
    config, account, store = opened.config, opened.account, opened.store
    opened.teller.label, opened.teller.several = label, several
    # Cards name their account only when there are several (as the handlers' cards do).
    publish = notifier.for_account(label, paper=opened.paper, cards=several)
    tracker = OrderTracker(
        store,
        account,
        publish,
        index=index,
        poll_seconds=settings.order_poll_seconds,
        patience=Patience(
            settings.unknown_order_looks,
            timedelta(seconds=settings.unknown_order_window_seconds),
        ),
    )
    policy = PolicyConfig(
        grid=settings.grid,
        lpp=settings.lpp,
        max_ltp_age=timedelta(seconds=settings.ltp_max_age_seconds),
    )
    guard = LimitGuard(
        store.limits,
        account,
        name=config.name,
        label=label,
        defaults=daily_limits(settings, config),
        notify=opened.teller,
        now=clock,
    )
    desk = OrderDesk(
        store,
        account,
        index,
        confirm_ttl=timedelta(seconds=settings.confirm_ttl_seconds),
        policy=policy,
        on_orders_sent=tracker.wake,
        now=clock,
        hours=hours,
        limits=guard,
    )
    footer = account_line(label, opened.paper) if several else ""
    pusher = Pusher(notifier, config.users, config.name, footer)
    broker = opened.broker
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
    summaries = DailySummaries(
        account,
        store.preferences,
        SummaryPoster(notifier, preferences, config.users),
        at=settings.daily_summary_time,
        label=label,
        now=clock,
    )
    room = Room(
        name=config.name,
        label=label,
        account=account,
        desk=desk,
        portfolio=Portfolio(account, index),
        alerts=alerts,
        unfilled=unfilled,
        store=store,
        roles=config.users,
        paper=opened.paper,
        limits=guard,
    )
    return Furnished(opened, room, tracker, summaries, publish)


async def expire_cards(desk: OrderDesk, publish: Callable[[UserEvent], Awaitable[None]]) -> None:
    """End the cards whose confirmation expired: they say so over their order, without buttons."""
    while True:
        await asyncio.sleep(5.0)
        try:
            for update in await desk.expire_due():
                await publish(update)
        except Exception:
            log.exception("could not expire confirmation cards")
