"""mStock (Mirae Asset) Type B adapter (two-step TOTP login, JSON orders, JSON master).

Wire spec: `shared/reference/mstock-typeb.md`. Public surface: `MStockBroker`, `MStockConfig`,
`MStockTimeouts`. Wire names stay inside this package.
"""

from brokers.mstock.client import MStockBroker
from brokers.mstock.config import MStockConfig, MStockTimeouts

__all__ = ["MStockBroker", "MStockConfig", "MStockTimeouts"]
