"""The server side of a broker's order-feed websocket, shared by the simulators (Kotak's
`/realtime`, mStock's ticker): the open connections, one writer per connection, pushes to the
logged-in ones, and server-side drops for reconnect tests.

Everything a connection sends goes through its `outbox`, so there is one writer and the login
ack always precedes pushes; `None` in the outbox closes the socket (1001, going away).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Frame = str | bytes | None


@dataclass(eq=False)
class SimFeed:
    """One feed connection; `acked` once the broker's login/handshake was accepted."""

    ws: web.WebSocketResponse
    outbox: asyncio.Queue[Frame] = field(default_factory=asyncio.Queue)
    acked: bool = False

    def ack(self, frame: str) -> None:
        self.outbox.put_nowait(frame)
        self.acked = True

    def close(self) -> None:
        self.outbox.put_nowait(None)


class SimFeeds:
    """A simulator's feed connections: `connections` upgrades so far, `open` open now."""

    def __init__(self) -> None:
        self._open: set[SimFeed] = set()
        self.connections = 0

    @property
    def open(self) -> int:
        return len(self._open)

    def drop(self) -> None:
        """Close every connection from the server side (after what is queued)."""
        for feed in self._open:
            feed.close()

    def push(self, frame: str | bytes | dict[str, Any]) -> None:
        """Send one frame (text verbatim, bytes as binary, an object as JSON text) to every
        acked connection."""
        data = json.dumps(frame) if isinstance(frame, dict) else frame
        for feed in self._open:
            if feed.acked:
                feed.outbox.put_nowait(data)

    @contextlib.asynccontextmanager
    async def serve(self, request: web.Request) -> AsyncIterator[SimFeed]:
        """Upgrade `request` and hold the connection open (with its writer) while the caller
        reads from `feed.ws`. The websocket answers the client's pings itself."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        feed = SimFeed(ws)
        self._open.add(feed)
        writer = asyncio.create_task(self._write(feed))
        try:
            yield feed
        finally:
            self._open.discard(feed)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    @staticmethod
    async def _write(feed: SimFeed) -> None:
        while (frame := await feed.outbox.get()) is not None:
            try:
                if isinstance(frame, bytes):
                    await feed.ws.send_bytes(frame)
                else:
                    await feed.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return
        await feed.ws.close(code=1001)  # going away


class FeedControls:
    """The test controls both simulators offer over their `SimFeeds`."""

    _feeds: SimFeeds

    @property
    def open_feeds(self) -> int:
        return self._feeds.open

    @property
    def feed_connections(self) -> int:
        return self._feeds.connections

    def drop_feeds(self) -> None:
        """Close every feed connection from the server side (after what is queued)."""
        self._feeds.drop()

    def push_feed(self, frame: str | bytes | dict[str, Any]) -> None:
        """One frame to every logged-in feed connection: text verbatim, bytes as a binary
        frame, an object as JSON text."""
        self._feeds.push(frame)
