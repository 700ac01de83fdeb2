"""The database holds every order and the audit trail: it and SQLite's companion files are
owner-only, whether the bot creates it or finds one an older version left readable."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store.connection import Store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _permissive_umask() -> Iterator[None]:
    """A umask that lets group and others read: the bot must not depend on a strict one."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def test_a_new_database_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.db"
    store = await Store.open(path)
    try:
        await store.audit.add(1, "command", "/help")  # a write, so the WAL has content
        files = [path, path.with_name("bot.db-wal"), path.with_name("bot.db-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(path.parent) == 0o700
    finally:
        await store.close()


async def test_an_old_world_readable_database_is_tightened_on_open(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    with sqlite3.connect(path) as db:  # as older versions left it: 0644, WAL files included
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
    for name in ("bot.db", "bot.db-wal", "bot.db-shm"):
        leftover = tmp_path / name
        leftover.touch()
        leftover.chmod(0o644)
    store = await Store.open(path)
    try:
        await store.audit.add(1, "command", "/help")
        for name in ("bot.db", "bot.db-wal", "bot.db-shm"):
            assert _mode(tmp_path / name) == 0o600, name
    finally:
        await store.close()
