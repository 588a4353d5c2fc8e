"""Amounts as a Swedish reader writes them."""

from __future__ import annotations


def kronor(amount: int) -> str:
    """4 000 000 kr, with no-break spaces between the groups."""
    return f"{amount:,}".replace(",", "\u00a0") + " kr"
