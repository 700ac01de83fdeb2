"""TOTP codes for broker logins (pyotp), never reused.

A code may be used once: two logins inside the same 30-second step would send the same code, and
brokers reject a replayed code. So a second request in the same step waits for the next one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import pyotp

STEP = 30


class TotpClock(Protocol):
    """Where a `TotpSource` reads the time and how it waits for the next step, as one object.
    Production uses the wall clock (the defaults); tests pass one whose `sleep` moves its time
    forward instantly, so a second login does not wait up to 30 real seconds."""

    def __call__(self) -> float: ...

    async def sleep(self, seconds: float, /) -> None: ...


def check_seed(seed: str) -> None:
    """Raise ValueError (for a config error) unless `seed` is a usable base32 TOTP secret; the
    message never contains the seed."""
    try:
        pyotp.TOTP(seed.replace(" ", "").upper()).now()
    except ValueError:  # binascii.Error (not base32) is a ValueError too
        raise ValueError(
            "expected the base32 TOTP secret shown when you enabled TOTP (letters A-Z and "
            "digits 2-7), not a 6-digit code"
        ) from None
    if len(seed.replace(" ", "")) < 16:
        raise ValueError("expected the base32 TOTP secret (16 or more characters), not a code")


class TotpSource:
    """Hands out each 30-second step's code at most once."""

    def __init__(
        self,
        seed: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        check_seed(seed)
        self._totp = pyotp.TOTP(seed.replace(" ", "").upper(), interval=STEP)
        self._clock = clock
        self._sleep = sleep
        self._last_step: int | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return "TotpSource(<secret>)"

    async def fresh_code(self) -> str:
        """A code whose 30-second step has not been used before (waits for the next step)."""
        async with self._lock:
            now = self._clock()
            step = int(now // STEP)
            if self._last_step is not None and step <= self._last_step:
                await self._sleep((self._last_step + 1) * STEP - now + 0.05)
                now = self._clock()
                step = int(now // STEP)
            self._last_step = step
            return self._totp.at(now)
