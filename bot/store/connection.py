"""SQLite storage (aiosqlite): the one connection, its pragmas, and the schema migrations.

Everything is written here *before* the bot acts on it, so a crash can lose no intent and double
no order: a confirmation moves PENDING → SENDING with a compare-and-set that only one tap can win,
and an order row exists (status SENDING) before its request leaves. One database file, WAL mode,
checkpointed off the order path (`bot.store.checkpoint`).

The schema is the numbered SQL files in `migrations/` (`0001_initial.sql`, `0002_….sql`, …),
applied in order at open, each in its own transaction together with `PRAGMA user_version = N`,
so a database is always at exactly one known version and a failed migration leaves no half.

The file holds every order and the audit trail, so it is owner-only (0600), like the session
file: created that way before SQLite opens it (SQLite gives its `-wal` and `-shm` files the
database file's mode), and tightened on open when an older version left it readable by others.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import aiosqlite

from bot.store.alerts import AlertRepo
from bot.store.audit import AuditRepo
from bot.store.checkpoint import Checkpointer
from bot.store.choices import ChoiceRepo
from bot.store.intents import IntentRepo
from bot.store.limits import LimitRepo
from bot.store.orders import OrderRepo
from bot.store.outbox import OutboxRepo
from bot.store.preferences import INCIDENT, PreferenceRepo
from bot.store.unit import Done, Step, write

_MIGRATION_NAME = re.compile(r"(\d{4})_\w+\.sql")
_OWNER_ONLY = 0o600
# SQLite's companion files: the write-ahead log, its shared-memory index, a rollback journal.
_COMPANIONS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    script: str


def load_migrations(folder: Traversable | None = None) -> list[Migration]:
    """The migration files (the package's unless `folder` is given) in version order; their
    numbers must run 1, 2, 3… with no gap, or a database could skip one. Reads files: call off
    the event loop."""
    if folder is None:
        folder = resources.files("bot.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


def prepare_private_file(path: Path) -> None:
    """Make sure `path` and any companion files SQLite left next to it are owner-only, creating
    the database file (and a missing folder, owner-only too) so SQLite never creates it with its
    default 0644. Touches the disk: call off the event loop."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, _OWNER_ONLY))
    for name in (path.name, *(path.name + suffix for suffix in _COMPANIONS)):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path.with_name(name), _OWNER_ONLY)


async def user_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _adopt_legacy_version(db: aiosqlite.Connection) -> None:
    """Databases made before the migration files kept their version as rows of a
    `schema_version` table (its highest row is the last migration that ran; the schema is the
    same as `0001_initial.sql`). Carry that number into `user_version` and drop the table, in
    one transaction, so such a database continues at the same version with its data intact."""
    if await user_version(db) != 0:
        return
    async with db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ) as cur:
        if await cur.fetchone() is None:
            return
    async with db.execute("SELECT MAX(version) FROM schema_version") as cur:
        row = await cur.fetchone()
    version = int(row[0]) if row and row[0] is not None else 0
    await _run_in_transaction(db, f"PRAGMA user_version = {version}; DROP TABLE schema_version;")


async def _run_in_transaction(db: aiosqlite.Connection, script: str) -> None:
    """All of `script` or none of it. The newlines keep a trailing `--` comment in a migration
    file from swallowing the statements after it."""
    try:
        await db.executescript(f"BEGIN IMMEDIATE;\n{script}\n;\nCOMMIT;")
    except Exception:
        await db.rollback()
        raise


async def migrate(db: aiosqlite.Connection, migrations: Sequence[Migration]) -> None:
    """Bring the database to the last of `migrations`; each runs at most once, ever."""
    await _adopt_legacy_version(db)
    current = await user_version(db)
    for migration in migrations:
        if migration.version > current:
            await _run_in_transaction(
                db, f"{migration.script}\n;\nPRAGMA user_version = {migration.version};"
            )


# The tables whose rows all belong to one account (migration 0007); in the audit trail only the
# session and IP incidents do.
_ACCOUNT_TABLES = ("intents", "orders", "alerts", "account_summaries")


class Store:
    """The one database. Open with `await Store.open(path)`; each table has its repository
    (`intents`, `orders`, `audit`, `alerts`, `outbox`) and every repository method is a short
    transaction. `for_account` gives one account's view of it."""

    def __init__(
        self, db: aiosqlite.Connection, checkpointer: Checkpointer, account: str | None = None
    ) -> None:
        self._db = db
        self._checkpointer = checkpointer
        self.account = account
        self.intents = IntentRepo(db, account)
        self.orders = OrderRepo(db, account)
        self.audit = AuditRepo(db, account)
        self.alerts = AlertRepo(db, account)
        self.preferences = PreferenceRepo(db, account)
        self.outbox = OutboxRepo(db)
        self.choices = ChoiceRepo(db)
        self.limits = LimitRepo(db)

    def for_account(self, account: str) -> Store:
        """The same database as one account sees it: its intents, orders, alerts, summaries
        and incidents only, and every row it writes labelled with the account. Each account's
        desk, tracker and watches get one of these, so none can read or claim another's rows."""
        return Store(self._db, self._checkpointer, account)

    async def adopt(self, account: str) -> int:
        """Give the rows of a single-account database (written before accounts had names) to
        `account`, in one transaction; returns how many rows moved. Run at every start: after
        the first, there is nothing left to move."""
        steps = [
            Step(f"UPDATE {table} SET account = ? WHERE account = ''", (account,))  # noqa: S608 - fixed names
            for table in _ACCOUNT_TABLES
        ]
        steps.append(
            Step(
                "UPDATE audit SET account = ? WHERE account = '' AND kind = ?", (account, INCIDENT)
            )
        )
        done = await write(self._db, *steps)
        return sum(done.rowcounts)

    @classmethod
    async def open(cls, path: Path) -> Store:
        await asyncio.to_thread(prepare_private_file, path)
        migrations = await asyncio.to_thread(load_migrations)
        db = await aiosqlite.connect(path)
        db.row_factory = aiosqlite.Row
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA synchronous=NORMAL")
            # No checkpoint inside a commit: bot.store.checkpoint runs them on its own thread.
            await db.execute("PRAGMA wal_autocheckpoint=0")
            await migrate(db, migrations)
            checkpointer = await Checkpointer.start(path)
        except Exception:
            await db.close()
            raise
        return cls(db, checkpointer)

    async def write(self, *steps: Step) -> Done:
        """Steps of several tables (each repository's `*_step`) as one transaction, in one
        trip to the connection's thread: e.g. a claim and the order row it allows."""
        return await write(self._db, *steps)

    async def close(self) -> None:
        await self._checkpointer.stop()
        await self._db.close()

    async def schema_version(self) -> int:
        return await user_version(self._db)
