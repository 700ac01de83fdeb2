"""One TLS context for the whole process.

Building a context loads the CA bundle, about 40 ms here, and httpx builds a new one for every
client it creates. Every HTTPS client of the bot (broker REST, scrip-master downloads, the IP
check) verifies against the same CAs, so they share this one, built on first use.
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["tls_context"]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's own default context (certifi's CAs, TLS 1.2+), made once."""
    return httpx.create_ssl_context()
