"""What a front end gets: the core services, transport-free. The wiring builds one of these and
hands it to the Telegram handlers; a CLI or webhook front end would take the same object."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.accounts import Account
from bot.clock import utcnow
from bot.market.alert_watch import AlertWatch
from bot.market.portfolio import Portfolio
from bot.notify.notifier import Notifier
from bot.notify.preferences import Preferences
from bot.orders.desk import OrderDesk
from bot.orders.unfilled import UnfilledWatch
from bot.settings import Role
from bot.store.connection import Store


class FeedState:
    """The broker's order feed as the wiring last saw it: `none` (the broker has no feed; the
    order book is polled), `streaming`, or `down` (restarting; polling covers the gap). Why it
    went down is only logged: a feed's error text may hold its URL, and this is shown in chat."""

    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        self._now = now
        self.state: Literal["none", "streaming", "down"] = "none"
        self.since: datetime = now()

    def set(self, state: Literal["none", "streaming", "down"]) -> None:
        if state != self.state:
            self.state, self.since = state, self._now()


@dataclass(frozen=True, slots=True)
class Vitals:
    """What /status shows: is the bot alive, does the broker answer, is anything piling up.
    `backlog` is None when the outbox cannot tell."""

    started_at: datetime
    now: datetime
    broker: str
    last_broker_answer: datetime | None
    feed: str
    feed_since: datetime
    backlog: int | None
    orders_problem: str | None


@dataclass(frozen=True, slots=True)
class Services:
    desk: OrderDesk
    portfolio: Portfolio
    account: Account
    store: Store
    notifier: Notifier
    roles: dict[int, Role]
    confirm_ttl_seconds: int
    alerts: AlertWatch
    unfilled: UnfilledWatch
    # -- issue 12: notification choices and /status -----------------------------------------
    preferences: Preferences | None = None
    started_at: datetime = field(default_factory=utcnow)
    feed: FeedState = field(default_factory=FeedState)
    backlog: Callable[[], Awaitable[int]] | None = None
    now: Callable[[], datetime] = utcnow

    def role_of(self, user_id: int) -> Role | None:
        """Deny by default: a user not in TELEGRAM_ALLOWED_USERS has no role at all."""
        return self.roles.get(user_id)

    async def vitals(self) -> Vitals:
        backlog = await self.backlog() if self.backlog is not None else None
        status = self.account.status()
        return Vitals(
            started_at=self.started_at,
            now=self.now(),
            broker=self.account.broker.name,
            last_broker_answer=self.account.last_broker_answer,
            feed=self.feed.state,
            feed_since=self.feed.since,
            backlog=backlog,
            orders_problem=status.blocked_reason,
        )
