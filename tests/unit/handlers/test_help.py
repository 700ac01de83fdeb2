"""/help shows examples that work today: every one parses, and every symbol in it is listed by
the paper broker (the F&O ones are generated from its instrument list, not hard-coded)."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot import parsing
from bot.market import InstrumentIndex
from bot.orders.limits import parse_limit_change
from bot.settings import Role
from brokers.models import Side
from brokers.paper import PaperBroker
from handlers.alerts import parse_alert, parse_off
from handlers.registry import help_text

EXAMPLE = re.compile(r"^e\.g\. <code>(.*)</code>$", re.MULTILINE)


async def _index(tmp_path: Path, today: date | None) -> InstrumentIndex:
    broker = PaperBroker(tmp_path / "paper.json", tick_seconds=0, today=today)
    return InstrumentIndex(await broker.instruments())


def _keys(command: str, args: list[str]) -> list[str]:
    """The instrument keys an example names, through the same parser the handler uses."""
    match command:
        case "/buy" | "/sell":
            return [parsing.parse_order(Side(command[1:].upper()), args).key]
        case "/quote":
            return parsing.parse_quote(args)
        case "/search":
            parsing.parse_search(args)
        case "/modify":
            parsing.parse_modify(args)
        case "/cancel":
            parsing.parse_cancel(args)
        case "/alert" if args[0] == "off":
            parse_off(" ".join(args[1:]))
        case "/alert":
            return [parse_alert(" ".join(args)).key]
        case "/alerts":
            pass
        case "/limits" if args:
            parse_limit_change(args)
        case "/limits":
            pass
        case _:
            raise AssertionError(f"an example of {command} nobody checks")
    return []


@pytest.mark.parametrize("today", [None, date(2026, 11, 23), date(2027, 3, 31)])
async def test_every_example_in_help_parses_and_resolves(tmp_path: Path, today: date) -> None:
    index = await _index(tmp_path, today)
    text = help_text(Role.ADMIN, index.example_option())
    examples = [e.strip() for line in EXAMPLE.findall(text) for e in html.unescape(line).split("·")]
    assert len(examples) >= 10
    option = index.example_option()
    assert option is not None and any(option.key in e for e in examples)
    for example in examples:
        command, *args = example.split()
        for key in _keys(command, args):
            index.resolve(key)
        if command == "/search":
            assert await index.search(" ".join(args)), example
        if option.key in example and command in ("/buy", "/sell"):
            ticket = parsing.parse_order(Side(command[1:].upper()), args).ticket(option)
            assert ticket.quantity % option.lot_size == 0


async def test_the_example_option_is_the_nearest_expiry_near_the_money(tmp_path: Path) -> None:
    index = await _index(tmp_path, date(2026, 11, 23))
    option = index.example_option()
    assert option is not None
    assert option.expiry == date(2026, 11, 24) and option.underlying == "NIFTY"
    assert option.strike is not None and abs(option.strike - Decimal("26012.65")) <= 50


def test_without_f_and_o_the_option_examples_are_left_out() -> None:
    text = html.unescape(help_text(Role.ADMIN, None))
    assert "{option}" not in text and "{strike}" not in text
    assert "/buy NSE:SBIN 10 @812.5 MIS" in text and "/search sbin" in text
