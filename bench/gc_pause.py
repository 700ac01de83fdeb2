"""GC pause bench: how long a full garbage collection stops the process with the master loaded.

Loads a 150,000-row nse_fo-shaped Kotak master the way the adapter does (parse + index, via
bench/scrip_master.py's generator), builds the core's instrument index over it, then times
`gc.collect()` (a full collection: what the interpreter runs on its own from time to time, and
for which the event loop stands still) before and after `keep_out_of_gc()`, the call the bot
makes once the master and the index are loaded (bot/market/follow.py).

Run: `.venv/bin/python bench/gc_pause.py [--rows N] [--repeat N]`.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scrip_master import generate, load
from bot.market.follow import keep_out_of_gc
from bot.market.instruments import InstrumentIndex


def full_collections(repeat: int) -> list[float]:
    """Milliseconds of each of `repeat` full collections."""
    spans = []
    for _ in range(repeat):
        started = time.perf_counter()
        gc.collect()
        spans.append((time.perf_counter() - started) * 1000)
    return spans


def line(label: str, spans: list[float]) -> str:
    return f"{label}: median {statistics.median(spans):8.2f} ms   max {max(spans):8.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nse_fo.csv"
        generate(path, args.rows)
        master = load(path)
        index = InstrumentIndex(master.instruments)
    print(f"master: {len(master):,} instruments; index: {len(index):,}")
    print(f"objects tracked by the collector: {len(gc.get_objects()):,}")
    print(line("full collection before keep_out_of_gc()", full_collections(args.repeat)))
    keep_out_of_gc()
    print(f"objects tracked by the collector: {len(gc.get_objects()):,} (frozen: "
          f"{gc.get_freeze_count():,})")  # fmt: skip
    print(line("full collection after keep_out_of_gc() ", full_collections(args.repeat)))
    print("target: no pause of hundreds of milliseconds")


if __name__ == "__main__":
    main()
