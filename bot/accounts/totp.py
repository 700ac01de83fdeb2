"""TOTP codes for broker logins (pyotp), never reused.

A code may be used once: two logins inside the same 30-second step would send the same code, and
brokers reject a replayed code. So a second request in the same step waits for the next one.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Awaitable, Callable
from typing import ClassVar, Protocol

import pyotp

STEP = 30

# Authenticator apps (Google Authenticator, Authy, Microsoft Authenticator) take a seed of 16
# base32 characters (80 bits) and up; pyotp 2.10+ refuses anything under 112 bits by default,
# which turned the common 16-character seed into a start-up error (issue 11).
MIN_SEED_CHARS = 16
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_BASE32 = re.compile(r"[A-Z2-7]+")
_EXAMPLE = "e.g. JBSWY3DPEHPK3PXP"


class _Totp(pyotp.TOTP):
    """pyotp's TOTP, with the 80-bit floor the apps use instead of pyotp's 112 bits."""

    min_secret_length_bits: ClassVar[int] = MIN_SEED_CHARS * 5


class TotpClock(Protocol):
    """Where a `TotpSource` reads the time and how it waits for the next step, as one object.
    Production uses the wall clock (the defaults); tests pass one whose `sleep` moves its time
    forward instantly, so a second login does not wait up to 30 real seconds."""

    def __call__(self) -> float: ...

    async def sleep(self, seconds: float, /) -> None: ...


def normalize_seed(seed: str) -> str:
    """The seed as pyotp decodes it: spaces, dashes and `=` padding dropped, upper case, then
    padded to whole 8-character groups. Raise ValueError (a config error, one sentence that
    never contains the seed) for a 6-digit code, a non-base32 text or a seed too short.

    Any length is decoded the way the apps do it, 5 bits per character with leftover bits
    dropped, so a 17-character seed (not valid strict base32) works too."""
    text = re.sub(r"[\s-]", "", seed).upper().rstrip("=")
    if re.fullmatch(r"\d{6,8}", text):
        raise ValueError(
            "that looks like a 6-digit code, not the TOTP secret; expected the seed shown when "
            f"you set up TOTP, {_EXAMPLE}"
        )
    if not _BASE32.fullmatch(text):
        raise ValueError(
            "that is not base32; expected the TOTP secret, letters A-Z and digits 2-7 (spaces "
            f"allowed), {_EXAMPLE}"
        )
    if len(text) < MIN_SEED_CHARS:
        raise ValueError(
            f"that TOTP secret is too short ({len(text)} characters); a seed has "
            f"{MIN_SEED_CHARS} or more, {_EXAMPLE}: copy the whole seed"
        )
    return base64.b32encode(_decode(text)).decode()


def _decode(text: str) -> bytes:
    """Base32 without padding rules: 5 bits per character, whole bytes kept."""
    out = bytearray()
    bits = count = 0
    for char in text:
        bits = (bits << 5 | _ALPHABET.index(char)) & 0xFFFF
        count += 5
        if count >= 8:
            count -= 8
            out.append(bits >> count & 0xFF)
    return bytes(out)


def check_seed(seed: str) -> None:
    """Raise ValueError (for a config error) unless `seed` is a usable base32 TOTP secret; the
    message never contains the seed."""
    normalize_seed(seed)


class TotpSource:
    """Hands out each 30-second step's code at most once."""

    def __init__(
        self,
        seed: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._totp = _Totp(normalize_seed(seed), interval=STEP)
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
