"""What no message to a person may contain: an exception's class name (`ConnectError`,
`ReadTimeout`, `KeyError`), which means nothing to a trader and says a bug leaked through."""

from __future__ import annotations

import re

# CamelCase words of two or more parts, and any word ending like an exception class.
_CLASS_NAME = re.compile(r"\b(?:[A-Z][a-z0-9]+){2,}\b|\b\w+(?:Error|Exception)\b")


def class_names(text: str) -> list[str]:
    """The class-name-looking words in `text` (empty when it is all words)."""
    return _CLASS_NAME.findall(text)
