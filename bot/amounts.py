"""Rupee amounts as the bot writes them, in one place for the core's sentences (a limit's
refusal names the amounts) and for `handlers/render/numbers`, so an amount reads the same in a
refusal and on a report: Indian digit grouping, `₹9,91,826.00`, a minus before the sign."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["NONE", "indian_grouping", "rupees"]

NONE = "—"


def indian_grouping(whole: int) -> str:
    """`991826` → `9,91,826`: the last three digits, then pairs (lakh, crore)."""
    digits = str(abs(whole))
    head, tail = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while head:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ("-" if whole < 0 else "") + ",".join([*pairs, tail])


def rupees(value: Decimal | None) -> str:
    """`₹9,91,826.00`, `-₹1,234.50`; None (not known) is a dash."""
    if value is None:
        return NONE
    cents = value.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    sign = "-" if cents < 0 else ""
    whole, _, fraction = f"{abs(cents):f}".partition(".")
    return f"{sign}₹{indian_grouping(int(whole))}.{fraction}"
