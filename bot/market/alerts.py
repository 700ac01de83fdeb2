"""Price alerts: the rules and their evaluation. Pure: no I/O, no clock, no awaits.

Kinds (`level` is a price, except for `move`, where it is a percentage):
- `above L` fires when a fresh LTP is at or above L; `below L` when it is at or below L. These
  are conditions, so an alert set while the price is already past its level fires on the first
  fresh price (the trader learns at once that the level is behind them, instead of waiting for a
  fall and a new rise that may never come). Use `crosses` to wait for a crossing.
- `crosses L` fires when the price goes through L, either way: it needs a price on one side
  (the price when it was set, or the first fresh price seen) and then one strictly on the other;
  a touch of L itself moves nothing.
- `move N` fires when the price is N % or more away from the price when the alert was set, up
  or down.

Each alert remembers its `side` (where the last fresh price stood: above or below its level, or
inside / above / below a move's band) and fires only when a price moves it onto its firing side,
so it fires once per crossing, never twice for one move. The side is persisted, so a restart
does not re-fire either. A one-shot alert is done once it fired; a `repeat` alert is armed again
when the price returns, and fires again on the next crossing once `cooldown` has passed since it
last fired (a crossing inside the cool-down moves its side but sends nothing).

A fired alert can be snoozed (`armed_side`, `snoozed_until`): it is armed again and stays armed
while snoozed, so the first fresh price past its level once the snooze is over fires it: a
"tell me again in 15 minutes if it still holds", not a mute that swallows the crossing.

Evaluation is indexed by instrument, and within one instrument each alert waits on the one
threshold (two for a move inside its band) whose crossing would change its side, in one of four
sorted ladders by direction and strictness. A price touches only the alerts whose threshold it
reached, found by bisection: O(log n + changed) per price, whatever the number of alerts.
Prices that are missing, undated or older than `LTP_MAX_AGE_SECONDS` are ignored.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal, NamedTuple, Protocol

from bot.errors import UserError
from bot.market.freshness import oldest_fresh
from bot.store.alerts import AlertState
from brokers.models import Quote

_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


class AlertKind(StrEnum):
    ABOVE = "above"
    BELOW = "below"
    CROSSES = "crosses"
    MOVE = "move"


class Side(StrEnum):
    """Where the last fresh price stood: relative to the level, or to a move's band."""

    ABOVE = "above"
    BELOW = "below"
    INSIDE = "inside"  # a move alert's price within its band


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert and its state. `reference` is the LTP when it was set (a move's base; for
    `crosses` it gives the first side). `side` None: no price seen yet (`crosses` only)."""

    id: int
    user_id: int
    chat_id: int
    key: str
    kind: AlertKind
    level: Decimal
    reference: Decimal | None = None
    note: str = ""
    repeat: bool = False
    cooldown: timedelta = timedelta(0)
    side: Side | None = None
    fired_at: datetime | None = None
    snoozed_until: datetime | None = None

    def band(self) -> tuple[Decimal, Decimal]:
        """A move alert's (low, high): the prices N % below and above its reference."""
        assert self.reference is not None  # checked when the alert is made
        step = self.reference * self.level / _HUNDRED
        return self.reference - step, self.reference + step


class Fired(NamedTuple):
    """An alert that fired at `price`, quoted at `quoted_at`. `alert` is the alert as it was
    added (its rule; its new side and fire time are in the matching `AlertState`). A
    NamedTuple, like `AlertState`: cheap to make by the thousand."""

    alert: Alert
    price: Decimal
    quoted_at: datetime
    direction: Literal["up", "down"]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one batch of prices changed: the states to persist, and the alerts that fired."""

    states: list[AlertState] = field(default_factory=list)
    fired: list[Fired] = field(default_factory=list)


def check_rule(kind: AlertKind, level: Decimal, reference: Decimal | None) -> None:
    """Refuse an alert that could never fire sensibly, in one plain sentence."""
    if not level.is_finite() or level <= 0:
        what = "percentage" if kind is AlertKind.MOVE else "price level"
        raise UserError("bad_alert", f"The alert's {what} must be above 0; got {level}.")
    if kind is AlertKind.MOVE:
        if level >= _HUNDRED:
            raise UserError("bad_alert", f"A move alert takes a percentage under 100; got {level}.")
        if reference is None or reference <= 0:
            raise UserError(
                "bad_alert", "A move alert needs the current price to measure the move from."
            )


def first_side(kind: AlertKind, level: Decimal, reference: Decimal | None) -> Side | None:
    """The side a new alert starts on. `above`/`below` start armed (so a price already past
    the level fires at once); `crosses` starts on the side of the price it was set at (None
    without one: the first fresh price decides); `move` starts inside its band."""
    if kind is AlertKind.ABOVE:
        return Side.BELOW
    if kind is AlertKind.BELOW:
        return Side.ABOVE
    if kind is AlertKind.MOVE:
        return Side.INSIDE
    if reference is None or reference == level:
        return None
    return Side.ABOVE if reference > level else Side.BELOW


def armed_side(kind: AlertKind, side: Side | None) -> Side | None:
    """The side a fired alert (now on `side`) is armed on again: the one it fired from."""
    if kind is AlertKind.CROSSES and side is not None:
        return Side.BELOW if side is Side.ABOVE else Side.ABOVE
    return first_side(kind, Decimal(0), None)


# The sides as plain module names: the hot path compares them by identity.
_UP, _DOWN, _INSIDE = Side.ABOVE, Side.BELOW, Side.INSIDE
_Waits = tuple[tuple["_Ladder", Decimal], ...]


class _Rule(Protocol):
    """How one kind of alert reads a price: the side it puts the alert on, whether moving
    from one side to another fires it, and the thresholds it waits on from a side (the
    crossings that would change its side, in the ladders of `_Book`)."""

    def side(self, watch: _Watch, price: Decimal) -> Side | None: ...

    def fires(self, old: Side | None, new: Side | None) -> bool: ...

    def waits(self, watch: _Watch, book: _Book) -> _Waits: ...


class _Above(_Rule):
    def side(self, watch: _Watch, price: Decimal) -> Side | None:
        return _UP if price >= watch.alert.level else _DOWN

    def fires(self, old: Side | None, new: Side | None) -> bool:
        return new is _UP and old is not _UP

    def waits(self, watch: _Watch, book: _Book) -> _Waits:
        level = watch.alert.level
        return ((book.rise_to, level) if watch.side is _DOWN else (book.fall_past, level),)


class _Below(_Rule):
    def side(self, watch: _Watch, price: Decimal) -> Side | None:
        return _DOWN if price <= watch.alert.level else _UP

    def fires(self, old: Side | None, new: Side | None) -> bool:
        return new is _DOWN and old is not _DOWN

    def waits(self, watch: _Watch, book: _Book) -> _Waits:
        level = watch.alert.level
        return ((book.fall_to, level) if watch.side is _UP else (book.rise_past, level),)


class _Crosses(_Rule):
    def side(self, watch: _Watch, price: Decimal) -> Side | None:
        level = watch.alert.level
        if price == level:
            return watch.side  # a touch is not a crossing
        return _UP if price > level else _DOWN

    def fires(self, old: Side | None, new: Side | None) -> bool:
        return old is not None and new is not None and new is not old

    def waits(self, watch: _Watch, book: _Book) -> _Waits:
        level, side = watch.alert.level, watch.side
        if side is None:
            return ()  # in `unsided`
        return ((book.fall_past, level) if side is _UP else (book.rise_past, level),)


class _Move(_Rule):
    def side(self, watch: _Watch, price: Decimal) -> Side | None:
        if price >= watch.high:
            return _UP
        return _DOWN if price <= watch.low else _INSIDE

    def fires(self, old: Side | None, new: Side | None) -> bool:
        return new is not _INSIDE and new is not old

    def waits(self, watch: _Watch, book: _Book) -> _Waits:
        if watch.side is _UP:
            return ((book.fall_past, watch.high),)
        if watch.side is _DOWN:
            return ((book.rise_past, watch.low),)
        return ((book.rise_to, watch.high), (book.fall_to, watch.low))


_RULES: dict[AlertKind, _Rule] = {
    AlertKind.ABOVE: _Above(),
    AlertKind.BELOW: _Below(),
    AlertKind.CROSSES: _Crosses(),
    AlertKind.MOVE: _Move(),
}


class _Watch:
    """The engine's live view of one alert: its rule, a move's band (worked out once), its
    side and last fire time, and the thresholds it waits on now."""

    __slots__ = ("alert", "fired_at", "high", "low", "rule", "side", "snoozed_until", "waits")

    def __init__(self, alert: Alert) -> None:
        self.alert = alert
        self.rule = _RULES[alert.kind]
        self.side = alert.side
        self.fired_at = alert.fired_at
        self.snoozed_until = alert.snoozed_until
        self.low, self.high = alert.band() if alert.kind is AlertKind.MOVE else (_ZERO, _ZERO)
        self.waits: _Waits = ()


class _Ladder:
    """Thresholds in ascending order, each with the alert waiting on it (parallel lists, so
    bisection compares plain Decimals)."""

    __slots__ = ("alerts", "levels")

    def __init__(self) -> None:
        self.levels: list[Decimal] = []
        self.alerts: list[int] = []

    def add(self, level: Decimal, alert_id: int) -> None:
        at = bisect_right(self.levels, level)
        self.levels.insert(at, level)
        self.alerts.insert(at, alert_id)

    def discard(self, level: Decimal, alert_id: int) -> None:
        at = bisect_left(self.levels, level)
        while at < len(self.levels) and self.levels[at] == level:
            if self.alerts[at] == alert_id:
                del self.levels[at], self.alerts[at]
                return
            at += 1

    def take_head(self, end: int) -> list[int]:
        taken = self.alerts[:end]
        del self.levels[:end], self.alerts[:end]
        return taken

    def take_tail(self, start: int) -> list[int]:
        taken = self.alerts[start:]
        del self.levels[start:], self.alerts[start:]
        return taken


@dataclass(slots=True)
class _Book:
    """One instrument's waiting alerts: `rise_to` fire at price >= threshold, `rise_past` at
    price > threshold, `fall_to` at price <= threshold, `fall_past` at price < threshold;
    `unsided` have seen no price yet (a `crosses` alert set without one)."""

    rise_to: _Ladder = field(default_factory=_Ladder)
    rise_past: _Ladder = field(default_factory=_Ladder)
    fall_to: _Ladder = field(default_factory=_Ladder)
    fall_past: _Ladder = field(default_factory=_Ladder)
    unsided: dict[int, None] = field(default_factory=dict)  # an ordered set

    def reached(self, price: Decimal) -> list[int]:
        """Take out every alert whose threshold `price` reached. Each ladder's nearest end is
        compared first, so a price that reached nothing costs four comparisons."""
        hit: list[int] = []
        ladder = self.rise_to
        if ladder.levels and ladder.levels[0] <= price:
            hit += ladder.take_head(bisect_right(ladder.levels, price))
        ladder = self.rise_past
        if ladder.levels and ladder.levels[0] < price:
            hit += ladder.take_head(bisect_left(ladder.levels, price))
        ladder = self.fall_to
        if ladder.levels and ladder.levels[-1] >= price:
            hit += ladder.take_tail(bisect_left(ladder.levels, price))
        ladder = self.fall_past
        if ladder.levels and ladder.levels[-1] > price:
            hit += ladder.take_tail(bisect_right(ladder.levels, price))
        if self.unsided:
            hit += self.unsided
            self.unsided.clear()
        return hit

    def is_empty(self) -> bool:
        return not (
            self.rise_to.levels
            or self.rise_past.levels
            or self.fall_to.levels
            or self.fall_past.levels
            or self.unsided
        )


class AlertEngine:
    """The active alerts, indexed by instrument. `max_age` is LTP_MAX_AGE_SECONDS: an older
    quote fires nothing. The caller persists `Evaluation.states` before it tells anyone about
    `Evaluation.fired`, so a crash can lose a notice but never send one twice."""

    def __init__(self, max_age: timedelta) -> None:
        self._max_age = max_age
        self._watches: dict[int, _Watch] = {}
        self._books: dict[str, _Book] = {}

    def __len__(self) -> int:
        return len(self._watches)

    def __contains__(self, alert_id: object) -> bool:
        return alert_id in self._watches

    def watched(self) -> list[str]:
        """The instruments that have active alerts: what to ask quotes for."""
        return list(self._books)

    def add(self, alert: Alert) -> None:
        """Watch `alert` from its state (replacing one with the same id)."""
        self.remove(alert.id)
        watch = self._watches[alert.id] = _Watch(alert)
        self._wait(watch, self._books.setdefault(alert.key, _Book()))

    def remove(self, alert_id: int) -> bool:
        watch = self._watches.pop(alert_id, None)
        if watch is None:
            return False
        book = self._books[watch.alert.key]
        for ladder, level in watch.waits:
            ladder.discard(level, alert_id)
        book.unsided.pop(alert_id, None)
        if book.is_empty():
            del self._books[watch.alert.key]
        return True

    def evaluate(self, quotes: Iterable[Quote], now: datetime) -> Evaluation:
        """Apply fresh prices; quotes without a price, undated or stale are skipped."""
        result = Evaluation()
        oldest = oldest_fresh(now, self._max_age)  # the stale rule, worked out once
        books = self._books
        for quote in quotes:
            book = books.get(quote.key)
            price = quote.ltp
            if book is None or price is None or price <= 0 or quote.at is None:
                continue
            if quote.at < oldest:
                continue
            hit = book.reached(price)
            for alert_id in hit:
                self._move(self._watches[alert_id], book, price, quote.at, now, result)
            if hit and book.is_empty():
                del self._books[quote.key]
        return result

    def _move(
        self,
        watch: _Watch,
        book: _Book,
        price: Decimal,
        quoted_at: datetime,
        now: datetime,
        result: Evaluation,
    ) -> None:
        """`price` reached one of the alert's thresholds: give it its new side, fire it when
        that is its firing side and it is out of its cool-down, and let it wait again."""
        alert = watch.alert
        if len(watch.waits) > 1:  # a move inside its band also waits on its other edge
            for ladder, level in watch.waits:
                ladder.discard(level, alert.id)
        old, side = watch.side, watch.rule.side(watch, price)
        firing = watch.rule.fires(old, side)
        if firing and watch.snoozed_until is not None and now < watch.snoozed_until:
            self._wait(watch, book)  # snoozed: stays armed for the first price after it
            return
        fired = firing and (watch.fired_at is None or now - watch.fired_at >= alert.cooldown)
        done = fired and not alert.repeat
        if fired:
            watch.fired_at = now
            direction: Literal["up", "down"] = "down" if side is _DOWN else "up"
            result.fired.append(Fired(alert, price, quoted_at, direction))
        if side != old or fired:
            watch.side = side
            result.states.append(AlertState(alert.id, side, watch.fired_at, fired, done))
        if done:
            del self._watches[alert.id]
        else:
            self._wait(watch, book)

    @staticmethod
    def _wait(watch: _Watch, book: _Book) -> None:
        if watch.side is None:
            book.unsided[watch.alert.id] = None
        watch.waits = watch.rule.waits(watch, book)
        for ladder, level in watch.waits:
            ladder.add(level, watch.alert.id)
