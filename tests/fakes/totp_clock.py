"""A TOTP clock that skips ahead instead of waiting (a `bot.accounts.TotpClock`).

`TotpSource` never hands out one 30-second step's code twice, so a second login waits for the
next step: up to 30 real seconds. With this clock that wait moves the clock forward instead, so
every code is still that of a fresh step, and a simulator that checks codes with `verifies`
(against the same clock) still refuses a wrong one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pyotp


class SkipAheadClock:
    """Real time plus whatever the TOTP source 'slept'."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        self.offset += seconds

    def verifies(self, seed: str, seen: list[str] | None = None) -> Callable[[str], bool]:
        """A simulator's `expected_totp`: the code of `seed` at this clock's time (one step of
        slack either way, as brokers allow). Every code offered is appended to `seen`."""
        totp = pyotp.TOTP(seed)

        def check(code: str) -> bool:
            if seen is not None:
                seen.append(code)
            return totp.verify(code, for_time=self(), valid_window=1)

        return check
