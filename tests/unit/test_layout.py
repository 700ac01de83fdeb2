"""The rooms of design.md hold: who may import whom, no markup in the core, no wire codes outside
their adapter. Read from the source with `ast`, so a new module is checked the day it lands."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Room → the first-party modules it may import (a prefix match on the dotted name). The shared
# basics at the top of `bot/` may be imported by every room of the core.
SHARED = (
    "bot.settings",
    "bot.errors",
    "bot.echo",
    "bot.explain",
    "bot.logs",
    "bot.parsing",
    "bot.clock",
    "bot.amounts",
)
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "handlers": ("bot", "brokers.models", "handlers"),
    "bot.app": ("bot", "brokers", "handlers"),
    "bot.accounts": ("bot.accounts", "bot.store", "bot.notify", "brokers", *SHARED),
    "bot.orders": (
        "bot.orders",
        "bot.accounts",
        "bot.market",
        "bot.store",
        "bot.notify",
        "brokers.models",
        "brokers.errors",
        *SHARED,
    ),
    "bot.market": (
        "bot.market",
        "bot.accounts",
        "bot.store",
        "bot.notify",
        "brokers.models",
        "brokers.errors",  # reads fail with typed broker errors, explained by bot.explain
        "brokers.memory",  # the C heap trimmed after the index build, as after a master parse
        *SHARED,
    ),
    "bot.notify": ("bot.notify", "bot.store", *SHARED),
    "bot.store": ("bot.store", "bot.clock"),
    "brokers": ("brokers",),
}
FIRST_PARTY = ("bot", "brokers", "handlers")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in FIRST_PARTY}


def _room(module: str) -> str | None:
    for room in sorted(MAY_IMPORT, key=len, reverse=True):
        if module == room or module.startswith(room + "."):
            return room
    return None


def _allowed(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", _sources("bot", "handlers", "brokers"), ids=lambda p: p.name)
def test_each_module_imports_only_what_its_room_may(path: Path) -> None:
    module = _module_name(path)
    room = _room(module)
    if room is None:
        return  # the shared basics at the top of bot/ (checked below)
    allowed = MAY_IMPORT[room]
    # `from brokers import errors` names a module, `from brokers.errors import X` a name in one:
    # either is fine when it or the module it comes from is allowed.
    bad = sorted(
        name
        for name in _imports(path)
        if not _allowed(name, allowed) and not _allowed(name.rsplit(".", 1)[0], allowed)
    )
    assert not bad, f"{module} ({room}) may not import {bad}"


def test_only_the_app_imports_handlers() -> None:
    offenders = [
        _module_name(p)
        for p in _sources("bot", "brokers")
        if any(name.startswith("handlers") for name in _imports(p))
        and not _module_name(p).startswith("bot.app")
    ]
    assert offenders == []


def test_the_core_renders_no_markup() -> None:
    tag = re.compile(r"</?(b|i|u|s|code|pre|a|tg-spoiler|blockquote)\b[^>]*>")
    offenders = [str(p.relative_to(ROOT)) for p in _sources("bot") if tag.search(p.read_text())]
    assert offenders == []


def test_broker_wire_codes_stay_in_their_adapter() -> None:
    codes = re.compile(r"\b(1037|100008|100022|IA403)\b")
    offenders = [
        str(p.relative_to(ROOT)) for p in _sources("bot", "handlers") if codes.search(p.read_text())
    ]
    assert offenders == []


def test_starting_the_bot_does_not_import_matplotlib() -> None:
    """matplotlib (about 0.6 s and 20-30 MB to import) is for the daily chart only: it is
    imported when the first chart is drawn, not on every start-up."""
    probe = "import sys, bot.app.run; print('matplotlib' in sys.modules)"
    result = subprocess.run(  # noqa: S603 - this interpreter, our own words
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"
