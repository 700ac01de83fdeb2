"""The running bot's instrument index follows Kotak's master into the next trading day: new lot
sizes and expiries appear in /search and on order cards, and expired contracts are gone. The
Kotak simulator, the adapter with a trading date the test moves on, the fake Telegram server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from brokers.kotak import KotakBroker
from tests.e2e.harness import ADMIN, BotHarness
from tests.e2e.test_kotak import kotak_settings, parts  # noqa: F401 - `parts` is a fixture
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator, kotak_config
from tests.fakes.totp_clock import SkipAheadClock
from tests.unit.market.test_follow import Day


async def test_the_index_follows_the_next_days_master(
    tmp_path: Path,
    parts: tuple[KotakSimulator, FakeIPEcho],  # noqa: F811 - the fixture imported above
    totp_clock: SkipAheadClock,
) -> None:
    sim, echo = parts
    day = Day(sim.today)
    broker = KotakBroker(kotak_config(sim, tmp_path / "kotak-master"), today=day)
    week = sim.expiries["week"]
    expiring = f"NFO:NIFTY{sim._stamp(week)}24000CE"
    settings = kotak_settings(sim, echo, instruments_check_seconds=1)
    async with BotHarness(tmp_path, instance=broker, totp_clock=totp_clock, **settings) as h:
        found = await h.say(ADMIN, f"/search nifty {sim._stamp(week).lower()} 24000 ce")
        assert f"{expiring} NIFTY · lot 65" in found.plain

        day.day = week + timedelta(days=1)
        sim.lot_sizes["NIFTY"] = 75
        sim.next_day(day.day)
        new_week = sim.expiries["week"]
        listed = f"NFO:NIFTY{sim._stamp(new_week)}24000CE NIFTY · lot 75"
        for _ in range(40):
            found = await h.say(ADMIN, f"/search nifty {sim._stamp(new_week).lower()} 24000 ce")
            if listed in found.plain:
                break
            await asyncio.sleep(0.25)
        assert listed in found.plain

        gone = await h.say(ADMIN, f"/buy {expiring} 65 @100")
        assert gone.plain.startswith(f"I don't know the instrument {expiring}.")
        refused = await h.say(ADMIN, f"/buy NFO:NIFTY{sim._stamp(new_week)}24000CE 65 @100")
        assert "trades in lots of 75; 65 is not a whole number of lots" in refused.plain
