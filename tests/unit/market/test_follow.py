"""The index follows the broker's master: the Kotak adapter against the simulator, whose "next
day" serves a different master (new lot size, the expired weekly gone, a new weekly)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.market.follow import IndexFollower
from brokers.errors import BrokerError
from brokers.kotak import KotakBroker
from tests.fakes.kotak_sim import SIM_TOTP, KotakSimulator, kotak_config


class Day:
    """The adapter's trading date, moved on by the test."""

    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[KotakSimulator, KotakBroker, Day]]:
    async with KotakSimulator(stock_count=50) as sim:
        day = Day(sim.today)
        broker = KotakBroker(kotak_config(sim, tmp_path / "master"), today=day)
        await broker.login(SIM_TOTP)
        yield sim, broker, day
        await broker.close()


def nifty(sim: KotakSimulator, expiry: date, strike: int = 24000) -> str:
    return f"NFO:NIFTY{sim._stamp(expiry)}{strike}CE"


async def test_a_new_days_master_replaces_the_index(
    parts: tuple[KotakSimulator, KotakBroker, Day],
) -> None:
    sim, broker, day = parts
    follower = IndexFollower(broker.instruments, broker.instruments_version, every=60)
    index = await follower.first()
    week, month = sim.expiries["week"], sim.expiries["month1"]
    assert index.resolve(nifty(sim, week)).lot_size == 65
    assert index.version == day.day.isoformat()
    assert not await follower.refresh()  # same day: nothing to do

    day.day = week + timedelta(days=1)  # the weekly has expired overnight
    sim.lot_sizes["NIFTY"] = 75
    sim.next_day(day.day)
    assert await follower.refresh()
    assert follower.index is index  # the desk and the portfolio hold this very object
    assert index.version == day.day.isoformat()
    assert index.get(nifty(sim, week)) is None
    assert index.resolve(nifty(sim, sim.expiries["week"])).lot_size == 75
    assert index.resolve(nifty(sim, month)).lot_size == 75
    found = await index.search(f"nifty {sim._stamp(sim.expiries['week']).lower()} 24000")
    assert [i.key for i in found] == [
        nifty(sim, sim.expiries["week"]),
        nifty(sim, sim.expiries["week"]).removesuffix("CE") + "PE",
    ]


async def test_a_master_that_cannot_be_loaded_keeps_the_old_index_and_is_retried(
    parts: tuple[KotakSimulator, KotakBroker, Day],
) -> None:
    sim, broker, day = parts
    follower = IndexFollower(broker.instruments, broker.instruments_version, every=60)
    index = await follower.first()
    before = len(index)
    day.day += timedelta(days=1)
    sim.next_day(day.day)
    sim.fail_next("file-paths", "http500")
    with pytest.raises(BrokerError):
        await follower.refresh()
    assert len(index) == before and index.version == (day.day - timedelta(days=1)).isoformat()
    assert await follower.refresh()
    assert index.version == day.day.isoformat()


async def test_the_loaded_master_is_kept_out_of_the_cyclic_collector(
    parts: tuple[KotakSimulator, KotakBroker, Day],
) -> None:
    _, broker, _ = parts
    frozen_before = gc.get_freeze_count()
    index = await IndexFollower(broker.instruments).first()
    assert gc.get_freeze_count() - frozen_before >= len(index)
