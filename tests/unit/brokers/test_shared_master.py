"""Several accounts of one broker in one process load the day's master once: adapters on one
cache dir share it (one download, the same object), adapters whose masters differ do not."""

from __future__ import annotations

import asyncio
from pathlib import Path

from brokers.kotak import KotakBroker
from brokers.mstock import MStockBroker
from tests.fakes.kotak_sim import KotakSimulator, kotak_config
from tests.fakes.mstock_sim import SIM_TOTP, MStockSimulator, mstock_config


async def test_two_kotak_accounts_on_one_cache_dir_load_the_master_once(
    sim: KotakSimulator, tmp_path: Path
) -> None:
    cache = tmp_path / "master"
    first = KotakBroker(kotak_config(sim, cache))
    second = KotakBroker(kotak_config(sim, tmp_path / "." / "master"))  # same dir, spelt apart
    other = KotakBroker(kotak_config(sim, tmp_path / "elsewhere"))
    try:
        one, two = await asyncio.gather(first.instruments(), second.instruments())
        assert one is two
        assert first.master_key == second.master_key != other.master_key
        assert len(sim.calls_of("file-paths")) == 1
        assert len(sim.calls_of("csv")) == 4  # one per segment, for both accounts
        assert await other.instruments() is not one  # its own dir: its own master
        assert len(sim.calls_of("file-paths")) == 2
    finally:
        for broker in (first, second, other):
            await broker.close()


async def test_kotak_accounts_with_other_segments_do_not_share(
    sim: KotakSimulator, tmp_path: Path
) -> None:
    full = KotakBroker(kotak_config(sim, tmp_path / "a"))
    cash = KotakBroker(kotak_config(sim, tmp_path / "a", segments=("nse_cm",)))
    try:
        assert full.master_key != cash.master_key
    finally:
        await full.close()
        await cash.close()


async def test_two_mstock_accounts_on_one_cache_dir_load_the_master_once(
    tmp_path: Path,
) -> None:
    async with MStockSimulator() as msim:
        brokers = [MStockBroker(mstock_config(msim, tmp_path / "master")) for _ in range(2)]
        frozen = MStockBroker(
            mstock_config(msim, tmp_path / "master", freeze_qty={"NIFTY": 1800})
        )  # another freeze table makes other instruments: not shared
        try:
            for broker in (*brokers, frozen):
                await broker.login(SIM_TOTP)
            one, two = await asyncio.gather(*(b.instruments() for b in brokers))
            assert one is two
            assert brokers[0].master_key == brokers[1].master_key != frozen.master_key
            assert len(msim.calls_of("master")) == 1
        finally:
            for broker in (*brokers, frozen):
                await broker.close()
