"""Contrast sets (`contrasts.tsv`): a clause that names other members of a set and not the one asked about does
not answer the question. The commonest unanswerable question sits right beside what a document says: the targets
are set for 初中 and 普通高中 but the question asks about 小学; 一级运动员 earns credits, the asker is 二级.

Only the question's own members are checked, and only against clauses that name some other member: a clause
that names no member of the set (教师培训…) may still answer a 小学 teacher's question.
Loaded on first use, never at import.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("contrasts.tsv")
UMBRELLA_SUFFIX = "伞"  # a line whose set name ends so holds umbrella words for the set it names


@lru_cache(maxsize=1)
def _sets() -> tuple[tuple[str, re.Pattern, dict[str, frozenset[str]]], ...]:
    """Per set: its name, one regex of every spelling (longest first), and what each spelling stands for."""
    spell: dict[str, dict[str, frozenset[str]]] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, *cells = line.split("\t")
        if name.endswith(UMBRELLA_SUFFIX):
            table = spell.setdefault(name[: -len(UMBRELLA_SUFFIX)], {})
            for cell in cells:
                word, _, members = cell.partition("=")
                table[word] = frozenset(members.split("+"))
            continue
        table = spell.setdefault(name, {})
        for cell in cells:
            words = cell.split("|")
            for w in words:
                table[w] = frozenset({words[0]})
    out = []
    for name, table in spell.items():
        alts = sorted(table, key=len, reverse=True)
        out.append((name, re.compile("|".join(map(re.escape, alts))), table))
    return tuple(out)


# "报的是中学一级，不是高级": a member named to be set aside is not asked about
SET_ASIDE = re.compile(r"(?:不是|而非|并非|除了|除)[^，,。；;？?！!]{1,12}")


def asked(question: str) -> dict[str, frozenset[str]]:
    """The members `question` asks about: those it names, less those it sets aside (不是高级)."""
    return members(SET_ASIDE.sub("", question))


def members(text: str) -> dict[str, frozenset[str]]:
    """The members of each set that `text` names (an umbrella word names all it covers)."""
    out: dict[str, frozenset[str]] = {}
    for name, rx, table in _sets():
        found = frozenset(m for hit in rx.findall(text) for m in table[hit])
        if found:
            out[name] = found
    return out


def replaced(earlier: str, later: str) -> str:
    """`earlier` without its members of the sets `later` names: in "那化学呢？" after a question on 数学, 化学
    takes 数学's place instead of joining it."""
    named = members(later)
    for name, rx, _ in _sets():
        if name in named:
            earlier = rx.sub("", earlier)
    return earlier


def contradicts(asked: dict[str, frozenset[str]], text: str) -> str | None:
    """The set in which `text` names other members and none of those asked, or None."""
    if not asked:
        return None
    named = members(text)
    for name, want in asked.items():
        have = named.get(name)
        if have and not (have & want):
            return name
    return None
