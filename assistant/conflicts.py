"""Two current documents of the same region that give different numbers for what was asked.

The default mode answers from the best clause; when another current document of the same
region, also cited as relevant, states a different amount in the unit the question asks for
(见习期六年 / 两年), the answer must not pick one silently: it says that the documents disagree,
quotes both amounts with their citations, and puts the same in `note`.

Only the unit the question asks about counts (几年 → 年, 多少节 → 节), and calendar years
(2024年) are not amounts, so two documents that merely mention different numbers do not
"conflict". Superseded versions are never cited, so a new version never conflicts with its
predecessor.
"""
from __future__ import annotations

import re
from dataclasses import replace

from ingest.types import Answer, Citation

from . import compose

UNITS = "年|个月|個月|月|周|天|日|学时|學時|课时|課時|学分|學分|节|節|次|项|項|篇|人|名|所|个|個|元|万元|萬元|%|％|‰"
_ASKED = re.compile(rf"(?:几|幾|多少|多长|多長|百分之几|百分之幾)\s*({UNITS})?")
_AMOUNT = re.compile(rf"(百分之[零〇一二两兩三四五六七八九十百]+|\d+(?:\.\d+)?|[零〇一二两兩三四五六七八九十百千]+)\s*({UNITS})")
_CN = dict(zip("零〇一二两兩三四五六七八九", (0, 0, 1, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9)))


def asked_unit(question: str) -> str | None:
    """The unit a question asks an amount in (几年 → 年), None if it asks no amount."""
    m = _ASKED.search(question)
    if not m:
        return None
    if m.group(0).startswith("百分之") or "比例" in question:
        return "%"
    return _norm_unit(m.group(1)) if m.group(1) else None


def amounts(text: str, unit: str) -> dict[float, str]:
    """value -> how the text writes it (六年, 30节, 5‰), for amounts in `unit`."""
    out: dict[float, str] = {}
    for m in _AMOUNT.finditer(compose.display(text)):
        raw, u = m.group(1), _norm_unit(m.group(2))
        if raw.startswith("百分之"):
            raw, u = raw[3:], "%"
        if u != unit:
            continue
        value = _value(raw)
        if value is None or (u == "年" and value >= 1900):  # 2024年 is a date, not a duration
            continue
        out.setdefault(value, m.group(0))
    return out


def mark_conflict(answer: Answer, question: str) -> Answer:
    """`answer` with a 注意 line and a note when two cited current documents of one region
    state different amounts in the asked unit; unchanged otherwise."""
    unit = asked_unit(question)
    if unit is None or len(answer.citations) < 2:
        return answer
    cites = list(answer.citations)
    first = next(((i, c, a) for i, c in enumerate(cites) if (a := amounts(c.quote, unit))), None)
    if first is None:
        return answer
    i, base, base_amounts = first
    for j, other in enumerate(cites):
        if other.doc_id == base.doc_id or other.region != base.region:
            continue
        theirs = amounts(other.quote, unit)
        if theirs and not set(theirs) & set(base_amounts):
            return _with_conflict(answer, (i, base, base_amounts), (j, other, theirs))
    return answer


def _with_conflict(answer: Answer, a: tuple[int, Citation, dict], b: tuple[int, Citation, dict]) -> Answer:
    def said(x) -> str:
        n, c, amts = x
        return f"{compose.book(c.title)}{compose.clause_ref(c.clause)}为“{'、'.join(amts.values())}”[{n + 1}]"

    region = a[1].region
    line = f"{region}的两份现行文件对此规定不一致：{said(a)}，{said(b)}，请核实以哪份文件为准"
    keep = list(a[2].values()) + list(b[2].values()) + [a[1].title, b[1].title]
    text = answer.answer.rstrip() + "\n注意：" + compose.in_script(line, answer.script, keep) + "。"
    note = "；".join(x for x in (answer.note, f"文件规定不一致：{a[1].doc_id} 与 {b[1].doc_id}") if x)
    return replace(answer, answer=text, note=note)


def _norm_unit(u: str) -> str:
    from ingest.textnorm import t2s

    u = t2s(u)
    return {"％": "%", "个月": "月"}.get(u, u)


def _value(raw: str) -> float | None:
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return float(raw)
    try:
        import cn2an

        return float(cn2an.cn2an(raw.replace("〇", "零").replace("兩", "两"), "smart"))
    except Exception:
        if len(raw) == 1 and raw in _CN:
            return float(_CN[raw])
        return None
