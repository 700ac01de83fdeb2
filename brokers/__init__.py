"""Broker adapters behind one `Broker` protocol.

`brokers.base` holds the protocol and its small optional capabilities, `brokers.models` the
normalized models, `brokers.errors` the one error tree. Each adapter package (`paper`, `kotak`,
later `mstock`) owns its wire format; only those models and errors cross this boundary. This
package re-exports just the protocol: import models and errors from their own modules.
"""

from brokers.base import Broker

__all__ = ["Broker"]
