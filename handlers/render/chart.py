"""The daily summary's P&L chart: one bar per position (realised + unrealised), as a PNG.

matplotlib's Agg canvas (no display on a VPS), through its object API (`Figure` on a
`FigureCanvasAgg`), not `pyplot`: pyplot keeps global state and picks a backend, and the chart
is drawn on a worker thread (`asyncio.to_thread`), off the event loop, because drawing takes
tens of milliseconds. matplotlib is imported on that thread, at the first chart: importing it
costs about 0.6 s and 20-30 MB, which every start-up would otherwise pay for a picture sent
once a day.
"""

from __future__ import annotations

import io
from decimal import Decimal

from bot.notify.events import DailySummary

__all__ = ["pnl_chart"]

_GAIN, _LOSS = "#2e7d32", "#c62828"
_MAX_BARS = 25  # a phone screen; the rest are in the text


def pnl_chart(summary: DailySummary) -> bytes | None:
    """The PNG, or None when there is no position to draw. Blocking: run it in a thread."""
    if not summary.positions:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [(p.key, p.realised + (p.unrealised or Decimal(0))) for p in summary.positions]
    rows = sorted(rows, key=lambda r: abs(r[1]), reverse=True)[:_MAX_BARS][::-1]
    labels = [key for key, _ in rows]
    values = [float(v) for _, v in rows]
    figure = Figure(figsize=(6.4, 1.2 + 0.35 * len(rows)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.barh(labels, values, color=[_GAIN if v >= 0 else _LOSS for v in values])
    axes.axvline(0, color="#555555", linewidth=0.8)
    axes.set_title(f"P&L by position, {summary.day:%d %b %Y} (₹)")
    axes.tick_params(axis="y", labelsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
