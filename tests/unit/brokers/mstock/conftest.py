"""`msim` (an mStock simulator on loopback) and `mbroker` (an adapter on it, logged in)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from brokers.mstock import MStockBroker, MStockTimeouts
from tests.fakes.mstock_sim import SIM_TOTP, MStockSimulator, mstock_config

SHORT = httpx.Timeout(0.5, connect=2.0)


@pytest.fixture
async def msim() -> AsyncIterator[MStockSimulator]:
    async with MStockSimulator(hang_seconds=1.5) as sim:
        yield sim


@pytest.fixture
async def mbroker(msim: MStockSimulator, tmp_path: Path) -> AsyncIterator[MStockBroker]:
    timeouts = MStockTimeouts(login=SHORT, orders=SHORT, reports=SHORT, market_data=SHORT)
    broker = MStockBroker(mstock_config(msim, tmp_path / "master", timeouts=timeouts))
    await broker.login(SIM_TOTP)
    yield broker
    await broker.close()
