"""The connection: numbered SQL migrations tracked by `PRAGMA user_version`, WAL, foreign keys,
and the upgrade of databases made before the migration files existed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from bot.store.connection import Migration, Store, load_migrations, migrate, user_version

# The schema and bookkeeping exactly as the code before numbered migrations wrote them: the schema
# was a Python string, and each applied migration was a row of `schema_version`. Frozen here as
# the shape of databases already in use; never edit it.
LEGACY_SCHEMA = """
    CREATE TABLE intents (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        message_id INTEGER,
        action TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        result TEXT
    );
    CREATE TABLE orders (
        tag TEXT PRIMARY KEY,
        intent_id TEXT NOT NULL REFERENCES intents(id),
        broker TEXT NOT NULL,
        broker_order_id TEXT,
        user_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        price TEXT NOT NULL,
        status TEXT NOT NULL,
        filled_quantity INTEGER NOT NULL DEFAULT 0,
        average_price TEXT,
        message TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX orders_by_status ON orders(status);
    CREATE INDEX orders_by_broker_id ON orders(broker_order_id);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        user_id INTEGER,
        kind TEXT NOT NULL,
        what TEXT NOT NULL,
        outcome TEXT
    );
    """

LEGACY_ROWS = """
    INSERT INTO intents VALUES ('old1', 7, 70, 700, 'cancel', '{"order": {"order_id": "X1"}}',
        'DONE', '2026-03-02T04:00:00+00:00', '2026-03-02T04:01:00+00:00', 'X1');
    INSERT INTO orders VALUES ('TBOLD', 'old1', 'paper', 'X1', 7, 70, 'NSE:SBIN', 'BUY', 5,
        '700.05', 'FILLED', 5, '700.00', '', '2026-03-02T04:00:05+00:00',
        '2026-03-02T04:00:09+00:00');
    INSERT INTO audit (at, user_id, kind, what, outcome)
        VALUES ('2026-03-02T04:00:00+00:00', 7, 'command', '/cancel X1', 'ok');
    """


async def _legacy_db(path: Path, *, migrated: bool = True) -> None:
    """A database made the old way: `schema_version` first, then each migration in one script
    with its bookkeeping row (or, with `migrated=False`, a crash in between)."""
    async with aiosqlite.connect(path) as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
        await db.commit()
        if migrated:
            await db.executescript(
                f"BEGIN; {LEGACY_SCHEMA}; INSERT INTO schema_version VALUES (1); COMMIT;"  # noqa: S608
            )
            await db.executescript(f"BEGIN; {LEGACY_ROWS}; COMMIT;")


async def _tables(db: aiosqlite.Connection) -> list[tuple[str, str]]:
    async with db.execute(
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ) as cur:
        return [(r[0], r[1]) for r in await cur.fetchall()]


async def _columns(db: aiosqlite.Connection, table: str) -> list[tuple[object, ...]]:
    async with db.execute(f"PRAGMA table_info({table})") as cur:
        return [tuple(r) for r in await cur.fetchall()]


def test_the_package_ships_its_migrations_numbered_from_one() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert "CREATE TABLE intents" in migrations[0].script


def test_a_gap_in_the_numbers_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x);")
    (tmp_path / "0003_third.sql").write_text("CREATE TABLE c (x);")
    (tmp_path / "notes.txt").write_text("not a migration")
    with pytest.raises(RuntimeError, match=r"\[1, 3\]"):
        load_migrations(tmp_path)
    (tmp_path / "0002_second.sql").write_text("CREATE TABLE b (x);")
    assert [m.version for m in load_migrations(tmp_path)] == [1, 2, 3]


async def test_an_empty_database_gets_every_migration_in_wal_mode(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "sub" / "db.sqlite")
    try:
        assert await store.schema_version() == len(load_migrations())
        async with store._db.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"  # type: ignore[index]
        assert {name for kind, name in await _tables(store._db) if kind == "table"} == {
            "intents",
            "orders",
            "audit",
            "alerts",
            "notify_preferences",
            "account_summaries",
            "account_choices",
            "outbox",
            "limit_settings",
            "limit_halts",
        }
    finally:
        await store.close()


async def test_reopening_applies_nothing_twice_and_keeps_rows(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite")
    line = await store.audit.add(1, "command", "/help")
    await store.close()
    store = await Store.open(tmp_path / "db.sqlite")
    try:
        assert await store.schema_version() == len(load_migrations())
        [row] = await store.audit.latest()
        assert row["id"] == line and row["what"] == "/help"
    finally:
        await store.close()


async def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await store.orders.add(
            "TBX", intent_id="no-such-intent", broker="paper", user_id=1, chat_id=1,
            symbol="NSE:SBIN", side="BUY", quantity=1, price="1",
        )  # fmt: skip


async def test_the_first_migration_is_the_legacy_schema(tmp_path: Path) -> None:
    await _legacy_db(tmp_path / "old.sqlite")
    async with (
        aiosqlite.connect(tmp_path / "new.sqlite") as new,
        aiosqlite.connect(tmp_path / "old.sqlite") as old,
    ):
        await migrate(new, load_migrations()[:1])  # later migrations add to it
        assert await _tables(old) == [*await _tables(new), ("table", "schema_version")]
        for table in ("intents", "orders", "audit"):
            assert await _columns(old, table) == await _columns(new, table)


async def test_a_legacy_database_is_upgraded_in_place_with_its_rows(tmp_path: Path) -> None:
    await _legacy_db(tmp_path / "db.sqlite")
    store = await Store.open(tmp_path / "db.sqlite")
    try:
        assert await store.schema_version() == len(load_migrations())
        assert ("table", "schema_version") not in await _tables(store._db)
        intent = await store.intents.get("old1")
        assert intent is not None
        assert (intent.status, intent.message_id, intent.result) == ("DONE", 700, "X1")
        assert intent.payload == {"order": {"order_id": "X1"}}
        assert intent.expires_at.isoformat() == "2026-03-02T04:01:00+00:00"
        order = await store.orders.by_tag("TBOLD")
        assert order is not None
        assert (order.broker_order_id, order.status, order.average_price) == (
            "X1",
            "FILLED",
            "700.00",
        )
        [line] = await store.audit.latest()
        assert (line["what"], line["outcome"]) == ("/cancel X1", "ok")
        assert await store.audit.add(7, "command", "/orders") == line["id"] + 1
    finally:
        await store.close()
    store = await Store.open(tmp_path / "db.sqlite")  # and stays upgraded
    try:
        assert await store.schema_version() == len(load_migrations())
        assert len(await store.audit.latest()) == 2
    finally:
        await store.close()


async def test_a_legacy_database_cut_short_before_its_first_migration(tmp_path: Path) -> None:
    await _legacy_db(tmp_path / "db.sqlite", migrated=False)
    store = await Store.open(tmp_path / "db.sqlite")
    try:
        assert await store.schema_version() == len(load_migrations())
        assert await store.intents.in_status("PENDING") == []
    finally:
        await store.close()


async def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    first = Migration(1, "CREATE TABLE a (x INTEGER);\n-- a trailing comment")
    broken = Migration(2, "CREATE TABLE b (y INTEGER); INSERT INTO missing VALUES (1);")
    async with aiosqlite.connect(tmp_path / "db.sqlite") as db:
        with pytest.raises(sqlite3.OperationalError, match="missing"):
            await migrate(db, [first, broken])
        assert await user_version(db) == 1
        assert await _tables(db) == [("table", "a")]
        await migrate(db, [first, Migration(2, "CREATE TABLE b (y INTEGER);")])
        assert await user_version(db) == 2
        assert await _tables(db) == [("table", "a"), ("table", "b")]
