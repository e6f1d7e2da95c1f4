"""Extractive answers: the decisive sentence(s) of the best clause, quoted verbatim.

No generation: the answer is a fixed frame around quotes taken from the
index, so every claim in it is a span of a cited clause. The frame is written
in simplified Chinese and converted to traditional when the question was
traditional; quotes always stay in the document's own script.
"""
from __future__ import annotations

import re

from ingest.textnorm import normalize, s2t
from ingest.types import TRADITIONAL, Citation, Clause

from .store import Store

_SENT = re.compile(r"[^。；;！!？?\n]+[。；;！!？?]?")
ASKS_NUMBER = re.compile(r"多少|几|比例|百分之|标准|频率|多久|哪一年|何时|什么时候")
HAS_NUMBER = re.compile(r"[0-9０-９]|[一二两三四五六七八九十百千万]+(?:个|项|名|节|次|所|年|月|%|‰)|每.{0,3}(学期|年|月)")
MAX_QUOTE = 160


def sentences(text: str) -> list[str]:
    return [m.group().strip() for m in _SENT.finditer(text) if m.group().strip()]


def _strip_marker(sentence: str) -> str:
    return re.sub(r"^[\s\u3000\u00a0]*([一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+[.．、)）])", "",
                  sentence).strip()


def pick_sentences(clause: Clause, terms: tuple[str, ...], question: str, limit: int = 2,
                   weight=len, pattern: str | None = None) -> list[str]:
    """The clause's sentences that best answer the question, best first.

    `weight(term)` scores a matched question term (the retriever passes IDF);
    a sentence matching the question's answer `pattern` (a number of the asked
    unit, a year …) gets a bonus worth about one rare term.
    """
    sents = sentences(clause.own_text) or sentences(clause.text)
    wants_number = bool(ASKS_NUMBER.search(question))
    scored = []
    for i, s in enumerate(sents):
        ns = normalize(s)
        score = sum(weight(t) for t in terms if t in ns)
        if pattern and re.search(pattern, ns):
            score += 4
        elif wants_number and HAS_NUMBER.search(ns):
            score += 2
        if len(_strip_marker(s)) < 6:  # a bare heading says nothing by itself
            score -= 3
        scored.append((score, i, s))
    best = sorted(scored, key=lambda x: (-x[0], x[1]))
    chosen = [best[0]] if best else []
    if limit > 1 and len(best) > 1 and best[1][0] > 0 and best[1][0] >= best[0][0] * 0.6:
        covered = {t for t in terms if t in normalize(best[0][2])}
        if any(t in normalize(best[1][2]) and t not in covered for t in terms) or best[1][0] == best[0][0]:
            chosen.append(best[1])
    out = []  # best first: the first one becomes the citation's quote
    for _, _, s in chosen:
        s = _strip_marker(s) if _strip_marker(s) else s
        out.append(s[:MAX_QUOTE])
    return out


def in_script(text: str, script: str, keep: tuple[str, ...] | list[str] = ()) -> str:
    """Write the frame in `script`; the verbatim quotes in `keep` are left as they are."""
    if script != TRADITIONAL:
        return text
    out = s2t(text)
    for quote in sorted(set(keep), key=len, reverse=True):
        out = out.replace(s2t(quote), quote)
    return out


def frame_fact(citations: list[Citation], quotes: list[list[str]]) -> str:
    """"清远市《…》三(一)1规定：“…”" — one line per cited clause."""
    lines = []
    for n, (c, qs) in enumerate(zip(citations, quotes), 1):
        quoted = "……".join(qs)
        lines.append(f"{c.region}《{c.title}》第{c.clause}条规定：“{quoted}”[{n}]")
    return "\n".join(lines)


def frame_not_found(question_topic: str, scope: list[str] | None, elsewhere: list[Citation],
                    covered: list[str]) -> str:
    where = "、".join(scope) if scope else "现有文件"
    msg = f"{where}的政策文件中没有找到关于“{question_topic}”的规定。"
    if elsewhere:
        others = "；".join(f"{c.region}《{c.title}》第{c.clause}条" for c in elsewhere)
        msg += f"相关规定只见于其他地区：{others}（仅适用于该地区）。"
    msg += f"本库收录：{'、'.join(covered)}。"
    return msg
