"""mStock master bench: parse a generated JSON instrument master of realistic size, index it,
resolve symbols; print load time, lookup time and peak memory (compare bench/scrip_master.py).

Assumed size and shape: mStock's OpenAPIScripMaster is Angel-compatible (ref §6.4: same keys,
token numbering, `-EQ` names), so it is sized like Angel One's list: about 150,000 objects,
mostly NFO/BFO options, 9 string fields each, about 25 MB of JSON. Generated here: ~8,000 cash
rows (NSE + BSE, some -BE series) and the rest options/futures over many underlyings x 3
expiries x strikes, with strike and tick in rupees as the docs say.
The load runs in a fresh process (as the bot loads it), so its memory figures are the bot's
own, not the generator's: once parsing the JSON file, then again from the compact copy the
first load left beside it (a same-day restart).
Run: `.venv/bin/python bench/mstock_master.py [--rows N] [--lookups N]`.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.market.instruments import return_free_memory
from brokers.mstock.master import build_master, parse_master_bytes


def row(token: int, symbol: str, name: str, kind: str, seg: str, **extra: str) -> dict[str, str]:
    values = {
        "token": str(token),
        "symbol": symbol,
        "name": name,
        "expiry": "",
        "strike": "",
        "lotsize": "1",
        "instrumenttype": kind,
        "exch_seg": seg,
        "tick_size": "0.05",
    }
    values.update(extra)
    return values  # fmt: skip


def generate(rows: int) -> tuple[bytes, list[str]]:
    """The master as bytes and a sample of our keys to look up."""
    today = date.today()
    out: list[dict[str, str]] = []
    keys: list[str] = []
    for i in range(4000):
        for seg in ("NSE", "BSE"):
            name = f"STK{i:04d}"
            shown = f"{name}-EQ" if seg == "NSE" else name
            out.append(row(10000 + i, name, shown, "EQ", seg))
            keys.append(f"{seg}:{name}")
    expiries = [today + timedelta(days=7 * k + 1) for k in (0, 4, 8)]
    token = 100000
    underlying = 0
    while len(out) < rows:
        name = f"UND{underlying:03d}"
        underlying += 1
        for expiry in expiries:
            stamp = f"{expiry:%d%b%Y}"
            ours = f"{expiry:%d%b%y}".upper()
            token += 1
            fut = f"{name}{ours}FUT"
            out.append(
                row(token, name, fut, "FUTSTK", "NFO", expiry=stamp, strike="-1", lotsize="50")
            )
            for k in range(-60, 61):
                strike = 1000 + 10 * k
                for opt in ("CE", "PE"):
                    token += 1
                    shown = f"{name}{ours}{strike}{opt}"
                    extra = {"expiry": stamp, "strike": f"{strike}.000000", "lotsize": "50"}
                    out.append(row(token, name, shown, "OPTSTK", "NFO", **extra))
                    keys.append(f"NFO:{name}{ours}{strike}{opt}")
    return json.dumps(out[:rows]).encode(), keys


def _rss_mb() -> float:
    """The process's resident memory now (Linux), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def parse(path: Path) -> None:
    """In a fresh process: the parse alone (read, json + rows + index), no compact copy."""
    started, cpu = time.perf_counter(), time.process_time()
    master = parse_master_bytes(path.read_bytes(), date.today())
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  parse {took:.2f} s ({cpu:.2f} s CPU), {len(master):,} instruments")


def load(path: Path, keys_path: Path, lookups: int) -> None:
    """In a fresh process, as the bot loads it: time `build_master` (on the first start of the
    day the parse and the compact copy's write), then the lookups."""
    keys = keys_path.read_text().split("\n")
    before = _rss_mb()
    started = time.perf_counter()
    master = build_master(path, date.today())
    took = time.perf_counter() - started
    after = _rss_mb()
    return_free_memory()  # as the bot does once it has indexed the master (bot.market)
    trimmed = _rss_mb()
    wanted = [k for k in random.Random(7).choices(keys, k=lookups) if k in master.by_key]
    started = time.perf_counter()
    for key in wanted:
        master.resolve(key)
    per = (time.perf_counter() - started) / max(1, len(wanted)) * 1e6
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  load {took:.2f} s, {len(master):,} instruments; {per:.2f} µs per resolve")
    print(
        f"  RSS {before:.0f} MB before, {after:.0f} MB loaded, {trimmed:.0f} MB once the freed"
        f" heap is returned (master {trimmed - before:+.0f} MB); peak {peak:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--load", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--parse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse:
        parse(args.parse)
        return
    if args.load:
        load(*args.load, args.lookups)
        return
    content, keys = generate(args.rows)
    print(f"master: {args.rows:,} objects, {len(content) / 1e6:.1f} MB of JSON")
    with tempfile.TemporaryDirectory() as tmp:
        path, keys_path = Path(tmp) / "scripmaster.json", Path(tmp) / "keys.txt"
        path.write_bytes(content)
        keys_path.write_text("\n".join(keys))
        del content, keys
        print("parse only")
        subprocess.run([sys.executable, __file__, "--parse", str(path)], check=True)  # noqa: S603
        child = [sys.executable, __file__, "--lookups", str(args.lookups), "--load"]
        for what in ("first start of the day (parse)", "same-day restart (compact cache)"):
            print(what)
            subprocess.run([*child, str(path), str(keys_path)], check=True)  # noqa: S603


if __name__ == "__main__":
    main()
