"""The alert engine: each kind fires where a trader expects, once per crossing, a repeat alert
again only after its cool-down, and never from an undated or stale price."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.errors import UserError
from bot.market.alerts import (
    Alert,
    AlertEngine,
    AlertKind,
    Side,
    armed_side,
    check_rule,
    first_side,
)
from brokers.models import Quote

T0 = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)
MAX_AGE = timedelta(seconds=300)
SBIN = "NSE:SBIN"
INFY = "NSE:INFY"


def alert(
    alert_id: int,
    kind: AlertKind,
    level: str,
    *,
    key: str = SBIN,
    reference: str | None = None,
    repeat: bool = False,
    cooldown: float = 0,
) -> Alert:
    ref = Decimal(reference) if reference is not None else None
    return Alert(
        id=alert_id,
        user_id=7,
        chat_id=7,
        key=key,
        kind=kind,
        level=Decimal(level),
        reference=ref,
        repeat=repeat,
        cooldown=timedelta(seconds=cooldown),
        side=first_side(kind, Decimal(level), ref),
    )


class Tape:
    """Feeds one price at a time, a second apart, and collects which alerts fired."""

    def __init__(self, *alerts: Alert) -> None:
        self.engine = AlertEngine(MAX_AGE)
        for a in alerts:
            self.engine.add(a)
        self.now = T0

    def price(self, ltp: str, key: str = SBIN, *, age: float = 0, dated: bool = True) -> list[int]:
        self.now += timedelta(seconds=1)
        at = self.now - timedelta(seconds=age) if dated else None
        result = self.engine.evaluate([Quote(key=key, ltp=Decimal(ltp), at=at)], self.now)
        return [f.alert.id for f in result.fired]

    def run(self, *prices: str) -> list[list[int]]:
        return [self.price(p) for p in prices]


def test_above_fires_at_or_over_its_level_once() -> None:
    tape = Tape(alert(1, AlertKind.ABOVE, "800"))
    assert tape.run("790", "799.95", "800", "805", "790", "810") == [[], [], [1], [], [], []]
    assert len(tape.engine) == 0  # one-shot: done


def test_below_fires_at_or_under_its_level_once() -> None:
    tape = Tape(alert(1, AlertKind.BELOW, "800"))
    assert tape.run("810", "800.05", "800", "795", "810", "790") == [[], [], [1], [], [], []]


def test_above_set_when_already_above_fires_on_the_first_fresh_price() -> None:
    tape = Tape(alert(1, AlertKind.ABOVE, "800"))
    assert tape.run("820") == [[1]]


def test_crosses_needs_a_price_on_the_other_side_first() -> None:
    # No price when it was set: the first fresh price only says which side it is on.
    tape = Tape(alert(1, AlertKind.CROSSES, "800", repeat=True))
    assert tape.run("820", "830", "800", "790", "800", "810") == [[], [], [], [1], [], [1]]


def test_crosses_from_the_price_it_was_set_at_and_a_touch_is_not_a_cross() -> None:
    tape = Tape(alert(1, AlertKind.CROSSES, "800", reference="790"))
    assert tape.run("800", "799", "800.05") == [[], [], [1]]
    assert len(tape.engine) == 0


def test_move_fires_either_way_from_the_price_when_set() -> None:
    up = Tape(alert(1, AlertKind.MOVE, "2", reference="1000"))  # band 980..1020
    assert up.run("1010", "1019.95", "1020", "1030") == [[], [], [1], []]
    down = Tape(alert(2, AlertKind.MOVE, "2", reference="1000"))
    assert down.run("990", "980") == [[], [2]]


def test_a_repeat_alert_fires_once_per_crossing() -> None:
    tape = Tape(alert(1, AlertKind.ABOVE, "800", repeat=True))
    fired = tape.run("790", "801", "805", "801", "799", "801", "802")
    assert fired == [[], [1], [], [], [], [1], []]


def test_a_crossing_inside_the_cool_down_moves_the_side_but_sends_nothing() -> None:
    tape = Tape(alert(1, AlertKind.ABOVE, "800", repeat=True, cooldown=10))
    assert tape.run("790", "801") == [[], [1]]  # fired at T0+2
    assert tape.run("799", "801") == [[], []]  # crossed again at T0+4: cooling down
    assert tape.run("802", "803", "804", "805", "806", "807") == [[], [], [], [], [], []]
    # Still the same move (it stayed above), so the end of the cool-down sends nothing either.
    assert tape.run("799", "801") == [[], [1]]  # a new crossing at T0+12, 10 s after it fired


def snoozed(a: Alert, side: Side | None, until: datetime) -> Alert:
    """`a` as AlertWatch.snooze re-adds it: armed again on the side it fired from."""
    return replace(a, side=armed_side(a.kind, side), snoozed_until=until)


@pytest.mark.parametrize(
    ("made", "fired_side", "beyond", "back"),
    [
        (alert(1, AlertKind.ABOVE, "800"), Side.ABOVE, "801", "799"),
        (alert(1, AlertKind.BELOW, "800"), Side.BELOW, "799", "801"),
        (alert(1, AlertKind.CROSSES, "800", reference="790"), Side.ABOVE, "801", "799"),
        (alert(1, AlertKind.CROSSES, "800", reference="810"), Side.BELOW, "799", "801"),
        (alert(1, AlertKind.MOVE, "1", reference="800"), Side.ABOVE, "809", "800"),
    ],
)
def test_a_snoozed_alert_stays_armed_and_fires_on_the_first_price_after_the_snooze(
    made: Alert, fired_side: Side, beyond: str, back: str
) -> None:
    tape = Tape()
    tape.engine.add(snoozed(made, fired_side, until=T0 + timedelta(seconds=5)))
    assert tape.run(beyond, beyond, back, beyond) == [[], [], [], []]  # T0+1..4: snoozed
    assert tape.run(beyond) == [[1]]  # T0+5: the snooze is over and it still holds


def test_move_repeat_rearms_inside_its_band_and_a_gap_through_fires() -> None:
    tape = Tape(alert(1, AlertKind.MOVE, "2", reference="1000", repeat=True))
    assert tape.run("1025", "1000", "975", "970", "1030") == [[1], [], [1], [], [1]]


def test_stale_and_undated_prices_fire_nothing_and_move_nothing() -> None:
    tape = Tape(alert(1, AlertKind.ABOVE, "800"), alert(2, AlertKind.CROSSES, "800", repeat=True))
    assert tape.price("790") == []  # crosses now knows it is below
    assert tape.price("820", age=301) == []  # too old
    assert tape.price("820", dated=False) == []  # age unknown
    assert tape.price("820", age=300) == [1, 2]  # exactly the limit is still fresh


def test_a_price_touches_only_its_own_instrument() -> None:
    tape = Tape(alert(1, AlertKind.ABOVE, "800"), alert(2, AlertKind.ABOVE, "800", key=INFY))
    assert tape.price("900", key=INFY) == [2]
    assert tape.engine.watched() == [SBIN]


def test_the_states_to_save_are_every_change_and_only_changes() -> None:
    engine = AlertEngine(MAX_AGE)
    engine.add(alert(1, AlertKind.ABOVE, "800", repeat=True))
    engine.add(alert(2, AlertKind.ABOVE, "900"))
    quote = Quote(key=SBIN, ltp=Decimal("850"), at=T0)
    result = engine.evaluate([quote], T0)
    assert [(s.id, s.side, s.fired, s.done, s.fired_at) for s in result.states] == [
        (1, Side.ABOVE, True, False, T0)
    ]
    assert engine.evaluate([quote], T0).states == []  # the same price again changes nothing
    back = engine.evaluate([Quote(key=SBIN, ltp=Decimal("790"), at=T0)], T0)
    assert [(s.id, s.side, s.fired) for s in back.states] == [(1, Side.BELOW, False)]


def test_removed_alerts_never_fire() -> None:
    tape = Tape(alert(1, AlertKind.MOVE, "1", reference="100"), alert(2, AlertKind.BELOW, "95"))
    assert tape.engine.remove(1) and not tape.engine.remove(1)
    assert tape.run("110", "90") == [[], [2]]
    assert tape.engine.watched() == []


@pytest.mark.parametrize(
    ("kind", "level", "reference", "words"),
    [
        (AlertKind.ABOVE, "0", None, "price level must be above 0"),
        (AlertKind.MOVE, "-1", "100", "percentage must be above 0"),
        (AlertKind.MOVE, "100", "100", "under 100"),
        (AlertKind.MOVE, "2", None, "needs the current price"),
    ],
)
def test_rules_that_cannot_work_are_refused_in_plain_words(
    kind: AlertKind, level: str, reference: str | None, words: str
) -> None:
    ref = Decimal(reference) if reference else None
    with pytest.raises(UserError, match=words):
        check_rule(kind, Decimal(level), ref)
