"""The broker and the egress-IP check leave by the same route: proxy variables in the environment
are followed by neither, so they cannot send one of them elsewhere (the IP learnt would then not
be the IP the broker sees). With every proxy variable pointing at a dead port and no NO_PROXY, the
IP echo, the broker's API, its scrip-master download and its order feed are all still reached."""

from __future__ import annotations

import asyncio
import contextlib
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from bot.accounts import EgressChecker
from brokers.kotak import KotakBroker
from brokers.models import Order
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import SIM_TOTP, KotakSimulator, kotak_config
from tests.unit.brokers.feeds import FAST, until
from tests.unit.brokers.kotak.test_feed import acked

DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens there
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "WS_PROXY", "WSS_PROXY")


@pytest.fixture(autouse=True)
def _dead_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, DEAD_PROXY)
        monkeypatch.setenv(name.lower(), DEAD_PROXY)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


async def test_the_egress_check_ignores_environment_proxies() -> None:
    async with FakeIPEcho("203.0.113.10") as echo:
        checker = EgressChecker([echo.url])
        try:
            reading = await checker.check()
        finally:
            await checker.close()
    assert reading.ip == IPv4Address("203.0.113.10"), reading.error
    assert echo.hits == 1


async def test_the_broker_ignores_environment_proxies(sim: KotakSimulator, tmp_path: Path) -> None:
    broker = KotakBroker(kotak_config(sim, tmp_path))
    try:
        await broker.login(SIM_TOTP)
        assert await broker.orders() == []
        assert await broker.instruments()  # the scrip master, from the CDN path
        assert sim.calls_of("csv")
    finally:
        await broker.close()


async def test_the_order_feed_ignores_environment_proxies(
    sim: KotakSimulator, tmp_path: Path
) -> None:
    broker = KotakBroker(kotak_config(sim, tmp_path))
    await broker.login(SIM_TOTP)

    async def ignore(_: Order) -> None:
        return None

    task = asyncio.create_task(broker.stream_orders(ignore, settings=FAST))
    try:
        await until(lambda: acked(sim) == 1, "feed acked without a proxy")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await broker.close()
