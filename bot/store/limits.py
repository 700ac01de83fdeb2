"""The daily-limit tables (issue 15): limits an admin changed from chat, and halts.

Keyed by the account's name, since several accounts will share one database. A halt belongs to
one trading day (its IST date): the next day starts without it, whatever was left open. At most
one halt is open per account and day (a unique partial index), so `halt` is an insert that only
the first caller wins, and `resume` a compare-and-set that only one tap wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import aiosqlite

from bot.store.unit import Step, write


@dataclass(frozen=True, slots=True)
class HaltRow:
    id: int
    account: str
    day: date
    kind: str
    limit: Decimal
    actual: Decimal
    halted_at: datetime
    resumed_at: datetime | None
    resumed_by: int | None


def _halt(row: aiosqlite.Row) -> HaltRow:
    return HaltRow(
        id=int(row["id"]),
        account=str(row["account"]),
        day=date.fromisoformat(row["day"]),
        kind=str(row["kind"]),
        limit=Decimal(row["limit_value"]),
        actual=Decimal(row["actual"]),
        halted_at=datetime.fromisoformat(row["halted_at"]),
        resumed_at=datetime.fromisoformat(row["resumed_at"]) if row["resumed_at"] else None,
        resumed_by=row["resumed_by"],
    )


class LimitRepo:
    """Every method is one short transaction on the shared connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def changed(self, account: str) -> dict[str, Decimal]:
        """The limits an admin set for `account`, by kind (0: no limit)."""
        async with self._db.execute(
            "SELECT kind, value FROM limit_settings WHERE account = ?", (account,)
        ) as cur:
            return {str(r[0]): Decimal(r[1]) for r in await cur.fetchall()}

    async def change(
        self, account: str, kind: str, value: Decimal, user_id: int, at: datetime
    ) -> None:
        await write(
            self._db,
            Step(
                "INSERT INTO limit_settings (account, kind, value, set_by, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, kind) DO UPDATE SET "
                "value = excluded.value, set_by = excluded.set_by, "
                "updated_at = excluded.updated_at",
                (account, kind, str(value), user_id, at.isoformat()),
            ),
        )

    async def open_halt(self, account: str, day: date) -> HaltRow | None:
        async with self._db.execute(
            "SELECT * FROM limit_halts WHERE account = ? AND day = ? AND resumed_at IS NULL",
            (account, day.isoformat()),
        ) as cur:
            row = await cur.fetchone()
        return _halt(row) if row is not None else None

    async def halt(
        self, account: str, day: date, kind: str, limit: Decimal, actual: Decimal, at: datetime
    ) -> bool:
        """Open a halt; False when one is already open for the day (another check won)."""
        done = await write(
            self._db,
            Step(
                "INSERT OR IGNORE INTO limit_halts "
                "(account, day, kind, limit_value, actual, halted_at) VALUES (?, ?, ?, ?, ?, ?)",
                (account, day.isoformat(), kind, str(limit), str(actual), at.isoformat()),
            ),
        )
        return done.rowcounts[0] == 1

    async def resume(self, account: str, halt_id: int, user_id: int, at: datetime) -> bool:
        """Close halt `halt_id` if it is still open; False when it is not (resumed already)."""
        done = await write(
            self._db,
            Step(
                "UPDATE limit_halts SET resumed_at = ?, resumed_by = ? "
                "WHERE id = ? AND account = ? AND resumed_at IS NULL",
                (at.isoformat(), user_id, halt_id, account),
            ),
        )
        return done.rowcounts[0] == 1

    async def waived(self, account: str, day: date) -> frozenset[str]:
        """The kinds an admin resumed from on `day` and has not changed since: a resume takes
        responsibility for that limit for the rest of the day; setting it again re-arms it."""
        async with self._db.execute(
            "SELECT h.kind FROM limit_halts h LEFT JOIN limit_settings s "
            "ON s.account = h.account AND s.kind = h.kind "
            "WHERE h.account = ? AND h.day = ? AND h.resumed_at IS NOT NULL "
            "AND (s.updated_at IS NULL OR s.updated_at < h.resumed_at)",
            (account, day.isoformat()),
        ) as cur:
            return frozenset(str(r[0]) for r in await cur.fetchall())
