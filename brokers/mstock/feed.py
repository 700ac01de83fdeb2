"""mStock's order updates over its ticker websocket (ref §7, §12 "ticker").

Why it is built this way:
- The upgrade carries no auth headers: the API key and the JWT go in the query
  (`?API_KEY=..&ACCESS_TOKEN=..`), and a connection with either invalid is refused. The first
  frame must be the text `LOGIN:<jwt>`, else the server disconnects (ref §7).
- The login ack is undocumented: OpenAlgo, live, takes any text reply as the ack (ref §7), and
  so does this feed. Silence within `ack_timeout`, or a close, is a refusal (backoff).
- The update frame's shape is an open question (ref §13 question 4): the Python SDK dispatches
  `{"order_status": "order", "orderData": {..}}`, the Node SDK `{"type": "order", "data": {..}}`.
  Both are read, and their payload goes through the order book's own mapping (the Node SDK's
  `TypeBUpdate` mirrors the book row), so a pushed update equals the polled one.
- Trade frames and `{"type": "error"}` frames are noted without their payload and ignored: the
  tracker learns fills from the order's state. Binary frames are ticks (the socket is also the
  market-data feed) and are ignored without a word.
- The reconnect loop, backoff, session watch and the INFO-capped websockets logger are
  `brokers.feed_loop`'s (shared with Kotak). The JWT is in the URL's query, so only
  `feed_loop.where` (no query) ever reaches a log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

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
from brokers.mstock.auth import TradeSession
from brokers.mstock.constants import USER_AGENT

log = logging.getLogger(__name__)

_ORDER = "order"
_TRADE = "trade"
_ERROR = "error"


def ticker_url(base: str, api_key: str, jwt: str) -> str:
    """The ticker host (https/http written for wss/ws is accepted, as the docs intro writes it)
    with `API_KEY` and `ACCESS_TOKEN` in the query; the path is `/` unless the host has one."""
    parts = urlsplit(base)
    query = urlencode({"API_KEY": api_key, "ACCESS_TOKEN": jwt})
    return urlunsplit((websocket_scheme(parts.scheme), parts.netloc, parts.path or "/", query, ""))


def login_frame(jwt: str) -> str:
    """The first frame after the upgrade: no space after the colon (ref §7, [SDK-wire])."""
    return f"LOGIN:{jwt}"


def update_of(frame: Mapping[str, Any]) -> tuple[str, Any]:
    """(kind, payload) of a text frame in either SDK's shape: `order_status` + `orderData`
    (Python SDK) or `type` + `data` (Node SDK). Kind is "" when the frame names none."""
    if "order_status" in frame:
        kind = frame.get("order_status")
        payload = frame.get("orderData", frame.get("data"))
    else:
        kind, payload = frame.get("type"), frame.get("data")
    return (kind.strip().lower() if isinstance(kind, str) else ""), payload


class MStockOrderFeed(FeedLoop[TradeSession]):
    """One account's ticker connection used for order updates, until `run` is cancelled.

    `session` returns the broker's current session (None when logged out); a re-login (new JWT)
    makes the feed reconnect with it. `to_order` is the broker's order-book mapping. `url` is the
    ticker host (MSTOCK_WS_URL) and `api_key` the Type B key the query carries."""

    def __init__(
        self,
        session: Callable[[], TradeSession | None],
        to_order: FrameToOrder,
        *,
        url: str,
        api_key: str,
        settings: FeedSettings | None = None,
    ) -> None:
        super().__init__(
            session, to_order, settings, log=log, label="mstock feed", user_agent=USER_AGENT
        )
        self._url = url
        self._api_key = api_key

    def _same_session(self, a: TradeSession, b: TradeSession | None) -> bool:
        return b is not None and a.jwt == b.jwt

    async def _attempt(self, session: TradeSession, on_update: OnUpdate) -> Outcome:
        url = ticker_url(self._url, self._api_key, session.jwt)

        async def handshake(ws: ClientConnection) -> str | None:
            return await self._login(ws, session)

        return await self._open(url, session, handshake, on_update)

    async def _login(self, ws: ClientConnection, session: TradeSession) -> str | None:
        """Send `LOGIN:<jwt>` and wait for any text frame (binary ticks do not count)."""
        try:
            await ws.send(login_frame(session.jwt))
            async with asyncio.timeout(self._settings.ack_timeout):
                while isinstance(await ws.recv(), bytes):
                    pass
        except TimeoutError:
            log.info("mstock feed: no answer to the login in %.1f s", self._settings.ack_timeout)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            log.info("mstock feed: login refused (close code %s)", code)
        else:
            return "login acked"
        return None

    async def _deliver(self, raw: str | bytes, on_update: OnUpdate) -> None:
        """Order frames go to `on_update`; ticks, trades, errors and unknown kinds are ignored;
        anything malformed is skipped (the book poll still covers it)."""
        if isinstance(raw, bytes):
            return  # a market-data tick (ref §7): this feed is for orders
        frame = parse_frame(raw)
        if frame is None:
            log.debug("mstock feed: skipped a frame that is not a JSON object (%d chars)", len(raw))
            return
        kind, data = update_of(frame)
        if kind == _TRADE:
            log.debug("mstock feed: ignored a trade frame (fills come with the order's state)")
            return
        if kind == _ERROR:
            log.info("mstock feed: the server sent an error frame (ignored)")
            return
        if kind != _ORDER:
            log.debug("mstock feed: ignored a frame of unknown kind %.20r", kind)
            return
        state = isinstance(data, dict) and (data.get("status") or data.get("orderstatus"))
        if not isinstance(data, dict) or not str(data.get("orderid") or "").strip() or not state:
            # Without a number or a state an update would only confuse the tracker.
            log.debug("mstock feed: skipped an order frame without an order number or state")
            return
        await self._hand_over(data, on_update)
