"""Handing the C heap's free memory back to the system after a large load.

Shared by the adapters (a master parse, its compact copy) and the core's instrument index, which
may import from `brokers` (bot/ never the other way round).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

__all__ = ["return_free_memory"]


def _libc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim` from the symbols already in the process (`CDLL(None)`: no
    library search, which would run `ldconfig` at import), or None where there is none."""
    try:
        trim: Callable[[int], int] | None = getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None
    return trim


_MALLOC_TRIM = _libc_trim()


def return_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc `malloc_trim`; a no-op
    elsewhere). Loading a master frees as much as it keeps: the 48 MB download arrives in
    64 kB pieces and is joined, the parse makes and drops 79 strings a row. glibc keeps such
    freed memory for later unless told, and a bot that loaded its master would hold 50-60 MB
    more than it uses (bench/startup.py). Called, off the event loop, after each such step."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
