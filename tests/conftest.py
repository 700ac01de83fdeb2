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
async def harness(tmp_path) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    from tests.harness import BotHarness

    async with BotHarness(tmp_path) as h:
        yield h
