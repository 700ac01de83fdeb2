"""A fresh database per test, closed afterwards (an open aiosqlite connection keeps a thread)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.connection import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "db.sqlite")
    yield opened
    await opened.close()
