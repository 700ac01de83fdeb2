"""Loading the master leaves no downloaded file alive: httpx keeps each response in a reference
cycle with its stream, so only the cyclic collector frees a 48 MB body, and the bot freezes
what is alive once the master is loaded (bot.market.follow)."""

from __future__ import annotations

import gc
from pathlib import Path

import httpx

from brokers.kotak import KotakBroker
from tests.fakes.kotak_sim import KotakSimulator, kotak_config


def _is_master_download(response: httpx.Response) -> bool:
    """A response another test built by hand has no request (`.request` raises then)."""
    try:
        return response.request.url.path.endswith(".csv")
    except RuntimeError:
        return False


async def test_no_download_outlives_the_master_load(tmp_path: Path) -> None:
    async with KotakSimulator(stock_count=20) as sim:
        broker = KotakBroker(kotak_config(sim, tmp_path))
        gc.collect()
        gc.disable()  # as during a parse: the collector does not run by chance
        try:
            assert len(await broker.instruments()) > 100
            downloads = [
                o
                for o in gc.get_objects()
                if isinstance(o, httpx.Response) and _is_master_download(o)
            ]
        finally:
            gc.enable()
            await broker.close()
        assert downloads == []
