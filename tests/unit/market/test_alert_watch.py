"""The alert watch over real parts: the paper broker or the Kotak simulator (loopback) behind a
real `Account`, a real SQLite file, and the notifier. Alerts fire once per crossing, survive a
restart without firing again, ignore stale prices, and quotes are asked for in batches no
larger than the broker's per-call limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyotp
import pytest

from bot.accounts import Account, SlidingWindowLimiter
from bot.accounts.totp import TotpSource
from bot.clock import utcnow
from bot.errors import UserError
from bot.market import AlertKind, AlertWatch, InstrumentIndex
from bot.notify import AlertTriggered, Keyboard, Notifier, Sender
from bot.store import Store
from brokers.base import LimitsQuoteBatch
from brokers.kotak import KotakBroker
from brokers.models import InstrumentKind
from brokers.paper import PaperBroker
from handlers.render import render_event
from tests.fakes.kotak_sim import KotakSimulator, kotak_config

SBIN, INFY = "NSE:SBIN", "NSE:INFY"  # paper: 812.35 and 1498.30 at the start
QUOTES_PATH = "/script-details/1.0/quotes/neosymbol/"


class Events(list[AlertTriggered]):
    """Stands where the notifier's `publish` goes: what the watch published, in order."""

    async def __call__(self, event: AlertTriggered) -> None:
        self.append(event)


class Clock:
    """The watch's clock: real time plus a shift, so a fresh quote can be made stale."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.shift


@dataclass
class Rig:
    broker: PaperBroker
    account: Account
    index: InstrumentIndex
    path: Path
    clock: Clock = field(default_factory=Clock)
    events: Events = field(default_factory=Events)

    @asynccontextmanager
    async def watch(self, publish: Events | None = None) -> AsyncIterator[AlertWatch]:
        """A watch on its own connection to the database file (a restart opens a new one)."""
        store = await Store.open(self.path)
        watch = AlertWatch(
            store.alerts,
            self.account.quotes,
            self.index,
            publish or self.events,
            every=3600,  # the tests run rounds themselves with check()
            max_age=timedelta(seconds=300),
            now=self.clock,
        )
        await watch.start()
        try:
            yield watch
        finally:
            await watch.stop()
            await store.close()

    async def price(self, watch: AlertWatch, key: str, ltp: str) -> list[int]:
        """Move the paper market, run one round, return the ids of the alerts that fired."""
        self.broker.set_price(key, Decimal(ltp))
        before = len(self.events)
        await watch.check()
        await watch.drain()
        return [e.alert_id for e in self.events[before:]]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    broker = PaperBroker(tmp_path / "paper.json", tick_seconds=0)
    account = Account(broker, SlidingWindowLimiter(10, 1.0))
    await account.start()
    index = await InstrumentIndex.build(await account.instruments())
    yield Rig(broker, account, index, tmp_path / "db.sqlite")
    await account.stop()


async def test_an_alert_fires_once_with_everything_the_notice_needs(rig: Rig) -> None:
    async with rig.watch() as watch:
        alert = await watch.add(
            user_id=7, chat_id=70, key="nse:sbin", kind=AlertKind.ABOVE, level=Decimal(820),
            note="book half",
        )  # fmt: skip
        assert alert.key == SBIN
        assert await rig.price(watch, SBIN, "815") == []
        assert await rig.price(watch, SBIN, "820.50") == [alert.id]
        assert await rig.price(watch, SBIN, "821") == []
        assert await watch.alerts_of(7) == []  # a one-shot that fired is no longer active
    event = rig.events[0]
    assert (event.chat_id, event.user_id, event.key, event.kind) == (70, 7, SBIN, "above")
    assert (event.level, event.price, event.direction, event.note) == (
        Decimal(820), Decimal("820.50"), "up", "book half",
    )  # fmt: skip
    assert abs(event.quoted_at - utcnow()) < timedelta(seconds=60)


async def test_a_restart_reloads_the_state_and_does_not_fire_again(rig: Rig) -> None:
    async with rig.watch() as watch:
        above = await watch.add(
            user_id=7, chat_id=7, key=SBIN, kind=AlertKind.ABOVE, level=Decimal(820), repeat=True
        )
        cross = await watch.add(
            user_id=7, chat_id=7, key=INFY, kind=AlertKind.CROSSES, level=Decimal(1500),
            reference=Decimal("1498.30"), repeat=True,
        )  # fmt: skip
        assert await rig.price(watch, SBIN, "825") == [above.id]
        assert await rig.price(watch, INFY, "1501") == [cross.id]

    async with rig.watch() as watch:  # a new process: state from the file only
        assert len(await watch.alerts_of(7)) == 2
        await watch.check()  # the same prices: the same move, nothing new
        await watch.drain()
        assert len(rig.events) == 2
        assert await rig.price(watch, INFY, "1499") == [cross.id]  # a real new crossing
        assert await rig.price(watch, SBIN, "810") == []
        assert await rig.price(watch, SBIN, "821") == [above.id]
    saved = {a.id: a for a in await _alerts_in(rig.path, 7)}
    assert saved[above.id].side == "above" and saved[cross.id].side == "below"


async def _alerts_in(path: Path, user_id: int) -> list[object]:
    store = await Store.open(path)
    try:
        return list(await store.alerts.of_user(user_id))
    finally:
        await store.close()


async def test_a_stale_price_fires_nothing_until_a_fresh_one_comes(rig: Rig) -> None:
    async with rig.watch() as watch:
        alert = await watch.add(
            user_id=7, chat_id=7, key=SBIN, kind=AlertKind.BELOW, level=Decimal(800)
        )
        rig.clock.shift = timedelta(seconds=301)  # the broker's quote time is now too old
        assert await rig.price(watch, SBIN, "790") == []
        rig.clock.shift = timedelta(0)
        await watch.check()
        await watch.drain()
        assert [e.alert_id for e in rig.events] == [alert.id]


async def test_a_move_alert_is_measured_from_the_price_when_it_was_set(rig: Rig) -> None:
    async with rig.watch() as watch:
        alert = await watch.add(
            user_id=7, chat_id=7, key=SBIN, kind=AlertKind.MOVE, level=Decimal(1)
        )
        assert alert.reference == Decimal("812.35")  # band 804.23 .. 820.47
        assert await rig.price(watch, SBIN, "820.45") == []
        assert await rig.price(watch, SBIN, "804.20") == [alert.id]
    assert rig.events[0].direction == "down"


async def test_only_the_owner_removes_an_alert_and_a_removed_one_is_silent(rig: Rig) -> None:
    async with rig.watch() as watch:
        alert = await watch.add(
            user_id=7, chat_id=7, key=SBIN, kind=AlertKind.ABOVE, level=Decimal(820)
        )
        with pytest.raises(UserError, match=f"no active alert {alert.id}"):
            await watch.remove(alert.id, user_id=8)
        await watch.remove(alert.id, user_id=7)
        assert await rig.price(watch, SBIN, "830") == []
        with pytest.raises(UserError, match=f"no active alert {alert.id}"):
            await watch.remove(alert.id, user_id=7)


async def test_an_unknown_symbol_is_refused_with_how_to_find_it(rig: Rig) -> None:
    async with rig.watch() as watch:
        with pytest.raises(UserError, match="/search sbinn"):
            await watch.add(
                user_id=7, chat_id=7, key="NSE:SBINN", kind=AlertKind.ABOVE, level=Decimal(1)
            )


@dataclass
class RecordingOutbox:
    sent: list[tuple[int, str]] = field(default_factory=list)

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: bool,
        keyboard: Keyboard | None,
        silent: bool = False,
    ) -> int:
        self.sent.append((chat_id, text))
        return len(self.sent)

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, markup: bool, keyboard: Keyboard | None
    ) -> None:
        raise AssertionError("an alert is never an edit")


async def test_a_fired_alert_reaches_the_chat_through_the_notifier(rig: Rig) -> None:
    outbox = RecordingOutbox()
    store = await Store.open(rig.path)
    sender = Sender(store.outbox, outbox)
    notifier = Notifier(outbox, render_event, sender=sender)
    watch = AlertWatch(store.alerts, rig.account.quotes, rig.index, notifier.publish)
    await sender.start()
    await watch.start()
    try:
        alert = await watch.add(
            user_id=7, chat_id=70, key=SBIN, kind=AlertKind.ABOVE, level=Decimal(820), note="T1"
        )
        rig.broker.set_price(SBIN, Decimal(825))
        await watch.check()
        await watch.drain()
        await asyncio.wait_for(sender.idle(), 10)
    finally:
        await watch.stop()
        await sender.stop()
        await store.close()
    assert outbox.sent == [
        (70, f"🔔 <b>Alert {alert.id}</b>: NSE:SBIN at 825.00 (above 820.00, up).\nT1")
    ]


# -- batching, over the wire to the Kotak simulator -------------------------------------------


@asynccontextmanager
async def kotak(tmp_path: Path) -> AsyncIterator[tuple[KotakSimulator, KotakBroker, Account]]:
    async with KotakSimulator(expected_totp=lambda c: True, stock_count=130) as sim:
        broker = KotakBroker(kotak_config(sim, tmp_path / "master"))
        account = Account(
            broker, SlidingWindowLimiter(10, 1.0), totp=TotpSource(pyotp.random_base32())
        )
        await account.start()
        try:
            yield sim, broker, account
        finally:
            await account.stop()


def _batch_sizes(sim: KotakSimulator) -> list[int]:
    return [
        len(call.path[len(QUOTES_PATH) :].rpartition("/")[0].split(","))
        for call in sim.calls
        if call.kind == "quotes"
    ]


@pytest.mark.parametrize(("batch_size", "expected"), [(None, [50, 50, 20]), (20, [20] * 6)])
async def test_quotes_are_asked_in_batches_within_the_brokers_limit(
    tmp_path: Path, batch_size: int | None, expected: list[int]
) -> None:
    async with kotak(tmp_path) as (sim, broker, account):
        assert isinstance(broker, LimitsQuoteBatch) and broker.quote_batch_limit == 50
        instruments = await account.instruments()
        index = await InstrumentIndex.build(instruments)
        equities = sorted(
            i.key for i in instruments if i.kind is InstrumentKind.EQUITY and i.exchange == "NSE"
        )[:120]
        store = await Store.open(tmp_path / "db.sqlite")
        events = Events()
        watch = AlertWatch(
            store.alerts, account.quotes, index, events, every=3600,
            batch_size=batch_size or broker.quote_batch_limit,
        )  # fmt: skip
        await watch.start()
        try:
            for n, key in enumerate(equities):
                # Every tenth alert is already past its level: it fires on the first round.
                level = Decimal(1) if n % 10 == 0 else Decimal(10**7)
                await watch.add(user_id=7, chat_id=7, key=key, kind=AlertKind.ABOVE, level=level)
            sim.calls.clear()
            await watch.check()
            await watch.drain()
        finally:
            await watch.stop()
            await store.close()
    assert _batch_sizes(sim) == expected
    assert sorted(e.key for e in events) == equities[::10]
