"""Shared fixtures: loopback-only networking and a running bot for end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours proxy variables; every fake in these tests lives on 127.0.0.1."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
async def sim() -> AsyncIterator[object]:
    """A Kotak Neo simulator on loopback (modules that need other options override this)."""
    from tests.fakes.kotak_sim import KotakSimulator

    async with KotakSimulator() as s:
        yield s


@pytest.fixture
def kotak_timeouts() -> object:
    """The `broker` fixture's timeouts: the adapter's defaults. Modules that make the simulator
    hang (timeout cases) override this with short ones."""
    from brokers.kotak import KotakTimeouts

    return KotakTimeouts()


@pytest.fixture
async def broker(sim, tmp_path, kotak_timeouts) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    """A Kotak adapter pointed at `sim`, not logged in."""
    from brokers.kotak import KotakBroker
    from tests.fakes.kotak_sim import kotak_config

    b = KotakBroker(kotak_config(sim, tmp_path / "master", timeouts=kotak_timeouts))
    yield b
    await b.close()


@pytest.fixture
async def harness(tmp_path) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    from tests.e2e.harness import BotHarness

    async with BotHarness(tmp_path) as h:
        yield h
