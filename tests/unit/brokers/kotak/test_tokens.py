"""The token table answers as a dict of the first instrument per token would, in a third of
its memory (the bot's memory target, bench/startup.py)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from decimal import Decimal

import pytest

from brokers.kotak.tokens import TokenTable
from brokers.models import Instrument, InstrumentKind


def _inst(n: int) -> Instrument:
    return Instrument("NFO", f"X{n}", "X", InstrumentKind.FUTURE, Decimal("0.05"))


def test_lookups_are_those_of_a_first_wins_dict() -> None:
    table, expected = TokenTable(), dict[int | str, Instrument]()
    items: list[tuple[int | str, int]] = [
        (52100, 1),
        (3045, 2),
        ("Nifty 50", 3),
        (52100, 4),
        (1 << 70, 5),
        (-7, 6),
        (0, 7),
    ]
    for token, n in items:
        table.add(token, _inst(n))
        expected.setdefault(token, _inst(n))
    assert table.get(3045) == _inst(2)  # a lookup before `seal` seals first
    table.seal()
    assert dict(table) == expected and len(table) == len(expected)
    assert table[52100] == _inst(1)  # the first one wins
    assert table["Nifty 50"] == _inst(3) and table[1 << 70] == _inst(5)
    assert table.get(52101) is None and table.get("52100") is None
    with pytest.raises(KeyError):
        table[99]
    ascending = TokenTable()  # the file's order kept as it is
    for token in (1, 5, 9):
        ascending.add(token, _inst(token))
    ascending.add(7, _inst(7))  # one more out of order: sorted again, the first still first
    ascending.add(5, _inst(55))
    assert dict(ascending) == {1: _inst(1), 5: _inst(5), 7: _inst(7), 9: _inst(9)}
    assert list(ascending) == [1, 5, 7, 9]


def test_it_holds_a_third_of_a_dicts_memory() -> None:
    rows = [_inst(0)] * 50_000
    tokens = [str(40_000 + 3 * n) for n in range(50_000)]

    def held(build: Callable[[], object]) -> int:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            kept = build()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        del kept
        return after - before

    def table() -> TokenTable:
        built = TokenTable()
        for token, inst in zip(tokens, rows, strict=True):
            built.add(int(token), inst)
        built.seal()
        return built

    as_dict = held(lambda: {int(token): inst for token, inst in zip(tokens, rows, strict=True)})
    assert held(table) * 2.5 < as_dict
