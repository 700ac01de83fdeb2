"""The contract suite's fixtures: one `<name>_driver` per broker and the parametrized `driver`.

To add a broker, add its `<name>_driver` fixture here and its name to `BROKERS` (see this
package's docstring). Kotak reuses `sim` and `broker` from `tests/conftest.py`; this module only
makes the simulator's hang and the adapter's timeouts short, so the timeout case takes a second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import httpx
import pytest

from brokers.kotak import KotakBroker, KotakTimeouts
from brokers.mstock import MStockBroker, MStockTimeouts
from tests.contract.driver import BrokerDriver
from tests.contract.kotak_driver import KotakDriver
from tests.contract.mstock_driver import MStockDriver
from tests.contract.paper_driver import PaperDriver
from tests.fakes.kotak_sim import KotakSimulator
from tests.fakes.mstock_sim import MStockSimulator, mstock_config

BROKERS = ("paper", "kotak", "mstock")


@pytest.fixture(params=BROKERS)
def driver(request: pytest.FixtureRequest) -> BrokerDriver:
    """Every contract case runs once per broker, against that broker's `<name>_driver`."""
    return cast(BrokerDriver, request.getfixturevalue(f"{request.param}_driver"))


@pytest.fixture
async def paper_driver(tmp_path: Path) -> AsyncIterator[PaperDriver]:
    paper = PaperDriver(tmp_path / "paper.json")
    await paper.start()
    yield paper
    await paper.broker.close()


@pytest.fixture
async def sim() -> AsyncIterator[KotakSimulator]:
    """Overrides the shared `sim`: a hung reply is held 2 s, past the short read timeout."""
    async with KotakSimulator(hang_seconds=2.0) as s:
        yield s


@pytest.fixture
def kotak_timeouts() -> KotakTimeouts:
    """Overrides the shared default: a 0.5 s read timeout, so an unanswered place is quick."""
    short = httpx.Timeout(0.5, connect=2.0)
    return KotakTimeouts(login=short, orders=short, reports=short, market_data=short)


@pytest.fixture
async def kotak_driver(sim: KotakSimulator, broker: KotakBroker) -> KotakDriver:
    kotak = KotakDriver(sim, broker)
    await kotak.login()
    return kotak


@pytest.fixture
async def mstock_driver(tmp_path: Path) -> AsyncIterator[MStockDriver]:
    """mStock through its simulator; a hung reply is held 2 s, past a 0.5 s read timeout."""
    short = httpx.Timeout(0.5, connect=2.0)
    timeouts = MStockTimeouts(login=short, orders=short, reports=short, market_data=short)
    async with MStockSimulator(hang_seconds=2.0) as sim:
        broker = MStockBroker(mstock_config(sim, tmp_path / "mstock-master", timeouts=timeouts))
        driver = MStockDriver(sim, broker)
        await driver.login()
        yield driver
        await broker.close()
