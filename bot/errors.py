"""The one user-facing error type.

Core services raise `UserError` for anything the user should read; handlers render it and never
invent their own messages. `reason` is a stable machine-readable code (tests and audit lines use
it); `text` is one plain sentence; `usage` is an optional usage line to show with it.
"""

from __future__ import annotations


class UserError(Exception):
    def __init__(self, reason: str, text: str, *, usage: str | None = None) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text
        self.usage = usage

    def __repr__(self) -> str:
        return f"UserError({self.reason!r}, {self.text!r})"


class ConfigError(Exception):
    """Start-up stops with this: one line per bad setting, naming the variable and what it
    expects. Never carries a secret's value."""


class StartupError(Exception):
    """The bot cannot start (Telegram refused the token, the broker refused the login...). The
    message is one line for the terminal; it never carries a secret."""
