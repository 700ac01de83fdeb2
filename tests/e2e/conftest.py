"""End-to-end fixtures. `totp_clock` lives here rather than in test_kotak.py because other
modules import test_kotak's `parts` fixture, which needs it, and pytest looks a fixture's own
fixtures up from the test's module."""

from __future__ import annotations

import pytest

from tests.fakes.totp_clock import SkipAheadClock


@pytest.fixture
def totp_clock() -> SkipAheadClock:
    """One per test, starting at real time: the bot logs in with it (pass it to `BotHarness`)
    and the broker simulator checks codes against it, so a second login does not wait for the
    next real 30-second TOTP step."""
    return SkipAheadClock()
