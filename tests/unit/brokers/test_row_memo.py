"""A report row is mapped once per distinct row (the tracker reads the whole order book every
few seconds): a changed row, a new day's key lookup or a nested value maps again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brokers.wire import RowMemo


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, row: Mapping[str, Any], key_for: str) -> tuple[str, Any]:
        self.calls += 1
        return (key_for, row.get("ordSt"))


def test_an_unchanged_row_is_mapped_once_and_a_changed_one_again() -> None:
    convert = Counting()
    memo = RowMemo(convert)
    row = {"nOrdNo": "1", "ordSt": "open", "fldQty": 0}
    assert memo(row, "day1") == memo(dict(row), "day1") == ("day1", "open")
    assert convert.calls == 1
    assert memo({**row, "fldQty": 5}, "day1") == ("day1", "open")  # any field counts
    assert memo({**row, "ordSt": "complete"}, "day1") == ("day1", "complete")
    assert convert.calls == 3


def test_a_new_key_lookup_forgets_and_nested_values_are_mapped_each_time() -> None:
    convert = Counting()
    memo = RowMemo(convert)
    row = {"nOrdNo": "1", "ordSt": "open"}
    memo(row, "day1")
    assert memo(row, "day2") == ("day2", "open")  # a new day's master: mapped again
    nested = {"nOrdNo": "2", "ordSt": "open", "legs": [1, 2]}
    memo(nested, "day2")
    memo(nested, "day2")
    assert convert.calls == 4


def test_it_stays_within_its_limit() -> None:
    convert = Counting()
    memo = RowMemo(convert, limit=3)
    for n in range(10):
        memo({"nOrdNo": str(n)}, "day1")
    assert len(memo._seen) <= 3
