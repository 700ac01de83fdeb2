"""Broker errors in the user's words: an unknown outcome says why there is no answer, and a
failed read on the way to a card is the broker's problem, not "something went wrong on my side"."""

from __future__ import annotations

import pytest

from bot.explain import explain, explain_read
from brokers.errors import (
    BrokerUnavailable,
    DuplicateTag,
    OutcomeCause,
    SessionExpired,
    UnknownOutcome,
)


@pytest.mark.parametrize(
    ("cause", "why"),
    [
        (OutcomeCause.TIMEOUT, "The broker did not answer in time"),
        (OutcomeCause.SERVER_ERROR, "The broker answered with a server error instead of a reply"),
        (OutcomeCause.BAD_REPLY, "The broker's reply could not be read"),
        (OutcomeCause.CONNECTION_LOST, "The connection to the broker broke before its reply came"),
        (OutcomeCause.UNKNOWN_CODE, "The broker answered with a code I do not know"),
        (OutcomeCause.UNCHECKED, "The broker's answer did not say whether it was done"),
        (OutcomeCause.UNSPECIFIED, "The broker gave no usable answer"),
    ],
)
def test_an_unknown_outcome_is_worded_from_its_cause(cause: OutcomeCause, why: str) -> None:
    text = explain(UnknownOutcome("HTTP 500 page", cause=cause)).text
    assert text.startswith(f"{why}, so I don't know yet whether it went through.")
    assert "do not send it again" in text
    if cause != "timeout":
        assert "in time" not in text


def test_an_unknown_outcome_without_a_cause_is_not_called_a_timeout() -> None:
    text = explain(UnknownOutcome("no reply")).text
    assert "in time" not in text and "do not send it again" in text


def test_a_reused_tag_is_never_worded_as_a_refusal() -> None:
    err = explain(DuplicateTag("Client OrderID already exists", code="5204"))
    assert err.reason == "unknown_outcome" and "do not send it again" in err.text


def test_a_failed_read_names_what_could_not_be_fetched() -> None:
    err = explain_read(BrokerUnavailable("Kotak quotes: HTTP 502"), "a price for NSE:SBIN")
    assert err.reason == "broker_unavailable"
    assert err.text.startswith("The broker could not give me a price for NSE:SBIN just now")
    assert "on my side" not in err.text
    assert explain_read(SessionExpired("x"), "a price").reason == "session_expired"
