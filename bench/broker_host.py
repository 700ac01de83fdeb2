"""The Kotak simulator and an IP echo in a process of their own, for bench/tap_to_wire.py.

A broker is another host: what the fake Telegram server does at the moment an order arrives
(taking the tap's answer, the bot's next long poll) must not delay the order's arrival stamp,
and it would if both servers shared one event loop. This process serves the two and talks to
the bench over its pipes, outside the measured path:

- at start it prints one JSON line: the addresses and credentials the bot is configured with;
- for each line `fill` read on stdin it prints the last place request's `[arrived, replied]`
  (`time.perf_counter()`, the system's monotonic clock, so comparable across processes) and
  fills that order, as an exchange would;
- at the end of stdin it stops.

    python bench/broker_host.py TOTP_SEED EGRESS_IP
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pyotp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator


class TimedSimulator(KotakSimulator):
    """The simulator, noting when each place request arrives (its headers are in, before the
    simulator reads and parses the body) and when its reply leaves the handler."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.place_times: list[tuple[float, float]] = []

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        arrived = time.perf_counter()
        response = await super()._dispatch(request)
        if self._kind(request.method, request.path) == "place":
            self.place_times.append((arrived, time.perf_counter()))
        return response


async def serve(seed: str, ip: str) -> None:
    expected = pyotp.TOTP(seed)
    async with (
        TimedSimulator(expected_totp=lambda code: expected.verify(code, valid_window=1)) as sim,
        FakeIPEcho(ip) as echo,
    ):
        sim.egress_ip = ip
        say(
            {
                "login_url": sim.login_url,
                "ucc": sim.ucc,
                "access_token": sim.access_token,
                "mpin": sim.mpin,
                "echo_url": echo.url,
            }
        )
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            if line.strip() == b"fill":
                say(sim.place_times[-1])
                sim.fill(next(reversed(sim.orders)))


def say(message: object) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
