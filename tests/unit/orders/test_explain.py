"""Broker errors in the user's words: an unknown outcome says why there is no answer, and a
failed read on the way to a card is the broker's problem, not "something went wrong on my side"."""

from __future__ import annotations

import pytest

from bot.explain import explain, explain_read
from brokers.errors import BrokerUnavailable, SessionExpired, UnknownOutcome


@pytest.mark.parametrize(
    ("cause", "why"),
    [
        ("timeout", "The broker did not answer in time"),
        ("server_error", "The broker answered with a server error instead of a reply"),
        ("bad_reply", "The broker's reply could not be read"),
        ("connection_lost", "The connection to the broker broke before its reply came"),
    ],
)
def test_an_unknown_outcome_is_worded_from_its_cause(cause: str, why: str) -> None:
    text = explain(UnknownOutcome("HTTP 500 page", cause=cause)).text  # type: ignore[arg-type]
    assert text.startswith(f"{why}, so I don't know yet whether it went through.")
    assert "do not send it again" in text
    if cause != "timeout":
        assert "in time" not in text


def test_an_unknown_outcome_without_a_cause_is_a_timeout() -> None:
    assert UnknownOutcome("no reply").cause == "timeout"


def test_a_failed_read_names_what_could_not_be_fetched() -> None:
    err = explain_read(BrokerUnavailable("Kotak quotes: HTTP 502"), "a price for NSE:SBIN")
    assert err.reason == "broker_unavailable"
    assert err.text.startswith("The broker could not give me a price for NSE:SBIN just now")
    assert "on my side" not in err.text
    assert explain_read(SessionExpired("x"), "a price").reason == "session_expired"
