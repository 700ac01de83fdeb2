"""The `Broker` protocol: the one contract the core relies on.

Paper, Kotak and mStock implement exactly this. The core never calls a broker directly; it goes
through the account (`bot.accounts`), which wraps these calls with the IP gate and the limiter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, runtime_checkable

from brokers.models import (
    AmoWindow,
    Funds,
    Holding,
    Instrument,
    MarginCheck,
    ModifyRequest,
    Order,
    OrderRequest,
    Position,
    Quote,
    SessionInfo,
    Trade,
)


@runtime_checkable
class Broker(Protocol):
    """Async broker adapter. Methods raise `brokers.errors.BrokerError` subclasses only."""

    name: str

    async def login(self, otp: str | None = None) -> SessionInfo:
        """Create a session. `otp` is the current TOTP code: the account generates it (and
        never reuses one inside its 30-second step); static factors (MPIN, password) are in the
        adapter's own config. Called by the account only; paper ignores `otp`."""
        ...

    async def close(self) -> None:
        """Release connections and background tasks."""
        ...

    async def instruments(self) -> Sequence[Instrument]:
        """The full instrument list the core indexes for symbol lookup and search."""
        ...

    async def quotes(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        """Quotes keyed by `Instrument.key`. Missing instruments are simply absent."""
        ...

    async def place_order(self, request: OrderRequest) -> str:
        """Place one order; return the broker's order id. A timeout raises `UnknownOutcome`."""
        ...

    async def modify_order(self, request: ModifyRequest) -> str: ...

    async def cancel_order(self, order_id: str, *, amo: bool = False) -> str:
        """Cancel an open order; `amo` when it is an after-market order (its cancel says so)."""
        ...

    async def orders(self) -> list[Order]:
        """Today's order book (an empty book is an empty list, not an error)."""
        ...

    async def trades(self) -> list[Trade]: ...

    async def positions(self) -> list[Position]: ...

    async def holdings(self) -> list[Holding]: ...

    async def funds(self) -> Funds: ...


@runtime_checkable
class ResumableSession(Protocol):
    """Optional: a broker whose session can be saved and used again after a restart."""

    def export_session(self) -> dict[str, str] | None:
        """The session's tokens as plain strings (the account stores them owner-only)."""
        ...

    async def resume_session(self, data: dict[str, str]) -> SessionInfo:
        """Adopt a saved session without logging in; the account verifies it with a read."""
        ...


@runtime_checkable
class ReportsClientIP(Protocol):
    """Optional: a broker that can tell which IP it sees us calling from (Kotak's
    `login/1.0/get-client-ip`). The account trusts this over an IP echo service."""

    async def client_ip(self) -> str | None: ...


@runtime_checkable
class StreamsOrders(Protocol):
    """Optional: a broker that pushes order updates (Kotak's order feed websocket, mStock's
    ticker websocket). The core feeds them to the same order tracker that polls the order book,
    so a dropped feed only makes updates slower, never lost."""

    async def stream_orders(self, on_update: Callable[[Order], Awaitable[None]]) -> None:
        """Run until cancelled: connect, authenticate, reconnect with backoff, and call
        `on_update` for every order update, normalized like `orders()`."""
        ...


@runtime_checkable
class ReportsServerClock(Protocol):
    """Optional: a broker that measures its clock against ours from HTTP `Date` headers; the
    account prefers this to the IP service's clock, since TOTP is checked by the broker."""

    clock_skew_seconds: float | None


@runtime_checkable
class PacesOrderWrites(Protocol):
    """Optional: a broker that can await the account's order-rate limiter at the last moment,
    right before an order request is written to the wire (Kotak and mStock, through httpx's
    trace hook). The count that matters is taken where requests arrive, so a slot taken earlier
    (before a connect, or a pause) could let 11 requests land inside one second. Such a broker
    also calls `brokers.writes.request_written` once an order request is written whole."""

    def pace_order_writes(self, pace: Callable[[], Awaitable[None]]) -> None: ...


@runtime_checkable
class VersionedInstruments(Protocol):
    """Optional: a broker whose instrument list is replaced while the bot runs (Kotak publishes
    a new scrip master every trading day, with new lot sizes, freeze limits and expiries). The
    core compares versions to know when to rebuild its instrument index."""

    def instruments_version(self) -> str:
        """Names the list `instruments()` serves now (Kotak: the IST trading date). Cheap, and
        loads nothing: the core calls `instruments()` when the version moves on."""
        ...


@runtime_checkable
class ListsInstrumentsBeforeLogin(Protocol):
    """Optional: a broker whose instrument list needs no session (Kotak serves its scrip master
    before login, ref §1; mStock's needs the JWT). The core then loads the list, its longest
    start-up step, while the session is being created instead of after it."""

    instruments_before_login: bool


@runtime_checkable
class SharesInstruments(Protocol):
    """Optional: adapters whose `instruments()` is one list shared by several accounts (the
    same broker on the same cache folder, `brokers.master_cache`): equal `master_key`s mean the
    same list object, so the core builds one instrument index for all of them."""

    @property
    def master_key(self) -> str: ...


@runtime_checkable
class LimitsQuoteBatch(Protocol):
    """Optional: a broker that serves at most `quote_batch_limit` instruments per quotes call
    (Kotak: 50, ref §7.1). The adapter still splits a longer list itself; a caller that polls
    many instruments (the price-alert watch) asks in batches of this size, so each of its calls
    is one request and one failed request costs only its own batch."""

    quote_batch_limit: int


@runtime_checkable
class ChecksMargin(Protocol):
    """Optional: a broker that can say before an order is sent what margin it needs and what
    the account has (Kotak's `check-margin`; the paper account's own margin rules). The core
    shows it on the confirmation card; it never decides whether an order is sent."""

    async def check_margin(self, request: OrderRequest) -> MarginCheck: ...


@runtime_checkable
class RegistersIPsPerKey(Protocol):
    """Optional: a broker whose static IPs are registered per API key on its website (mStock:
    Trading APIs → API Settings), so the right IP on another key looks like no IP at all.
    `api_key_prefix` names the key in use by its first few characters, for `/session` and the
    doctor to say which key's settings to check."""

    api_key_prefix: str


@runtime_checkable
class TakesAfterMarketOrders(Protocol):
    """Optional: a broker that takes after-market orders (AMO: Kotak's `am`, mStock's `variety`,
    the paper account's held orders), sent with `OrderRequest.amo`. Out of hours the core offers
    an order as an AMO only through a broker with this, and only inside its window."""

    def amo_window(self, exchange: str) -> AmoWindow | None:
        """When AMOs for `exchange`'s segment are taken (None: not for that exchange)."""
        ...
