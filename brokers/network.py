"""A network failure in words, for messages people read.

An httpx exception's class name (`ConnectError`, `ReadTimeout`) means nothing to a trader and
must never reach the chat (style: every user-facing error is one plain sentence). Every place
that turns a failed HTTP call into a message (a broker adapter, the IP check) words it here, so
the same failure reads the same wherever it is shown.
"""

from __future__ import annotations

import httpx

__all__ = ["describe_failure"]


def describe_failure(exc: httpx.HTTPError, where: str) -> str:
    """What went wrong talking to `where` (a host name or address), as a phrase that fits in a
    sentence: "could not connect to 127.0.0.1", "203.0.113.9 did not answer in time"."""
    match exc:
        case httpx.ConnectTimeout() | httpx.PoolTimeout():
            return f"could not connect to {where} in time"
        case httpx.ReadTimeout():
            return f"{where} did not answer in time"
        case httpx.WriteTimeout():
            return f"timed out while sending to {where}"
        case httpx.TimeoutException():
            return f"{where} timed out"
        case httpx.ProxyError():
            return f"the proxy refused the connection to {where}"
        case httpx.ConnectError():
            return f"could not connect to {where}"
        case httpx.RemoteProtocolError() | httpx.ReadError() | httpx.WriteError():
            return f"the connection to {where} broke before the answer came"
        case httpx.HTTPStatusError():
            return f"{where} answered HTTP {exc.response.status_code}"
        case httpx.UnsupportedProtocol() | httpx.InvalidURL():
            return f"{where} is not a valid http(s) address"
        case httpx.TooManyRedirects():
            return f"{where} redirected too many times"
        case httpx.DecodingError():
            return f"the answer from {where} could not be decoded"
        case _:
            return f"a network error while talking to {where}"
