"""After-market-order windows: when Indian brokers take AMOs, per exchange, in IST.

The windows are the brokers' own cut-offs, not the exchanges', and neither Kotak's nor
mStock's API documentation gives them (rules.md §3.5: UNCONFIRMED → configure). `STANDARD` is
the common practice of Indian brokers (Zerodha's and Groww's published AMO timings, 2025-26:
equity 15:45–08:58, F&O 15:45–09:10, currency 15:45–08:59, MCX after its close until 08:58);
an adapter that knows better (Kotak publishes its equity cut-offs) overrides its exchanges.
Outside a window the bot refuses an out-of-hours order in plain words instead of sending an AMO
the broker would reject.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from types import MappingProxyType

from brokers.models import AmoWindow

_EQUITY = AmoWindow(opens=time(15, 45), closes=time(8, 58))
_FO = AmoWindow(opens=time(15, 45), closes=time(9, 10))
_CURRENCY = AmoWindow(opens=time(15, 45), closes=time(8, 59))
_MCX = AmoWindow(opens=time(23, 55), closes=time(8, 58))

STANDARD: Mapping[str, AmoWindow] = MappingProxyType(
    {
        "NSE": _EQUITY,
        "BSE": _EQUITY,
        "NFO": _FO,
        "BFO": _FO,
        "CDS": _CURRENCY,
        "BCD": _CURRENCY,
        "MCX": _MCX,
    }
)
