"""Kotak Neo Trade API adapter (TOTP + MPIN login, jData orders, scrip master).

Wire spec: `shared/reference/kotak-neo.md`. Public surface: `KotakBroker`, `KotakConfig`,
`KotakTimeouts`. Wire names stay inside this package.
"""

from brokers.kotak.client import KotakBroker
from brokers.kotak.config import KotakConfig, KotakTimeouts

__all__ = ["KotakBroker", "KotakConfig", "KotakTimeouts"]
