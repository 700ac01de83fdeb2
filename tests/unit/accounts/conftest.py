"""The `rig` fixture: a started Kotak account (see `rig.py`), stopped after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.notify import AdminEvent
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator
from tests.unit.accounts.rig import CLOCK, HANG_SECONDS, PRIMARY, SEED, Rig, make_account


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    codes: list[str] = []
    check = CLOCK.verifies(SEED, codes)
    async with (
        KotakSimulator(expected_totp=check, hang_seconds=HANG_SECONDS) as sim,
        FakeIPEcho(PRIMARY) as echo,
    ):
        sim.egress_ip = PRIMARY
        notices: list[AdminEvent] = []
        account = make_account(sim, echo, tmp_path, notices)
        await account.start()
        yield Rig(sim, echo, account, notices, tmp_path, codes)
        await account.stop()
