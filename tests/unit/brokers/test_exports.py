"""Every `brokers` package says what it is for and lists its public names (style.md "Absorb" 14)."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import brokers


def _packages() -> list[str]:
    found = [
        info.name
        for info in pkgutil.walk_packages(brokers.__path__, prefix="brokers.")
        if info.ispkg
    ]
    return ["brokers", *sorted(found)]


def test_every_broker_package_is_listed() -> None:
    assert {"brokers", "brokers.paper", "brokers.kotak"} <= set(_packages())


@pytest.mark.parametrize("name", _packages())
def test_package_has_a_docstring_and_a_resolvable_all(name: str) -> None:
    package: ModuleType = importlib.import_module(name)
    assert (package.__doc__ or "").strip(), f"{name} has no docstring"
    exported = package.__dict__.get("__all__")
    assert isinstance(exported, list) and exported, f"{name} has no __all__"
    assert len(set(exported)) == len(exported)
    for public in exported:
        assert hasattr(package, public), f"{name}.__all__ names a missing {public}"


def test_the_top_level_exports_the_protocol() -> None:
    from brokers.base import Broker

    assert brokers.Broker is Broker
