"""Broker errors → one plain sentence for the user.

Where a `BrokerError` becomes a `UserError`, so every front end words a broker's refusal the
same way. Broker and exchange reasons are quoted verbatim. An IP refusal is worded from its class
by `ip_refusal`, which the account also uses when it explains a refusal itself, and carries the
broker's own code only when the broker gave one: no wire code is written here.
"""

from __future__ import annotations

from bot.accounts import ip_refusal
from bot.errors import UserError
from brokers import errors as be

# Why an order call has no usable answer, by `UnknownOutcome.cause`: a server error or a garbled
# page is not a slow broker, and the user should not be told it was.
_NO_ANSWER: dict[be.OutcomeCause, str] = {
    be.OutcomeCause.TIMEOUT: "The broker did not answer in time",
    be.OutcomeCause.SERVER_ERROR: "The broker answered with a server error instead of a reply",
    be.OutcomeCause.BAD_REPLY: "The broker's reply could not be read",
    be.OutcomeCause.CONNECTION_LOST: "The connection to the broker broke before its reply came",
    be.OutcomeCause.UNKNOWN_CODE: "The broker answered with a code I do not know",
    be.OutcomeCause.UNCHECKED: "The broker's answer did not say whether it was done",
    be.OutcomeCause.UNSPECIFIED: "The broker gave no usable answer",
}


def explain(exc: be.BrokerError) -> UserError:
    """Most specific class first: the subclasses of BrokerRejected before BrokerRejected."""
    msg = exc.message.rstrip(".")
    match exc:
        case be.InsufficientFunds():
            return UserError("margin", f"Not enough funds or margin: {msg}.")
        case be.InvalidQuantity():
            return UserError("lot_size", f"The broker refused the quantity: {msg}.")
        case be.OrderNotFound():
            return UserError("order_not_found", f"The broker has no such order: {msg}.")
        case be.OrderNotModifiable():
            return UserError("order_closed", f"That order can no longer be changed: {msg}.")
        case be.InstrumentNotFound():
            return UserError("unknown_symbol", f"The broker does not know that instrument: {msg}.")
        case be.BrokerRejected():
            return UserError("broker_rejected", f"The broker rejected it: {msg}.")
        case be.IPNotWhitelisted():
            return UserError("ip_not_whitelisted", f"{ip_refusal(exc)}. Nothing was placed.")
        case be.SessionIPMismatch():
            return UserError(
                "session_ip_mismatch",
                f"{ip_refusal(exc)}. Nothing was placed; the session must be created again "
                "from this server.",
            )
        case be.SessionExpired():
            return UserError(
                "session_expired", "The broker session has expired and logging in again failed."
            )
        case be.AuthError():
            return UserError("login_failed", f"Logging in to the broker failed: {msg}.")
        case be.Throttled():
            return UserError(
                "throttled",
                "The broker is limiting requests right now; nothing was sent. "
                "Try again in a few seconds.",
            )
        case be.DuplicateTag():
            return UserError(
                "unknown_outcome",
                "The broker already has an order under this order's tag, so it was accepted "
                "earlier. I am looking it up in the order book; do not send it again.",
            )
        case be.UnknownOutcome():
            return UserError(
                "unknown_outcome",
                f"{_NO_ANSWER[exc.cause]}, so I don't know yet whether it went through. I am "
                "checking the order book and will tell you; do not send it again.",
            )
        case _:
            return UserError(
                "broker_unavailable",
                "The broker could not be reached or answered with an error; nothing was "
                "changed. Try again in a moment.",
            )


def explain_read(exc: be.BrokerError, what: str) -> UserError:
    """A failed read on the way to a card (a quote to price from, the order to change): the
    broker's problem, said as such, with what could not be fetched. Session, login and IP
    problems keep their own words."""
    match exc:
        case be.BrokerUnavailable() | be.UnknownOutcome() | be.Throttled():
            return UserError(
                "broker_unavailable",
                f"The broker could not give me {what} just now (it could not be reached or "
                "answered with an error); nothing was sent. Try again in a moment.",
            )
        case _:
            return explain(exc)
