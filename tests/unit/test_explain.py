"""IP refusals in words: worded from the error's class, with the broker's code only when the
broker gave one (the words never carry a code of their own)."""

from __future__ import annotations

import pytest

from bot.explain import explain
from brokers.errors import BrokerError, IPNotWhitelisted, SessionIPMismatch


@pytest.mark.parametrize(
    ("error", "reason", "why"),
    [
        (IPNotWhitelisted, "ip_not_whitelisted", "this server's IP address is not whitelisted"),
        (SessionIPMismatch, "session_ip_mismatch", "the session was created from another IP"),
    ],
)
def test_an_ip_refusal_shows_the_broker_code_only_when_given(
    error: type[BrokerError], reason: str, why: str
) -> None:
    with_code = explain(error("unauthorized", code="X42"))
    assert with_code.reason == reason
    assert why in with_code.text and "(broker code X42)" in with_code.text
    assert "Nothing was placed" in with_code.text

    without = explain(error("unauthorized"))
    assert why in without.text and "code" not in without.text
