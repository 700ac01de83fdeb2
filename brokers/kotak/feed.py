"""Kotak's order feed (`/realtime`, "HSI", ref §9.1): order updates pushed over a websocket.

Why it is built this way:
- The upgrade carries no credentials. The trade token and sid go in the first text frame only.
- That frame's encoding is disputed (ref §9.1, §14 question 1). SDK 3.0.9 sends a raw, unquoted
  `{type:cn,...}`; OpenAlgo found live on 2026-07-28 that Kotak dropped the raw form and acked JSON.
  So the raw form goes first, and a drop *or* no ack within `ack_timeout` means "try the other form
  at once". The form that got an ack is remembered and used first on every later reconnect.
- A refused handshake is sometimes a closed socket and sometimes a socket held open that never
  pushes anything ([OA]), so silence counts as a failure.
- The feed only makes updates faster: the order tracker still polls the book (`StreamsOrders` in
  `brokers/base.py`). So a malformed frame is skipped, and a dead feed backs off quietly.
- websockets logs every frame's text at DEBUG, the handshake frame (trade token, sid) included, so
  its logger is capped at INFO here. No token or sid reaches a log line or an exception.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from brokers.kotak.auth import TradeSession
from brokers.kotak.constants import USER_AGENT
from brokers.models import Order

log = logging.getLogger(__name__)

HandshakeForm = Literal["raw", "json"]
FrameToOrder = Callable[[Mapping[str, Any]], Awaitable[Order]]
OnUpdate = Callable[[Order], Awaitable[None]]

_ACK_TYPE = "cn"
_SCHEMES = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}
_MAX_DOUBLINGS = 32  # 2**32 x the initial delay is far past any cap


class _InfoOnlyLogger(logging.LoggerAdapter[logging.Logger]):
    """websockets decides once per connection whether to log frames, by asking
    `isEnabledFor(DEBUG)`; answering no keeps the handshake frame (it holds the trade token) out of
    every log, whatever level the application sets. INFO and above (closes, errors) still pass."""

    def isEnabledFor(self, level: int) -> bool:
        return level > logging.DEBUG and self.logger.isEnabledFor(level)


_WS_LOG = _InfoOnlyLogger(logging.getLogger(__name__ + ".ws"), {})


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Timing for the order feed. The defaults follow ref §9.1: pings every 20 s (SDK; OpenAlgo
    uses 30 s), about 10 s to wait for the `cn` ack, and backoff capped at 60 s. Tests shrink them.

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


class _Outcome(enum.Enum):
    UNREACHABLE = "unreachable"  # no websocket at all: the encoding was not tested
    REFUSED = "refused"  # closed or silent after the handshake frame
    DROPPED = "dropped"  # acked, then lost before `stable_after`
    STABLE_DROP = "stable drop"  # acked, then lost after `stable_after`
    SESSION_CHANGED = "session changed"  # re-login or logout: reconnect with the new tokens


def feed_url(session: TradeSession) -> str:
    """`rtUrl` from validate if given, else `baseUrl` with https->wss (http->ws) and the path
    replaced by `/realtime`: the SDK's order after the config service, which we do not call
    (ref §9.1, §2.3)."""
    if session.rt_url:
        parts = urlsplit(session.rt_url)
        return urlunsplit(parts._replace(scheme=_SCHEMES.get(parts.scheme, parts.scheme)))
    parts = urlsplit(session.base_url)
    scheme = _SCHEMES.get(parts.scheme, "wss")
    return urlunsplit((scheme, parts.netloc, "/realtime", "", ""))


def _where(url: str) -> str:
    """The URL without query or fragment, for log lines."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def handshake_frame(form: HandshakeForm, token: str, sid: str) -> str:
    """The first frame after the upgrade (ref §9.1). `raw` is SDK 3.0.9's bytes exactly: unquoted
    keys and values, no spaces. `json` is what OpenAlgo and Kotak's vendored HSI client send."""
    if form == "raw":
        return f"{{type:cn,Authorization:{token},Sid:{sid},src:WEB}}"
    body = {"type": "cn", "Authorization": token, "Sid": sid, "src": "WEB"}
    return json.dumps(body, separators=(",", ":"))


def _other(form: HandshakeForm) -> HandshakeForm:
    return "json" if form == "raw" else "raw"


def parse_frame(raw: str | bytes) -> dict[str, Any] | None:
    """A server frame as a JSON object, or None when it is not one (all frames are JSON text,
    ref §9.1)."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        frame = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return None
    return frame if isinstance(frame, dict) else None


def _same_session(a: TradeSession, b: TradeSession | None) -> bool:
    return b is not None and a.token == b.token and a.sid == b.sid and feed_url(a) == feed_url(b)


class OrderFeed:
    """One account's `/realtime` connection, kept up until the task running `run` is cancelled.

    `session` returns the broker's current session (None when logged out). It is read again on
    every connect and checked while connected, so a re-login swaps the tokens. `to_order` turns an
    order frame's `data` into an `Order`; the broker passes its order-book mapping, because the
    feed uses the book's vocabulary (ref §9.1). `acked_form` is the handshake encoding the server
    last accepted (None until the first ack)."""

    def __init__(
        self,
        session: Callable[[], TradeSession | None],
        to_order: FrameToOrder,
        settings: FeedSettings | None = None,
    ) -> None:
        self._session = session
        self._to_order = to_order
        self._settings = settings or FeedSettings()
        self._form: HandshakeForm = "raw"  # SDK 3.0.9 is newer than OpenAlgo's finding
        self.acked_form: HandshakeForm | None = None

    async def run(self, on_update: OnUpdate) -> None:
        """Connect, authenticate, deliver order updates and reconnect with backoff, forever."""
        failures = 0
        while True:
            session = await self._wait_for_session()
            outcome = await self._attempt(session, on_update)
            if outcome is _Outcome.SESSION_CHANGED:
                failures = 0
                continue
            failures = 1 if outcome is _Outcome.STABLE_DROP else failures + 1
            delay = self._backoff(failures)
            log.info("kotak feed: %s; reconnecting in %.1f s", outcome.value, delay)
            if await self._sleep_watching(session, delay):
                failures = 0

    def _backoff(self, failures: int) -> float:
        s = self._settings
        # The exponent is bounded so that a feed refused for days cannot overflow the float.
        doublings = min(max(failures - 1, 0), _MAX_DOUBLINGS)
        delay = min(s.backoff_cap, s.backoff_initial * 2.0**doublings)
        return delay * random.uniform(0.8, 1.0)  # spread reconnects after a server restart

    async def _wait_for_session(self) -> TradeSession:
        """The account logs in; until it has, poll rather than fail."""
        waiting = False
        while (session := self._session()) is None:
            if not waiting:
                log.info("kotak feed: waiting for a session")
                waiting = True
            await asyncio.sleep(self._settings.session_poll)
        return session

    async def _sleep_watching(self, session: TradeSession, delay: float) -> bool:
        """Sleep `delay`, but stop early (returning True) when the session is replaced: stale
        tokens are the likeliest reason for refused handshakes, so new ones deserve a try now."""
        loop = asyncio.get_running_loop()
        end = loop.time() + delay
        while (left := end - loop.time()) > 0:
            await asyncio.sleep(min(left, self._settings.session_poll))
            if not _same_session(session, self._session()):
                return True
        return False

    async def _attempt(self, session: TradeSession, on_update: OnUpdate) -> _Outcome:
        """Try the preferred handshake form, then the other one at once if it is refused."""
        url = feed_url(session)
        for form in (self._form, _other(self._form)):
            outcome = await self._connect(url, session, form, on_update)
            if outcome is not _Outcome.REFUSED:
                return outcome
            if not _same_session(session, self._session()):
                return _Outcome.SESSION_CHANGED
        return _Outcome.REFUSED

    async def _connect(
        self, url: str, session: TradeSession, form: HandshakeForm, on_update: OnUpdate
    ) -> _Outcome:
        s = self._settings
        try:
            async with connect(
                url,
                user_agent_header=USER_AGENT,
                proxy=None,  # like the REST client: environment proxies are not followed
                open_timeout=s.open_timeout,
                ping_interval=s.ping_interval,
                ping_timeout=s.ping_timeout,
                close_timeout=s.close_timeout,
                logger=_WS_LOG,
            ) as ws:
                if not await self._handshake(ws, session, form):
                    return _Outcome.REFUSED
                self._form = self.acked_form = form
                log.info("kotak feed: connected to %s (%s handshake acked)", _where(url), form)
                return await self._pump(ws, session, on_update)
        except (OSError, TimeoutError, WebSocketException) as exc:
            # ConnectionClosed is handled inside; what is left means the server was not reached.
            log.warning("kotak feed: could not connect to %s (%s)", _where(url), type(exc).__name__)
            return _Outcome.UNREACHABLE

    async def _handshake(
        self, ws: ClientConnection, session: TradeSession, form: HandshakeForm
    ) -> bool:
        """Send the `cn` frame and wait for `{"ak":"ok","type":"cn",...}` (ref §9.1)."""
        try:
            await ws.send(handshake_frame(form, session.token, session.sid))
            async with asyncio.timeout(self._settings.ack_timeout):
                while True:
                    frame = parse_frame(await ws.recv())
                    if frame is not None and frame.get("type") == _ACK_TYPE:
                        accepted = str(frame.get("ak", "")).lower() == "ok"
                        if not accepted:
                            log.info("kotak feed: %s handshake answered without ok", form)
                        return accepted
        except TimeoutError:
            log.info(
                "kotak feed: no ack for the %s handshake in %.1f s",
                form,
                self._settings.ack_timeout,
            )
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            log.info("kotak feed: %s handshake refused (close code %s)", form, code)
        return False

    async def _pump(
        self, ws: ClientConnection, session: TradeSession, on_update: OnUpdate
    ) -> _Outcome:
        """Deliver frames until the socket drops or the session changes."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            if not _same_session(session, self._session()):
                log.info("kotak feed: session replaced; reconnecting with the new one")
                return _Outcome.SESSION_CHANGED
            try:
                async with asyncio.timeout(self._settings.session_poll):
                    raw = await ws.recv()
            except TimeoutError:
                continue  # recv is cancel-safe; just look at the session again
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                log.warning("kotak feed: connection lost (close code %s)", code)
                stable = loop.time() - started >= self._settings.stable_after
                return _Outcome.STABLE_DROP if stable else _Outcome.DROPPED
            await self._deliver(raw, on_update)

    async def _deliver(self, raw: str | bytes, on_update: OnUpdate) -> None:
        """One frame: order frames go to `on_update`; positions, acks and unknown types are
        ignored; anything malformed is skipped (the book poll still covers it)."""
        frame = parse_frame(raw)
        if frame is None:
            log.debug("kotak feed: skipped a frame that is not a JSON object (%d chars)", len(raw))
            return
        kind = frame.get("type")
        if kind != "order":
            if kind not in ("position", _ACK_TYPE):
                log.debug("kotak feed: ignored a frame of unknown type %.20r", kind)
            return
        data = frame.get("data")
        if not isinstance(data, dict) or not data.get("nOrdNo") or not data.get("ordSt"):
            # Without a number or a state an update would only confuse the tracker.
            log.debug("kotak feed: skipped an order frame without an order number or state")
            return
        try:
            order = await self._to_order(data)
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            log.debug("kotak feed: skipped an unreadable order frame (%s)", type(exc).__name__)
            return
        try:
            await on_update(order)
        except Exception:
            # The consumer's bug must not stop the feed; the book poll will catch up.
            log.warning("kotak feed: on_update failed for order %s", order.order_id, exc_info=True)
