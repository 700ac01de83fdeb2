"""Telegram front end: parse a command, check the user, call one core service, render.

No business rules, no broker calls, no SQL here; see `bot/` for all of that.
"""
