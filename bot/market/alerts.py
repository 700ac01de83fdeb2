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

Evaluation is indexed by instrument, and within one instrument each alert waits on the one
threshold (two for a move inside its band) whose crossing would change its side, in one of four
sorted ladders by direction and strictness. A price touches only the alerts whose threshold it
reached, found by bisection: O(log n + changed) per price, whatever the number of alerts.
Prices that are missing, undated or older than `LTP_MAX_AGE_SECONDS` are ignored.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from bot.errors import UserError
from bot.market.freshness import stale_age
from bot.store.alerts import AlertState
from brokers.models import Quote

_HUNDRED = Decimal(100)


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

    def band(self) -> tuple[Decimal, Decimal]:
        """A move alert's (low, high): the prices N % below and above its reference."""
        assert self.reference is not None  # checked when the alert is made
        step = self.reference * self.level / _HUNDRED
        return self.reference - step, self.reference + step


@dataclass(frozen=True, slots=True)
class Fired:
    """An alert that fired: the alert with its new state, the price and the quote's time."""

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


def _side_of(alert: Alert, price: Decimal) -> Side | None:
    level = alert.level
    match alert.kind:
        case AlertKind.ABOVE:
            return Side.ABOVE if price >= level else Side.BELOW
        case AlertKind.BELOW:
            return Side.BELOW if price <= level else Side.ABOVE
        case AlertKind.CROSSES:
            if price == level:
                return alert.side  # a touch is not a crossing
            return Side.ABOVE if price > level else Side.BELOW
        case AlertKind.MOVE:
            low, high = alert.band()
            if price >= high:
                return Side.ABOVE
            return Side.BELOW if price <= low else Side.INSIDE


def _fires(kind: AlertKind, old: Side | None, new: Side | None) -> bool:
    if new is None or new == old:
        return False
    match kind:
        case AlertKind.ABOVE:
            return new is Side.ABOVE
        case AlertKind.BELOW:
            return new is Side.BELOW
        case AlertKind.CROSSES:
            return old is not None
        case AlertKind.MOVE:
            return new is not Side.INSIDE


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
        """Take out every alert whose threshold `price` reached."""
        hit = self.rise_to.take_head(bisect_right(self.rise_to.levels, price))
        hit += self.rise_past.take_head(bisect_left(self.rise_past.levels, price))
        hit += self.fall_to.take_tail(bisect_left(self.fall_to.levels, price))
        hit += self.fall_past.take_tail(bisect_right(self.fall_past.levels, price))
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


def _waits(alert: Alert, book: _Book) -> list[tuple[_Ladder, Decimal]]:
    """The thresholds whose crossing would change the alert's side, and their ladders."""
    level, side = alert.level, alert.side
    match alert.kind:
        case AlertKind.ABOVE:
            return [(book.rise_to, level) if side is Side.BELOW else (book.fall_past, level)]
        case AlertKind.BELOW:
            return [(book.fall_to, level) if side is Side.ABOVE else (book.rise_past, level)]
        case AlertKind.CROSSES:
            if side is None:
                return []  # in `unsided`
            return [(book.fall_past, level) if side is Side.ABOVE else (book.rise_past, level)]
        case AlertKind.MOVE:
            low, high = alert.band()
            if side is Side.ABOVE:
                return [(book.fall_past, high)]
            if side is Side.BELOW:
                return [(book.rise_past, low)]
            return [(book.rise_to, high), (book.fall_to, low)]


class AlertEngine:
    """The active alerts, indexed by instrument. `max_age` is LTP_MAX_AGE_SECONDS: an older
    quote fires nothing. The caller persists `Evaluation.states` before it tells anyone about
    `Evaluation.fired`, so a crash can lose a notice but never send one twice."""

    def __init__(self, max_age: timedelta) -> None:
        self._max_age = max_age
        self._alerts: dict[int, Alert] = {}
        self._books: dict[str, _Book] = {}

    def __len__(self) -> int:
        return len(self._alerts)

    def __contains__(self, alert_id: object) -> bool:
        return alert_id in self._alerts

    def watched(self) -> list[str]:
        """The instruments that have active alerts: what to ask quotes for."""
        return list(self._books)

    def add(self, alert: Alert) -> None:
        """Watch `alert` from its current state (replacing one with the same id)."""
        self.remove(alert.id)
        self._alerts[alert.id] = alert
        self._wait(alert, self._books.setdefault(alert.key, _Book()))

    def remove(self, alert_id: int) -> bool:
        alert = self._alerts.pop(alert_id, None)
        if alert is None:
            return False
        book = self._books[alert.key]
        for ladder, level in _waits(alert, book):
            ladder.discard(level, alert_id)
        book.unsided.pop(alert_id, None)
        if book.is_empty():
            del self._books[alert.key]
        return True

    def evaluate(self, quotes: Iterable[Quote], now: datetime) -> Evaluation:
        """Apply fresh prices; quotes without a price, undated or stale are skipped."""
        result = Evaluation()
        for quote in quotes:
            book = self._books.get(quote.key)
            price = quote.ltp
            if book is None or price is None or price <= 0 or quote.at is None:
                continue
            if stale_age(quote, now, self._max_age) is not None:
                continue
            for alert_id in book.reached(price):
                self._move(self._alerts[alert_id], book, price, quote.at, now, result)
            if book.is_empty():
                del self._books[quote.key]
        return result

    def _move(
        self,
        alert: Alert,
        book: _Book,
        price: Decimal,
        quoted_at: datetime,
        now: datetime,
        result: Evaluation,
    ) -> None:
        """`price` reached one of the alert's thresholds: give it its new side, fire it when
        that is its firing side and it is out of its cool-down, and let it wait again."""
        for ladder, level in _waits(alert, book):  # a move inside its band waits on two
            ladder.discard(level, alert.id)
        side = _side_of(alert, price)
        cooled = alert.fired_at is None or now - alert.fired_at >= alert.cooldown
        fired = _fires(alert.kind, alert.side, side) and cooled
        done = fired and not alert.repeat
        moved = replace(alert, side=side, fired_at=now if fired else alert.fired_at)
        if side != alert.side or fired:
            result.states.append(AlertState(moved.id, side, moved.fired_at, fired, done))
        if fired:
            direction: Literal["up", "down"] = "down" if side is Side.BELOW else "up"
            result.fired.append(Fired(moved, price, quoted_at, direction))
        if done:
            del self._alerts[alert.id]
            return
        self._alerts[alert.id] = moved
        self._wait(moved, book)

    @staticmethod
    def _wait(alert: Alert, book: _Book) -> None:
        if alert.side is None:
            book.unsided[alert.id] = None
        for ladder, level in _waits(alert, book):
            ladder.add(level, alert.id)
