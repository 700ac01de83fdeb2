"""Per user and per kind of notification: `on`, `silent` (delivered without a sound) or `off`.

Too many or too few notifications is a top complaint about trading bots (lessons.md 7), so each
user chooses per kind, as Freqtrade does per message type. Kinds group the events a trader
thinks of together (a fill and a partial fill are both "fills"), so `/notify` is one short list
rather than a row per event class. Only what a user changed is stored; everything else takes
the default of their role, so a viewer does not get the daily summary unless they ask for it.

The choices are read once at start and kept in memory (written through on change): the
notifier asks for every push, including from inside a login during an order call, and that must
not wait on the database. A card's edit is never filtered: it is the answer to the user's own
tap, not a notification.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol, get_args

from bot.notify.events import (
    AlertTriggered,
    BotStarted,
    BotStopping,
    CardUpdate,
    ChangeSettled,
    DailySummary,
    Event,
    OrderCancelled,
    OrderFilled,
    OrderFound,
    OrderNotFound,
    OrderPartiallyFilled,
    OrderRejected,
    OrdersLapsed,
)
from bot.settings import Role

__all__ = ["CHOICES", "KINDS", "Choice", "Kind", "Preferences", "kind_of", "kinds_for"]

Choice = Literal["on", "silent", "off"]
Kind = Literal["fills", "rejections", "orders", "alerts", "session", "lifecycle", "summary"]
CHOICES: tuple[Choice, ...] = get_args(Choice)
KINDS: tuple[Kind, ...] = get_args(Kind)

# Who receives each kind at all (session, IP and start/stop notices go to admins only; fills
# and rejections to whoever can place orders): the rows /notify shows a user.
_NEEDS: dict[Kind, Role] = {
    "fills": Role.TRADER,
    "rejections": Role.TRADER,
    "orders": Role.TRADER,
    "alerts": Role.VIEWER,
    "session": Role.ADMIN,
    "lifecycle": Role.ADMIN,
    "summary": Role.VIEWER,
}
# The defaults: everything a user receives is on, except the daily summary for a viewer (a
# family member who watches rather than trades asks for it).
_OFF_BY_DEFAULT: frozenset[tuple[Role, Kind]] = frozenset({(Role.VIEWER, "summary")})


def kind_of(event: Event) -> Kind | None:
    """The kind an event is chosen by; None for a card's edit (never filtered)."""
    match event:
        case CardUpdate():
            return None
        case OrderFilled() | OrderPartiallyFilled():
            return "fills"
        case OrderRejected():
            return "rejections"
        case OrderCancelled() | OrderFound() | OrderNotFound() | ChangeSettled() | OrdersLapsed():
            return "orders"
        case AlertTriggered():
            return "alerts"
        case BotStarted() | BotStopping():
            return "lifecycle"
        case DailySummary():
            return "summary"
        case _:
            return "session"


def kinds_for(role: Role) -> tuple[Kind, ...]:
    """The kinds a user of `role` receives, in the order /notify lists them."""
    return tuple(k for k in KINDS if role.allows(_NEEDS[k]))


def _next_choice(choice: Choice) -> Choice:
    """A tap cycles on → silent → off → on."""
    return CHOICES[(CHOICES.index(choice) + 1) % len(CHOICES)]


class ChoiceStore(Protocol):
    """Where choices are kept (`bot.store.PreferenceRepo`): passed in, so this room needs
    nothing from the store but these two calls."""

    async def all(self) -> dict[int, dict[str, str]]: ...

    async def set(self, user_id: int, kind: str, choice: str) -> None: ...


class Preferences:
    """The choices of every allowed user. Build with `await Preferences.load(repo, roles)`."""

    def __init__(
        self,
        repo: ChoiceStore,
        roles: Mapping[int, Role],
        stored: Mapping[int, Mapping[str, str]],
    ) -> None:
        self._repo = repo
        self._roles = dict(roles)
        self._stored: dict[int, dict[str, str]] = {u: dict(c) for u, c in stored.items()}

    @classmethod
    async def load(cls, repo: ChoiceStore, roles: Mapping[int, Role]) -> Preferences:
        return cls(repo, roles, await repo.all())

    def default(self, user_id: int, kind: Kind) -> Choice:
        role = self._roles.get(user_id)
        if role is None or (role, kind) in _OFF_BY_DEFAULT:
            return "off"
        return "on"

    async def choice(self, user_id: int, kind: Kind) -> Choice:
        """What `user_id` wants for `kind`. A chat that is not a known user (a group the bot
        serves) takes the defaults of nobody in particular: on."""
        stored = self._stored.get(user_id, {}).get(kind)
        if stored in CHOICES:
            return stored
        if user_id not in self._roles:
            return "on"
        return self.default(user_id, kind)

    async def for_event(self, chat_id: int, event: Event) -> Choice:
        """The notifier's hook: the choice for this event in this chat (on for a card edit)."""
        kind = kind_of(event)
        return "on" if kind is None else await self.choice(chat_id, kind)

    async def all_of(self, user_id: int) -> dict[Kind, Choice]:
        """The user's choice for each kind their role receives."""
        role = self._roles.get(user_id)
        if role is None:
            return {}
        return {k: await self.choice(user_id, k) for k in kinds_for(role)}

    async def cycle(self, user_id: int, kind: Kind) -> Choice:
        """Move the user's choice for `kind` one step on, store it, and return it."""
        choice = _next_choice(await self.choice(user_id, kind))
        await self._repo.set(user_id, kind, choice)
        self._stored.setdefault(user_id, {})[kind] = choice
        return choice
