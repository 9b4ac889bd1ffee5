"""Small helpers for sentences readers see: counts with the right plural, lists joined in words.

Examples
--------
>>> plural(1, "target"), plural(5, "target"), plural(0, "initiative")
('1 target', '5 targets', '0 initiatives')
>>> plural(2, "entry", "entries"), plural(1_234, "request")
('2 entries', '1,234 requests')
>>> join_words(["T1", "T2", "T3"])
'T1, T2 and T3'
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["plural", "join_words"]


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word``, in the plural unless the count is one (``many`` if irregular)."""
    form = word if count == 1 else (many or f"{word}s")
    return f"{count:,} {form}"


def join_words(items: Iterable[str], last: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c`` (``last`` = "or" for alternatives)."""
    words = [str(i) for i in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
