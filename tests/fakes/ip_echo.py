"""A fake IP echo service (like api.ipify.org) on loopback.

Tests move the simulated host between addresses by setting `echo.ip` (together with the broker
simulator's `egress_ip`), skew its clock with `skew_seconds` (sent in the HTTP Date header), or
take it down with `down = True` (HTTP 503).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Self

from aiohttp import web


class FakeIPEcho:
    def __init__(self, ip: str = "203.0.113.10") -> None:
        self.ip = ip
        self.skew_seconds = 0.0
        self.down = False
        self.hits = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def _answer(self, request: web.Request) -> web.Response:
        self.hits += 1
        date = format_datetime(
            datetime.now(UTC) + timedelta(seconds=self.skew_seconds), usegmt=True
        )
        if self.down:
            return web.Response(status=503, text="unavailable", headers={"Date": date})
        return web.Response(text=self.ip, headers={"Date": date})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
