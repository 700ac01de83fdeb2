"""Several accounts in one database (issue 14): a database of the previous, single-account release
is migrated in place with nothing lost, and each account's view of the store reads, claims and
writes only that account's rows."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import aiosqlite

from bot.clock import utcnow
from bot.store.connection import Store, load_migrations, migrate
from bot.store.preferences import INCIDENT


async def _previous_release(path: Path) -> None:
    """A database as the release before accounts left it (migrations 1-6), with one row in
    every table that belongs to an account."""
    db = await aiosqlite.connect(path)
    try:
        await migrate(db, load_migrations()[:6])
        now = utcnow().isoformat()
        later = (utcnow() + timedelta(minutes=1)).isoformat()
        await db.execute(
            "INSERT INTO intents (id, user_id, chat_id, action, payload, status, created_at,"
            " expires_at) VALUES ('abcdefghijkl', 1, 1, 'place', '{}', 'PENDING', ?, ?)",
            (now, later),
        )
        await db.execute(
            "INSERT INTO orders (tag, intent_id, broker, user_id, chat_id, symbol, side,"
            " quantity, price, status, created_at, updated_at) VALUES ('TB0123456789',"
            " 'abcdefghijkl', 'kotak', 1, 1, 'NSE:SBIN', 'BUY', 1, '800', 'OPEN', ?, ?)",
            (now, now),
        )
        await db.execute(
            "INSERT INTO alerts (user_id, chat_id, symbol, kind, level, created_at)"
            " VALUES (1, 1, 'NSE:SBIN', 'above', '820', ?)",
            (now,),
        )
        await db.execute(
            "INSERT INTO daily_summaries (day, sent_at) VALUES ('2026-11-30', ?)", (now,)
        )
        await db.execute(
            "INSERT INTO audit (at, user_id, kind, what) VALUES (?, NULL, ?, 'OrdersOpen: ')",
            (now, INCIDENT),
        )
        await db.execute(
            "INSERT INTO audit (at, user_id, kind, what) VALUES (?, 1, 'command', '/help')",
            (now,),
        )
        await db.commit()
    finally:
        await db.close()


async def test_a_single_account_database_is_adopted_by_the_account_with_nothing_lost(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    await _previous_release(path)
    store = await Store.open(path)
    try:
        assert await store.adopt("kotak") == 5  # intent, order, alert, summary, incident
        kotak = store.for_account("kotak")
        assert [r.tag for r in await kotak.orders.live()] == ["TB0123456789"]
        assert (await kotak.intents.get("abcdefghijkl")) is not None
        assert [a.symbol for a in await kotak.alerts.active()] == ["NSE:SBIN"]
        assert await kotak.preferences.summary_sent(date(2026, 11, 30))
        assert [what for _, what in await kotak.preferences.incidents(utcnow() - timedelta(1))] == [
            "OrdersOpen: "
        ]
        # Another account sees none of it; the bot as a whole still sees all of it.
        mom = store.for_account("mom")
        assert await mom.orders.live() == []
        assert await mom.intents.get("abcdefghijkl") is None
        assert await mom.alerts.active() == []
        assert not await mom.preferences.summary_sent(date(2026, 11, 30))
        assert len(await store.orders.live()) == 1
        # Commands stay the bot's; a second start has nothing left to move.
        assert {
            line["account"] for line in await store.audit.latest() if line["kind"] != INCIDENT
        } == {""}
        assert await store.adopt("kotak") == 0
    finally:
        await store.close()


async def test_an_intent_is_claimed_only_through_its_own_account(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite")
    try:
        mom, me = store.for_account("mom"), store.for_account("me")
        await mom.intents.add(
            "abcdefghijkl",
            user_id=1,
            chat_id=1,
            action="place",
            payload={},
            expires_at=utcnow() + timedelta(minutes=1),
        )
        assert not await me.intents.transition(
            "abcdefghijkl", "PENDING", "SENDING", unexpired_at=None
        )
        assert await mom.intents.transition("abcdefghijkl", "PENDING", "SENDING", unexpired_at=None)
    finally:
        await store.close()


async def test_each_account_writes_and_reads_its_own_orders_and_summaries(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite")
    try:
        mom, me = store.for_account("mom"), store.for_account("me")
        for view, tag in ((mom, "TBMOM0000001"), (me, "TBME00000001")):
            await view.intents.add(
                tag.lower()[:12],
                user_id=1,
                chat_id=1,
                action="place",
                payload={},
                expires_at=utcnow() + timedelta(minutes=1),
            )
            await view.orders.add(
                tag,
                intent_id=tag.lower()[:12],
                broker="kotak",
                user_id=1,
                chat_id=1,
                symbol="NSE:SBIN",
                side="BUY",
                quantity=1,
                price="800",
            )
        assert [r.tag for r in await mom.orders.live()] == ["TBMOM0000001"]
        assert [r.tag for r in await me.orders.live()] == ["TBME00000001"]
        assert await mom.orders.by_tag("TBME00000001") is None
        day = date(2026, 12, 1)
        assert await mom.preferences.mark_summary_sent(day)
        assert not await mom.preferences.mark_summary_sent(day)
        assert await me.preferences.mark_summary_sent(day)  # its own summary, same day
    finally:
        await store.close()
