"""httpcore's per-lock `import sniffio` fails fast when sniffio is not installed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys


def test_an_absent_sniffio_is_remembered_and_httpcore_still_takes_asyncio() -> None:
    """In a fresh interpreter (this one's modules stay as they are): after the call, the
    import fails from `sys.modules` instead of searching `sys.path`, or, when sniffio is
    installed, is left alone; httpcore detects asyncio either way."""
    probe = (
        "import asyncio, sys\n"
        "from bot.app.imports import remember_absent_sniffio\n"
        "from httpcore._synchronization import current_async_library\n"
        "remember_absent_sniffio()\n"
        "print(repr(sys.modules.get('sniffio', 'missing')))\n"
        "async def main():\n"
        "    print(current_async_library())\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(  # noqa: S603 - this interpreter, our own words
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    installed = importlib.util.find_spec("sniffio") is not None
    assert (out[0] == "None") is not installed
    assert out[-1] == "asyncio"
