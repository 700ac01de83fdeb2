"""An absent optional import, remembered as absent, because httpcore asks for it on every lock.

httpcore 1.0.x imports `sniffio` inside `current_async_library()`, which it calls whenever one
of its locks, events or semaphores is first used: several times per HTTP request, to Telegram
and to the broker alike. Since anyio 4.11 no longer installs sniffio, that import fails, and
Python does not remember a failed import: each call searched the whole `sys.path` again, about
0.15 ms a time, on the Confirm tap's path to the broker too (encode/httpcore discussion #1102,
fix proposed in PR #1103, still open in 2026-08). A `None` in `sys.modules` is Python's own
record of "no such module": the import then fails at once, and httpcore takes asyncio, as it
did after its slow search. When sniffio is installed, nothing changes.
"""

from __future__ import annotations

import importlib.util
import sys

OPTIONAL = "sniffio"


def remember_absent_sniffio() -> None:
    """Make a failing `import sniffio` fail fast (see the module docstring)."""
    if OPTIONAL not in sys.modules and importlib.util.find_spec(OPTIONAL) is None:
        sys.modules[OPTIONAL] = None  # type: ignore[assignment]
