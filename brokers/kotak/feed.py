"""Kotak's order feed (`/realtime`, "HSI", ref §9.1): order updates pushed over a websocket.

Why it is built this way:
- The upgrade carries no credentials. The trade token and sid go in the first text frame only.
- That frame's encoding is disputed (ref §9.1, §14 question 1). SDK 3.0.9 sends a raw, unquoted
  `{type:cn,...}`; OpenAlgo found live on 2026-07-28 that Kotak dropped the raw form and acked JSON.
  So the raw form goes first, and a drop *or* no ack within `ack_timeout` means "try the other form
  at once". The form that got an ack is remembered and used first on every later reconnect.
- A refused handshake is sometimes a closed socket and sometimes a socket held open that never
  pushes anything ([OA]), so silence counts as a failure.
- The reconnect loop, the backoff, the session watch and the INFO-capped websockets logger are
  `brokers.feed_loop`'s, shared with mStock's feed. No token or sid reaches a log line or an
  exception.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from brokers.feed_loop import (
    FeedLoop,
    FeedSettings,
    FrameToOrder,
    OnUpdate,
    Outcome,
    parse_frame,
    websocket_scheme,
)
from brokers.kotak.auth import TradeSession
from brokers.kotak.constants import USER_AGENT

log = logging.getLogger(__name__)

HandshakeForm = Literal["raw", "json"]

_ACK_TYPE = "cn"


def feed_url(session: TradeSession) -> str:
    """`rtUrl` from validate if given, else `baseUrl` with https->wss (http->ws) and the path
    replaced by `/realtime`: the SDK's order after the config service, which we do not call
    (ref §9.1, §2.3)."""
    if session.rt_url:
        parts = urlsplit(session.rt_url)
        return urlunsplit(parts._replace(scheme=websocket_scheme(parts.scheme, parts.scheme)))
    parts = urlsplit(session.base_url)
    return urlunsplit((websocket_scheme(parts.scheme), parts.netloc, "/realtime", "", ""))


def handshake_frame(form: HandshakeForm, token: str, sid: str) -> str:
    """The first frame after the upgrade (ref §9.1). `raw` is SDK 3.0.9's bytes exactly: unquoted
    keys and values, no spaces. `json` is what OpenAlgo and Kotak's vendored HSI client send."""
    if form == "raw":
        return f"{{type:cn,Authorization:{token},Sid:{sid},src:WEB}}"
    body = {"type": "cn", "Authorization": token, "Sid": sid, "src": "WEB"}
    return json.dumps(body, separators=(",", ":"))


def _other(form: HandshakeForm) -> HandshakeForm:
    return "json" if form == "raw" else "raw"


class OrderFeed(FeedLoop[TradeSession]):
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
        super().__init__(
            session, to_order, settings, log=log, label="kotak feed", user_agent=USER_AGENT
        )
        self._form: HandshakeForm = "raw"  # SDK 3.0.9 is newer than OpenAlgo's finding
        self.acked_form: HandshakeForm | None = None

    def _same_session(self, a: TradeSession, b: TradeSession | None) -> bool:
        return (
            b is not None and a.token == b.token and a.sid == b.sid and feed_url(a) == feed_url(b)
        )

    async def _attempt(self, session: TradeSession, on_update: OnUpdate) -> Outcome:
        """Try the preferred handshake form, then the other one at once if it is refused."""
        url = feed_url(session)
        for form in (self._form, _other(self._form)):

            async def handshake(ws: ClientConnection, form: HandshakeForm = form) -> str | None:
                if not await self._handshake(ws, session, form):
                    return None
                self._form = self.acked_form = form
                return f"{form} handshake acked"

            outcome = await self._open(url, session, handshake, on_update)
            if outcome is not Outcome.REFUSED:
                return outcome
            if not self._same_session(session, self._session()):
                return Outcome.SESSION_CHANGED
        return Outcome.REFUSED

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
        await self._hand_over(data, on_update)
