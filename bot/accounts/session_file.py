"""The broker session on disk, so a restart does not force a new login while it is still valid.

It holds tokens, so it is written owner-only (0600) and atomically, and never logged. Alongside
it the last whitelisted IPs are kept, to remind the user of the broker's once-every-7-days rule
when STATIC_IP_* changes.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class SavedSession:
    broker: str
    account: str
    created_at: datetime
    ip: str | None
    data: dict[str, str]

    def __repr__(self) -> str:  # the tokens in `data` must never be printed
        return f"SavedSession({self.broker!r}, {self.account!r}, {self.created_at.isoformat()})"


def _write_private(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _read(path: Path) -> dict[str, Any] | None:
    """The file's JSON object; None when it is missing, unreadable or not an object."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


class SessionFile:
    def __init__(self, folder: Path, broker: str) -> None:
        self.path = folder / f"session-{broker}.json"
        self._ips_path = folder / f"static-ips-{broker}.json"

    async def load(self) -> SavedSession | None:
        raw = await asyncio.to_thread(_read, self.path)
        if not raw:
            return None
        try:
            return SavedSession(
                broker=raw["broker"],
                account=raw["account"],
                created_at=datetime.fromisoformat(raw["created_at"]),
                ip=raw.get("ip"),
                data={str(k): str(v) for k, v in raw["data"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    async def save(self, session: SavedSession) -> None:
        payload = {
            "broker": session.broker,
            "account": session.account,
            "created_at": session.created_at.isoformat(),
            "ip": session.ip,
            "data": session.data,
        }
        await asyncio.to_thread(_write_private, self.path, payload)

    async def clear(self) -> None:
        await asyncio.to_thread(self.path.unlink, missing_ok=True)

    async def swap_static_ips(self, ips: list[str | None]) -> list[str | None] | None:
        """Store the configured whitelist; return the previous one if it was different."""
        old = await asyncio.to_thread(_read, self._ips_path)
        previous = old.get("ips") if old else None
        if previous != ips:
            await asyncio.to_thread(_write_private, self._ips_path, {"ips": ips})
            return previous
        return None
