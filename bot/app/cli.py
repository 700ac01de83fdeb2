"""The command line: `tradebot [run | doctor | health] [--help] [--version]`; `python -m bot`
is the same.

Every word is a subcommand in `SUBCOMMANDS`, and `run` is the default when none is given. An
unknown word is refused with the usage and exit status 2 (and the nearest subcommand when one
is close), because a bot that ignores what it was told starts a second live bot on
`tradebot --help` or a typo. Nothing touches the network or the database until a subcommand
runs. A subcommand is a function that returns the exit status; one that needs the settings is
wrapped in `with_settings`, which reports a configuration error the same way for all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bot.app.doctor import main as doctor
from bot.app.health import check as health
from bot.app.run import run
from bot.errors import ConfigError, StartupError
from bot.settings import Settings, load_settings

__all__ = ["SUBCOMMANDS", "main"]

PROG = "tradebot"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# The shell's convention for "stopped by Ctrl-C" (128 + SIGINT), for an interrupt that lands
# before the bot has its own signal handlers (while importing or reading the settings).
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, slots=True)
class Subcommand:
    help: str
    main: Callable[[], int]


def with_settings(command: Callable[[Settings], int]) -> Callable[[], int]:
    """`command` with the settings loaded; a bad setting is one line per problem, exit 2."""

    def load_then_run() -> int:
        try:
            settings = load_settings()
        except ConfigError as exc:
            print(f"Configuration error:\n{exc}", file=sys.stderr)
            return EXIT_USAGE
        return command(settings)

    return load_then_run


def run_bot(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM (then exit 0). A fatal start-up problem is one line on
    stderr and exit 1, at once, so a restart policy can start the bot again."""
    try:
        asyncio.run(run(settings))
    except StartupError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


SUBCOMMANDS: dict[str, Subcommand] = {
    "run": Subcommand(
        "start the bot (the default when no command is given)", with_settings(run_bot)
    ),
    "doctor": Subcommand(
        "run the start-up checks without starting the bot; exit 0 (all good), 1 (something "
        "would stop orders) or 2 (configuration error)",
        doctor,
    ),
    "health": Subcommand(
        "exit 0 when the running bot's heartbeat is fresh, else 1 (the Docker HEALTHCHECK)",
        with_settings(health),
    ),
}


def version() -> str:
    """The installed package's version, or pyproject's when running from a source tree."""
    try:
        return metadata.version(PROG)
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        with pyproject.open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog=PROG,
        description="A Telegram trading bot for Indian retail algo traders. Settings come from "
        "the environment or .env (see .env.example).",
    )
    cli.add_argument("--version", action="version", version=f"{PROG} {version()}")
    words = cli.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, subcommand in SUBCOMMANDS.items():
        words.add_parser(name, help=subcommand.help, description=subcommand.help)
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (the process's arguments by default) and run the subcommand; returns its
    exit status. `--help`, `--version` and a usage error exit from argparse (0, 0, 2)."""
    args = list(sys.argv[1:] if argv is None else argv)
    cli = parser()
    if args and not args[0].startswith("-") and args[0] not in SUBCOMMANDS:
        near = difflib.get_close_matches(args[0], SUBCOMMANDS, n=1)
        cli.error(f"unknown command {args[0]!r}" + (f"; did you mean {near[0]}?" if near else ""))
    chosen = cli.parse_args(args).command or "run"
    try:
        return SUBCOMMANDS[chosen].main()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
