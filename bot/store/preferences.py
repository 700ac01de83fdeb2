"""The notification preferences and daily-summary tables (issue 12).

`notify_preferences` keeps only what a user changed (a kind without a row takes its default, so
a new default reaches everyone who never touched it); `account_summaries` keeps the days whose
summary went out, so a restart after the summary time does not send it again. The summary's
session and IP incidents are read from the audit table, where the wiring writes each one.
"""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from bot.clock import utcnow
from bot.store.unit import Step, write

# The audit `kind` of a session or IP event (written by the wiring as it happens).
INCIDENT = "event"


class PreferenceRepo:
    """Every method is one short transaction on the shared connection."""

    def __init__(self, db: aiosqlite.Connection, account: str | None = None) -> None:
        self._db = db
        # The account whose daily summaries and incidents this repository reads ('' for the
        # bot as a whole); notification choices belong to the user, not to an account.
        self._account = account or ""

    async def all(self) -> dict[int, dict[str, str]]:
        """Every stored choice, by user and kind (read once at start: a handful of rows)."""
        found: dict[int, dict[str, str]] = {}
        async with self._db.execute("SELECT user_id, kind, choice FROM notify_preferences") as cur:
            for row in await cur.fetchall():
                found.setdefault(int(row[0]), {})[str(row[1])] = str(row[2])
        return found

    async def set(self, user_id: int, kind: str, choice: str) -> None:
        await write(
            self._db,
            Step(
                "INSERT INTO notify_preferences (user_id, kind, choice, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (user_id, kind) "
                "DO UPDATE SET choice = excluded.choice, updated_at = excluded.updated_at",
                (user_id, kind, choice, utcnow().isoformat()),
            ),
        )

    async def summary_sent(self, day: date) -> bool:
        async with self._db.execute(
            "SELECT 1 FROM account_summaries WHERE account = ? AND day = ?",
            (self._account, day.isoformat()),
        ) as cur:
            return await cur.fetchone() is not None

    async def mark_summary_sent(self, day: date) -> bool:
        """Record the day's summary as sent; False when it already was (another path won)."""
        done = await write(
            self._db,
            Step(
                "INSERT OR IGNORE INTO account_summaries (account, day, sent_at) VALUES (?, ?, ?)",
                (self._account, day.isoformat(), utcnow().isoformat()),
            ),
        )
        return done.rowcounts[0] == 1

    async def incidents(self, since: datetime) -> list[tuple[datetime, str]]:
        """The session and IP events the audit log holds from `since` on, oldest first, as
        (when, what) where `what` is `Kind: detail`."""
        async with self._db.execute(
            "SELECT at, what FROM audit WHERE kind = ? AND account = ? AND at >= ? ORDER BY id",
            (INCIDENT, self._account, since.isoformat()),
        ) as cur:
            return [(datetime.fromisoformat(r[0]), str(r[1])) for r in await cur.fetchall()]
