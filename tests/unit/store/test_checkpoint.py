"""WAL checkpoints run on their own connection and timer, never inside a commit: no write on the
order path pays for copying the log back into the database."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from bot.store.checkpoint import Checkpointer
from bot.store.connection import Store


def rows_in_main_file(database: Path, scratch: Path) -> int:
    """Audit rows found in the database file alone, without its log: what checkpoints copied."""
    shutil.copyfile(database, scratch)
    with sqlite3.connect(scratch) as db:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit'").fetchone() is None:
            return 0  # even the schema is still only in the log
        return int(db.execute("SELECT COUNT(*) FROM audit").fetchone()[0])


async def test_commits_never_checkpoint_and_the_checkpointer_copies_the_log(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.db"
    store = await Store.open(path)
    try:
        for n in range(1200):  # past SQLite's automatic threshold of 1000 log pages
            await store.audit.add(1, "command", f"/orders {n}")
        with sqlite3.connect(path) as db:
            page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
        assert path.with_name("bot.db-wal").stat().st_size > 1000 * page_size
        assert rows_in_main_file(path, tmp_path / "copy.db") == 0

        log_pages, copied = await store._checkpointer.checkpoint()
        assert log_pages >= 1200 and copied == log_pages
        assert rows_in_main_file(path, tmp_path / "copy.db") == 1200
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 1200


async def test_the_timer_checkpoints_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = await Store.open(path)
    timer = await Checkpointer.start(path, every=0.05)
    try:
        await store.audit.add(1, "command", "/help")
        for _ in range(100):
            await asyncio.sleep(0.05)
            if rows_in_main_file(path, tmp_path / "copy.db") == 1:
                break
        assert rows_in_main_file(path, tmp_path / "copy.db") == 1
    finally:
        await timer.stop()
        await store.close()
