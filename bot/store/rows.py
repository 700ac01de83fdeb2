"""Rows to frozen dataclasses, by field name.

Every table is read the same way: `SELECT *`, then one dataclass per row. The columns a dataclass
names are taken from the row (others are ignored) and converted by the field's declared type, so
a new column or a new row class needs no hand-written mapping: `datetime` fields are parsed from
their ISO text, `dict`/`list` fields from their JSON text, and everything else is taken as SQLite
returned it. `None` stays `None` for optional fields.
"""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

import aiosqlite

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")

Convert = Callable[[Any], Any]


def _keep(value: Any) -> Any:
    return value


def _from_json(value: Any) -> Any:
    return json.loads(value)


def _converter(hint: Any) -> Convert:
    """How to turn a column value into a value of type `hint`."""
    if get_origin(hint) in (Union, types.UnionType):
        inner = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(inner) == 1:
            convert = _converter(inner[0])
            return lambda value: None if value is None else convert(value)
        return _keep
    if hint is datetime:
        return datetime.fromisoformat
    if hint in (dict, list) or get_origin(hint) in (dict, list):
        return _from_json
    return _keep


class RowMapper(Generic[T]):
    """Maps rows to `cls`, a dataclass whose field names are column names."""

    def __init__(self, cls: type[T]) -> None:
        hints = get_type_hints(cls)
        self._cls = cls
        self._fields = tuple(
            (field.name, _converter(hints[field.name])) for field in dataclasses.fields(cls)
        )

    def __call__(self, row: aiosqlite.Row) -> T:
        values = {name: convert(row[name]) for name, convert in self._fields}
        return self._cls(**values)

    async def select(self, db: aiosqlite.Connection, sql: str, args: Iterable[Any] = ()) -> list[T]:
        """Run one query on a connection whose `row_factory` is `aiosqlite.Row`: one trip to
        the connection's thread (execute, fetch and close together), not three, since reads
        such as the intent on a Confirm tap sit on the order path."""
        rows = await db.execute_fetchall(sql, tuple(args))
        return [self(row) for row in rows]


def in_account(where: str, args: Sequence[Any], account: str | None) -> tuple[str, tuple[Any, ...]]:
    """`where` narrowed to one account's rows: a repository made for one account
    (`Store.for_account`) reads and changes only that account's intents, orders and alerts, so
    one account's tracker or watch can never act on another's. `None` means every account."""
    if account is None:
        return where, tuple(args)
    return f"({where}) AND account = ?", (*args, account)
