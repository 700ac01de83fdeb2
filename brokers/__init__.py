"""Broker adapters behind one `Broker` protocol (see `brokers.base`).

Each adapter package owns its wire format; only the normalized models in `brokers.models` and the
errors in `brokers.errors` cross this boundary.
"""
