"""Checks on what a caller passes in (drafts, messages, queries, k), so every pipeline refuses the same way."""

from __future__ import annotations

from coach.errors import InputError

MAX_K = 50


def check_text(text: str, field: str, limit: int) -> str:
    """The text, stripped, or an ``InputError`` when it is empty or longer than ``limit`` characters."""
    if not isinstance(text, str):
        raise InputError(f"{field} must be text", field=field)
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{field} is empty", field=field)
    if len(stripped) > limit:
        raise InputError(
            f"{field} is {len(stripped):,} characters; the limit is {limit:,} (COACH_MAX_INPUT_CHARS)",
            field=field,
            limit=limit,
        )
    return stripped


def check_draft(draft: str, customer_message: str | None, limit: int) -> tuple[str, str | None]:
    """The checked draft, and the customer's message checked too (``None`` when absent or blank)."""
    checked = check_text(draft, "draft", limit)
    if customer_message is None or not str(customer_message).strip():
        return checked, None
    return checked, check_text(customer_message, "customer_message", limit)


def check_k(k: int) -> int:
    """How many passages a search may return: 1 to ``MAX_K``."""
    if not 1 <= k <= MAX_K:
        raise InputError(f"k must be between 1 and {MAX_K}, got {k}", field="k", limit=MAX_K)
    return k
