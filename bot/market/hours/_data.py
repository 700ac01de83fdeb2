"""The shipped calendar data, read once: session windows (`sessions.toml`) and one holiday file
per year (`holidays/<year>.toml`). Sessions and holidays change by circular, so they are data
with their source, not code (rules.md §3.1, §6.8)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, time
from importlib import resources
from typing import Any

_PACKAGE = "bot.market.hours"
_ALL_DAY: frozenset[str] = frozenset({"equity", "fo", "currency"})


@dataclass(frozen=True, slots=True)
class Window:
    """One segment's day from `since` on (None: from the start of the data)."""

    since: date | None
    open: time
    close: time
    pre_open: tuple[time, time] | None = None
    close_in_us_dst: time | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """A group of exchanges that share their hours (NSE and BSE cash, say)."""

    code: str  # "equity", "fo", "currency", "mcx"
    name: str  # for the user: "NSE/BSE cash"
    exchanges: frozenset[str]
    pre_open_for: frozenset[str]  # instrument kinds (InstrumentKind values) with a pre-open
    windows: tuple[Window, ...]

    def window(self, day: date) -> Window:
        """The window in force on `day`: the latest dated one on or before it."""
        chosen = self.windows[0]
        for window in self.windows:
            if window.since is None or window.since <= day:
                chosen = window
        return chosen


@dataclass(frozen=True, slots=True)
class Holiday:
    day: date
    name: str
    segments: frozenset[str]  # segment codes shut all day
    late_open: dict[str, time]  # segment code → when it opens instead (MCX's evening session)


@dataclass(frozen=True, slots=True)
class YearFile:
    year: int
    source: str
    holidays: dict[date, Holiday]


# MCX's evening session on an exchange holiday that is not a national one.
_MCX_EVENING = time(17, 0)


def load_segments() -> tuple[Segment, ...]:
    data = _toml("sessions.toml")
    return tuple(_segment(code, raw) for code, raw in data.items())


def load_years() -> dict[int, YearFile]:
    """Every shipped holiday file, by year. A file whose name and `year` disagree is a packaging
    mistake and fails loudly: a silently wrong year would call real holidays trading days."""
    years: dict[int, YearFile] = {}
    folder = resources.files(_PACKAGE).joinpath("holidays")
    for entry in folder.iterdir():
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        year = int(data["year"])
        if entry.name != f"{year}.toml":
            raise ValueError(f"holiday file {entry.name} says year {year}")
        holidays = {}
        for raw in data.get("holiday", []):
            holiday = _holiday(raw)
            if holiday.day.year != year:
                raise ValueError(f"holiday {holiday.day} is listed in {entry.name}")
            holidays[holiday.day] = holiday
        years[year] = YearFile(year, str(data["source"]), holidays)
    return years


def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8"))


def _segment(code: str, raw: dict[str, Any]) -> Segment:
    windows = tuple(
        Window(
            since=w.get("from"),
            open=w["open"],
            close=w["close"],
            pre_open=tuple(w["pre_open"]) if "pre_open" in w else None,
            close_in_us_dst=w.get("close_in_us_dst"),
        )
        for w in raw["windows"]
    )
    return Segment(
        code=code,
        name=str(raw["name"]),
        exchanges=frozenset(raw["exchanges"]),
        pre_open_for=frozenset(raw.get("pre_open_for", [])),
        windows=windows,
    )


def _holiday(raw: dict[str, Any]) -> Holiday:
    segments = set(raw.get("segments", _ALL_DAY))
    late_open: dict[str, time] = {}
    mcx = raw.get("mcx")
    if mcx == "closed":
        segments.add("mcx")
    elif mcx == "evening":
        late_open["mcx"] = _MCX_EVENING
    elif mcx is not None:
        raise ValueError(f"holiday {raw['date']}: mcx must be closed or evening, not {mcx!r}")
    return Holiday(raw["date"], str(raw["name"]), frozenset(segments), late_open)
