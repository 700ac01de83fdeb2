"""One segment's instruments by token (`pSymbol`), in a third of a dict's memory.

Book and position rows name their contract by segment and token, so the scrip master keeps a
token lookup per segment: 150k entries for nse_fo. As a dict of int tokens it costs 4 MB of
table and 5 MB of int objects (the bot's memory target is 150 MB, bench/startup.py); here the
numbers sit in one sorted `array("q")` with the instruments beside them (2.4 MB), found by
bisection in about a microsecond. Tokens that are not numbers (index names, `Nifty 50`) or do
not fit 64 bits go to a small dict.
"""

from __future__ import annotations

import operator
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from itertools import islice

from brokers.models import Instrument

_LOW, _HIGH = -(1 << 63), 1 << 63


class TokenTable(Mapping[int | str, Instrument]):
    """Filled by `add` (the first instrument wins a token), then `seal`ed once, in the thread
    that builds the master: sealing sorts, and a lookup before it seals first."""

    __slots__ = ("_named", "_numbers", "_rows", "_sealed")

    def __init__(self) -> None:
        self._numbers = array("q")
        self._rows: list[Instrument] = []
        self._named: dict[int | str, Instrument] = {}
        self._sealed = True

    def add(self, token: int | str, inst: Instrument) -> None:
        if isinstance(token, int) and _LOW <= token < _HIGH:
            self._numbers.append(token)
            self._rows.append(inst)
            self._sealed = False
        else:
            self._named.setdefault(token, inst)

    def seal(self) -> None:
        """Sort the numbers (a stable sort: a token's first instrument stays first) and keep
        each token's first instrument only."""
        if self._sealed:
            return
        numbers, rows = self._numbers, self._rows
        self._sealed = True
        if all(map(operator.lt, numbers, islice(numbers, 1, None))):
            return  # ascending already, no token repeated: the file's order (checked in C)
        first = sorted(range(len(numbers)), key=numbers.__getitem__)
        if len(set(numbers)) != len(numbers):  # a token repeated: its first instrument only
            first = [i for n, i in enumerate(first) if not n or numbers[i] != numbers[first[n - 1]]]
        self._numbers = array("q", map(numbers.__getitem__, first))
        self._rows = list(map(rows.__getitem__, first))

    def __getitem__(self, token: int | str) -> Instrument:
        if isinstance(token, int) and _LOW <= token < _HIGH:
            self.seal()
            at = bisect_left(self._numbers, token)
            if at < len(self._numbers) and self._numbers[at] == token:
                return self._rows[at]
        return self._named[token]

    def __iter__(self) -> Iterator[int | str]:
        self.seal()
        yield from self._numbers
        yield from self._named

    def __len__(self) -> int:
        self.seal()
        return len(self._numbers) + len(self._named)
