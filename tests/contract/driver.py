"""What a broker supplies to the contract suite: a `BrokerDriver` (the adapter plus its steering).

The suite speaks only `brokers.base.Broker`, `brokers.models` and `brokers.errors`. Anything that
needs the broker's own machinery (filling an order, breaking the network, moving the egress IP)
goes through the driver, and a driver answers every `Failure` either by arming it or by listing
it in `unsupported` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from brokers.base import Broker
from brokers.models import SessionInfo


class Failure(StrEnum):
    """One case per error class of `brokers.errors` that the core must tell apart."""

    THROTTLED = "throttled"  # the next place is refused as too many requests
    PLACE_TIMEOUT = "place timeout"  # the next place is executed, but its answer never comes
    IP_NOT_WHITELISTED = "ip not whitelisted"  # our egress IP leaves the broker's whitelist
    SESSION_IP_MISMATCH = "session ip mismatch"  # egress moves to another whitelisted IP
    SESSION_EXPIRED = "session expired"  # the broker forgets every session
    REJECTED = "rejected"  # an option quantity off its lot size (nothing to arm)


@dataclass(frozen=True, slots=True)
class Expect:
    """What the error the armed failure causes must carry.

    `code` is compared exactly: the broker's own code (stCode, HTTP status), or None where the
    broker has none. `message`, when given, is the broker's text that must come through verbatim
    (otherwise any non-empty message will do). `retry_after` is compared for `Throttled`.
    """

    code: str | None = None
    message: str | None = None
    retry_after: float | None = None


class BrokerDriver(Protocol):
    """A ready adapter and the controls of its market. Built fresh for every case.

    The data members are read-only properties here so that a driver may hold its own adapter
    class (`KotakBroker`, with its extras) in a plain attribute.
    """

    @property
    def name(self) -> str:
        """The adapter's `name` (what `BROKER=` selects)."""
        ...

    @property
    def broker(self) -> Broker:
        """The adapter under test, logged in by the fixture."""
        ...

    @property
    def account(self) -> str:
        """What `SessionInfo.account` must say."""
        ...

    @property
    def equity(self) -> str:
        """Key of a traded equity (lot size 1)."""
        ...

    @property
    def option(self) -> str:
        """Key of a traded option (lot size above 1)."""
        ...

    @property
    def untraded_option(self) -> str:
        """Key of a listed option strike that has not traded today: it has no LTP."""
        ...

    @property
    def opening_available(self) -> Decimal:
        """`Funds.available` of the untouched account."""
        ...

    @property
    def unsupported(self) -> Mapping[Failure, str]:
        """The failures this broker cannot produce, each with the reason (its case is skipped)."""
        ...

    async def login(self) -> SessionInfo:
        """`broker.login()` with whatever second factor this broker's simulator accepts."""
        ...

    async def fill(self, order_id: str) -> None:
        """Make the market fill this working order completely, at its limit price."""
        ...

    async def holding(self) -> tuple[str, int]:
        """Make sure the account holds an equity; return its key and quantity."""
        ...

    async def arm(self, failure: Failure) -> Expect:
        """Make the broker fail the next matching call as `failure` describes."""
        ...
