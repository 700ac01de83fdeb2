"""One transaction, one trip: the statements of a write run together on the connection's thread.

aiosqlite runs each call (`execute`, `commit`, …) as its own trip to its thread, and on the
order path each trip is a wait behind whatever else the event loop is doing (python-telegram-bot
sending the next getUpdates, a card edit): a plain "execute, then commit" is two such waits, a
Confirm tap's writes were eight. A `UnitOfWork` queues its statements on the loop and runs them
all, then one commit, in a single trip, so a write costs one wait whatever it holds, and what
it holds lands whole or not at all (an error rolls it back).

A step may be `required`: when it changes no row (a compare-and-set that lost), the steps after
it are not run, and `commit` reports it. That is how a claim and the order row it allows land in
one transaction: the row is written only by the caller that won the intent.

A step may also carry a `RowId`, where the unit notes the row id it inserted once it has
committed: a step handed to another caller's unit (a tap's audit line, in the desk's claim)
tells its owner the id without that caller knowing what the step is.

Every write of the store goes through here, so no statement is ever left uncommitted between
trips on the shared connection (another caller's commit or rollback can never take it along).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite


class RowId:
    """The row id a step inserted, noted when its unit has committed (None until then, and
    for good when the unit rolled back or stopped before the step)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: int | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One statement: run once with `args`, or once per item of `many`; `rowid`, if given,
    receives the id of the row it inserted once the unit has committed."""

    sql: str
    args: Sequence[Any] = ()
    many: Sequence[Sequence[Any]] | None = None
    required: bool = False
    rowid: RowId | None = None

    @classmethod
    def each(cls, sql: str, many: Sequence[Sequence[Any]]) -> Step:
        return cls(sql, many=many)


@dataclass(frozen=True, slots=True)
class Done:
    """What the unit did: each run step's changed-row count and last inserted rowid, and
    whether every required step changed a row (else the steps after it did not run)."""

    complete: bool
    rowcounts: tuple[int, ...]
    lastrowids: tuple[int, ...]


class UnitOfWork:
    """Statements that land together, in one trip to the connection's thread."""

    def __init__(self, db: aiosqlite.Connection, steps: Iterable[Step] = ()) -> None:
        self._db = db
        self._steps = list(steps)

    def add(self, step: Step) -> UnitOfWork:
        self._steps.append(step)
        return self

    async def commit(self) -> Done:
        steps = tuple(self._steps)
        # aiosqlite's own calls are each one `_execute` of a function on its thread; this is the
        # same, with the whole transaction in the function.
        done: Done = await self._db._execute(  # type: ignore[no-untyped-call]
            _run, self._db._conn, steps
        )
        for step, lastrowid in zip(steps, done.lastrowids, strict=False):
            if step.rowid is not None:
                step.rowid.value = lastrowid
        return done


async def write(db: aiosqlite.Connection, *steps: Step) -> Done:
    """`steps` as one transaction, in one trip."""
    return await UnitOfWork(db, steps).commit()


def _run(conn: sqlite3.Connection, steps: tuple[Step, ...]) -> Done:
    rowcounts: list[int] = []
    lastrowids: list[int] = []
    complete = True
    try:
        for step in steps:
            if step.many is not None:
                cur = conn.executemany(step.sql, step.many)
            else:
                cur = conn.execute(step.sql, tuple(step.args))
            rowcounts.append(cur.rowcount)
            lastrowids.append(cur.lastrowid or 0)
            if step.required and cur.rowcount < 1:
                complete = False
                break
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return Done(complete, tuple(rowcounts), tuple(lastrowids))
