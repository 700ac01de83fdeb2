"""End-to-end fixtures shared by modules that also import each other's fixtures."""

from __future__ import annotations

import pytest

from tests.fakes.totp_clock import SkipAheadClock


@pytest.fixture
def totp_clock() -> SkipAheadClock:
    """One per test, starting at real time: the bot logs in with it (pass it to `BotHarness`)
    and the broker simulator checks codes against it, so a second login does not wait for the
    next real 30-second TOTP step."""
    return SkipAheadClock()
