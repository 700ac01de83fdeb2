"""What both order feeds share (Kotak's `/realtime`, mStock's ticker socket): the reconnect loop
with backoff, the watch for a new session, the receive loop, and a websocket logger that never
shows a frame.

Why it is one module:
- Both feeds only make updates faster: the order tracker still polls the book
  (`brokers.base.StreamsOrders`). So a malformed frame is skipped, a consumer's bug is logged and
  survived, and a dead feed backs off quietly instead of failing the account.
- Both feeds authenticate with the session's secret inside the connection (Kotak's `cn` frame,
  mStock's `LOGIN:<jwt>` frame and query string), and websockets logs every frame and the
  request line at DEBUG. Its logger is capped at INFO here, so no token reaches a log line.
- The account logs in; a feed never does. It waits for a session, and a re-login (new tokens)
  makes it reconnect with the new ones at once, even in the middle of a backoff.

What differs (the handshake, the URL, which frames are orders) is each adapter's `feed.py`.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from brokers.errors import BrokerError
from brokers.models import Order

__all__ = [
    "FeedLoop",
    "FeedSettings",
    "FrameToOrder",
    "OnUpdate",
    "Outcome",
    "parse_frame",
    "websocket_scheme",
    "where",
]

S = TypeVar("S")
FrameToOrder = Callable[[Mapping[str, Any]], Awaitable[Order]]
OnUpdate = Callable[[Order], Awaitable[None]]
# A handshake answers the connected socket with a note for the "connected" log line, or None
# when the server refused (closed or stayed silent).
Handshake = Callable[[ClientConnection], Awaitable[str | None]]

_SCHEMES = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}
_MAX_DOUBLINGS = 32  # 2**32 x the initial delay is far past any cap


class _InfoOnlyLogger(logging.LoggerAdapter[logging.Logger]):
    """websockets decides once per connection whether to log frames, by asking
    `isEnabledFor(DEBUG)`; answering no keeps the handshake frame and the request line (they hold
    the session's token) out of every log, whatever level the application sets. INFO and above
    (closes, errors) still pass."""

    def isEnabledFor(self, level: int) -> bool:
        return level > logging.DEBUG and self.logger.isEnabledFor(level)


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Timing for an order feed. The defaults follow Kotak's ref §9.1 (mStock documents none;
    OpenAlgo pings it every 20 s too): pings every 20 s, about 10 s to wait for the login ack,
    and backoff capped at 60 s. Tests shrink them.

    `stable_after`: a connection that stayed up at least this long resets the backoff, so a server
    that acks and then drops at once is not hammered. `session_poll`: how often the feed checks for
    a new or missing session (the account logs in; the feed never does)."""

    ack_timeout: float = 10.0
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    open_timeout: float = 10.0
    close_timeout: float = 5.0
    backoff_initial: float = 1.0
    backoff_cap: float = 60.0
    stable_after: float = 60.0
    session_poll: float = 1.0


class Outcome(enum.Enum):
    """How one connection attempt ended; every one but SESSION_CHANGED backs off."""

    UNREACHABLE = "unreachable"  # no websocket at all: the handshake was not tested
    REJECTED = "upgrade refused"  # the server answered the upgrade with an HTTP error
    REFUSED = "refused"  # closed or silent after the handshake frame
    DROPPED = "dropped"  # acked, then lost before `stable_after`
    STABLE_DROP = "stable drop"  # acked, then lost after `stable_after`
    SESSION_CHANGED = "session changed"  # re-login or logout: reconnect with the new tokens


def websocket_scheme(scheme: str, default: str = "wss") -> str:
    """`wss` for https, `ws` for http (hosts are often written with the REST scheme)."""
    return _SCHEMES.get(scheme, default)


def where(url: str) -> str:
    """The URL without query or fragment, for log lines (mStock's query holds the JWT)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def parse_frame(raw: str | bytes) -> dict[str, Any] | None:
    """A server frame as a JSON object, or None when it is not one."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        frame = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return None
    return frame if isinstance(frame, dict) else None


class FeedLoop(abc.ABC, Generic[S]):
    """One account's order-feed connection, kept up until the task running `run` is cancelled.

    `session` returns the broker's current session (None when logged out); it is read again on
    every connect and checked while connected. `to_order` turns an order frame's data into an
    `Order` with the broker's order-book mapping. `log` is the adapter feed's logger (its lines
    say `label`); websockets' own lines go to `<log>.ws`, capped at INFO."""

    def __init__(
        self,
        session: Callable[[], S | None],
        to_order: FrameToOrder,
        settings: FeedSettings | None,
        *,
        log: logging.Logger,
        label: str,
        user_agent: str,
    ) -> None:
        self._session = session
        self._to_order = to_order
        self._settings = settings or FeedSettings()
        self._log = log
        self._label = label
        self._user_agent = user_agent
        self._ws_log = _InfoOnlyLogger(logging.getLogger(log.name + ".ws"), {})

    @abc.abstractmethod
    def _same_session(self, a: S, b: S | None) -> bool:
        """Whether `b` is still `a` (False for None): a change means reconnect now."""

    @abc.abstractmethod
    async def _attempt(self, session: S, on_update: OnUpdate) -> Outcome:
        """Connect once (or once per handshake form) with `session`, until it ends."""

    @abc.abstractmethod
    async def _deliver(self, raw: str | bytes, on_update: OnUpdate) -> None:
        """One frame after the handshake: hand order updates to `on_update`, skip the rest."""

    async def run(self, on_update: OnUpdate) -> None:
        """Connect, authenticate, deliver order updates and reconnect with backoff, forever."""
        failures = 0
        while True:
            session = await self._wait_for_session()
            outcome = await self._attempt(session, on_update)
            if outcome is Outcome.SESSION_CHANGED:
                failures = 0
                continue
            failures = 1 if outcome is Outcome.STABLE_DROP else failures + 1
            delay = self._backoff(failures)
            self._log.info("%s: %s; reconnecting in %.1f s", self._label, outcome.value, delay)
            if await self._sleep_watching(session, delay):
                failures = 0

    def _backoff(self, failures: int) -> float:
        s = self._settings
        # The exponent is bounded so that a feed refused for days cannot overflow the float.
        doublings = min(max(failures - 1, 0), _MAX_DOUBLINGS)
        delay = min(s.backoff_cap, s.backoff_initial * 2.0**doublings)
        return delay * random.uniform(0.8, 1.0)  # spread reconnects after a server restart

    async def _wait_for_session(self) -> S:
        """The account logs in; until it has, poll rather than fail."""
        waiting = False
        while (session := self._session()) is None:
            if not waiting:
                self._log.info("%s: waiting for a session", self._label)
                waiting = True
            await asyncio.sleep(self._settings.session_poll)
        return session

    async def _sleep_watching(self, session: S, delay: float) -> bool:
        """Sleep `delay`, but stop early (returning True) when the session is replaced: stale
        tokens are the likeliest reason for refused handshakes, so new ones deserve a try now."""
        loop = asyncio.get_running_loop()
        end = loop.time() + delay
        while (left := end - loop.time()) > 0:
            await asyncio.sleep(min(left, self._settings.session_poll))
            if not self._same_session(session, self._session()):
                return True
        return False

    async def _open(
        self, url: str, session: S, handshake: Handshake, on_update: OnUpdate
    ) -> Outcome:
        """Connect to `url`, run `handshake`, then deliver frames until the connection ends."""
        s = self._settings
        try:
            async with connect(
                url,
                user_agent_header=self._user_agent,
                proxy=None,  # like the REST clients: environment proxies are not followed
                open_timeout=s.open_timeout,
                ping_interval=s.ping_interval,
                ping_timeout=s.ping_timeout,
                close_timeout=s.close_timeout,
                logger=self._ws_log,
            ) as ws:
                note = await handshake(ws)
                if note is None:
                    return Outcome.REFUSED
                self._log.info("%s: connected to %s (%s)", self._label, where(url), note)
                return await self._pump(ws, session, on_update)
        except InvalidStatus as exc:
            status = exc.response.status_code
            self._log.warning(
                "%s: %s refused the upgrade (HTTP %s)", self._label, where(url), status
            )
            return Outcome.REJECTED
        except (OSError, TimeoutError, WebSocketException) as exc:
            # ConnectionClosed is handled inside; what is left means the server was not reached.
            # Only the type is logged: a websockets error can quote the URL, query included.
            name = type(exc).__name__
            self._log.warning("%s: could not connect to %s (%s)", self._label, where(url), name)
            return Outcome.UNREACHABLE

    async def _pump(self, ws: ClientConnection, session: S, on_update: OnUpdate) -> Outcome:
        """Deliver frames until the socket drops or the session changes."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            if not self._same_session(session, self._session()):
                self._log.info("%s: session replaced; reconnecting with the new one", self._label)
                return Outcome.SESSION_CHANGED
            try:
                async with asyncio.timeout(self._settings.session_poll):
                    raw = await ws.recv()
            except TimeoutError:
                continue  # recv is cancel-safe; just look at the session again
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                self._log.warning("%s: connection lost (close code %s)", self._label, code)
                stable = loop.time() - started >= self._settings.stable_after
                return Outcome.STABLE_DROP if stable else Outcome.DROPPED
            await self._deliver(raw, on_update)

    async def _hand_over(self, data: Mapping[str, Any], on_update: OnUpdate) -> None:
        """Map an order frame's data like the book and give it to `on_update`. A frame that
        cannot be mapped (or whose mapping needed a REST read that failed) is skipped, and the
        consumer's bug must not stop the feed: the book poll catches up either way."""
        try:
            order = await self._to_order(data)
        except (ValueError, TypeError, KeyError, ArithmeticError, BrokerError) as exc:
            self._log.debug(
                "%s: skipped an unreadable order frame (%s)", self._label, type(exc).__name__
            )
            return
        log = self._log
        try:
            await on_update(order)
        except Exception:
            log.warning(
                "%s: on_update failed for order %s", self._label, order.order_id, exc_info=True
            )
