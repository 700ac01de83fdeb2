"""What a front end gets: the core services, transport-free. The wiring builds one of these and
hands it to the Telegram handlers; a CLI or webhook front end would take the same object."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.accounts import Account
from bot.clock import utcnow
from bot.errors import UserError
from bot.market.alert_watch import AlertWatch
from bot.market.portfolio import Portfolio
from bot.notify.notifier import Notifier
from bot.notify.preferences import Preferences
from bot.orders.desk import OrderDesk
from bot.orders.guard import LimitGuard
from bot.orders.unfilled import UnfilledWatch
from bot.settings import Role
from bot.store.choices import ChoiceRepo
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
class Room:
    """One broker account and everything that acts on it: its account (gate, session, limiter),
    desk, portfolio reads, alert and unfilled-order watches, its feed and its own view of the
    store. `name` is what users type (`/buy mom ...`), `label` what cards and pushes show;
    `roles` says who may use it and how (deny by default)."""

    name: str
    label: str
    account: Account
    desk: OrderDesk
    portfolio: Portfolio
    alerts: AlertWatch
    unfilled: UnfilledWatch
    store: Store
    roles: Mapping[int, Role]
    paper: bool = False
    feed: FeedState = field(default_factory=FeedState)
    # Its daily limits (issue 15); None: none set up.
    limits: LimitGuard | None = None

    def role_of(self, user_id: int) -> Role | None:
        return self.roles.get(user_id)


# Words an account may not be named, because commands take them where a name could stand.
RESERVED_NAMES = frozenset({"all", "on", "off", "help"})


class Choices:
    """Each user's default account, as they chose it with /account (kept in the store)."""

    def __init__(self, repo: ChoiceRepo, chosen: dict[int, str]) -> None:
        self._repo = repo
        self._chosen = chosen

    @classmethod
    async def load(cls, repo: ChoiceRepo) -> Choices:
        return cls(repo, await repo.all())

    def get(self, user_id: int) -> str | None:
        return self._chosen.get(user_id)

    async def set(self, user_id: int, name: str) -> None:
        await self._repo.set(user_id, name)
        self._chosen[user_id] = name


@dataclass(frozen=True, slots=True)
class Services:
    """The core services of every account. A front end picks the account a request acts on
    (`pick`, `at`), then uses `desk`, `portfolio`, `account`... of that room: the guard does it
    for every Telegram command and tap, so a handler never acts on an account by accident."""

    rooms: tuple[Room, ...]
    store: Store
    notifier: Notifier
    confirm_ttl_seconds: int
    choices: Choices
    # -- issue 12: notification choices and /status -----------------------------------------
    preferences: Preferences | None = None
    started_at: datetime = field(default_factory=utcnow)
    backlog: Callable[[], Awaitable[int]] | None = None
    now: Callable[[], datetime] = utcnow
    # The account this request acts on; None until a front end picks one (the first account).
    room: Room | None = None

    # -- the room in use ----------------------------------------------------------------------

    @property
    def current(self) -> Room:
        return self.room if self.room is not None else self.rooms[0]

    @property
    def desk(self) -> OrderDesk:
        return self.current.desk

    @property
    def portfolio(self) -> Portfolio:
        return self.current.portfolio

    @property
    def account(self) -> Account:
        return self.current.account

    @property
    def alerts(self) -> AlertWatch:
        return self.current.alerts

    @property
    def unfilled(self) -> UnfilledWatch:
        return self.current.unfilled

    @property
    def limits(self) -> LimitGuard | None:
        return self.current.limits

    @property
    def feed(self) -> FeedState:
        return self.current.feed

    @property
    def several(self) -> bool:
        """More than one account: cards, reports and pushes then say which one they are about."""
        return len(self.rooms) > 1

    def at(self, room: Room) -> Services:
        """These services acting on `room`."""
        return dataclasses.replace(self, room=room)

    # -- who may use what -----------------------------------------------------------------------

    def role_of(self, user_id: int) -> Role | None:
        """The user's role on the account in use. Deny by default: None for a user not on it."""
        return self.current.role_of(user_id)

    def best_role(self, user_id: int) -> Role | None:
        """The highest role the user has on any account (None: not allowed anywhere)."""
        best: Role | None = None
        for room in self.rooms:
            role = room.role_of(user_id)
            if role is not None and (best is None or role.allows(best)):
                best = role
        return best

    def rooms_of(self, user_id: int) -> list[Room]:
        """The accounts the user may see, in the configured order."""
        return [room for room in self.rooms if room.role_of(user_id) is not None]

    def default_room(self, user_id: int) -> Room | None:
        """What a command acts on when it names no account: the user's choice while they may
        still use it, else the first account they may use."""
        mine = self.rooms_of(user_id)
        chosen = self.choices.get(user_id)
        for room in mine:
            if room.name == chosen:
                return room
        return mine[0] if mine else None

    def named(self, user_id: int, name: str) -> Room:
        """The account called `name`, when the user may use it. An account they may not use is
        refused exactly like one that does not exist: they cannot learn it is there."""
        for room in self.rooms_of(user_id):
            if room.name == name.lower():
                return room
        yours = ", ".join(room.name for room in self.rooms_of(user_id)) or "none"
        raise UserError(
            "unknown_account", f"You have no account called {name!r}. Yours: {yours} (/account)."
        )

    def pick(self, user_id: int, args: Sequence[str]) -> tuple[Room | None, list[str]]:
        """The account a command acts on and the rest of its words: a first word that is an
        account's name (`/buy mom NSE:SBIN 10`) picks that account, else the user's default.
        With one account, words are never taken as a name."""
        words = list(args)
        if self.several and words and words[0].lower() in self.names:
            return self.named(user_id, words[0]), words[1:]
        return self.default_room(user_id), words

    @property
    def names(self) -> frozenset[str]:
        return frozenset(room.name for room in self.rooms)

    async def vitals(self) -> Vitals:
        backlog = await self.backlog() if self.backlog is not None else None
        room = self.current
        status = room.account.status()
        return Vitals(
            started_at=self.started_at,
            now=self.now(),
            broker=room.account.broker.name,
            last_broker_answer=room.account.last_broker_answer,
            feed=room.feed.state,
            feed_since=room.feed.since,
            backlog=backlog,
            orders_problem=status.blocked_reason,
        )
