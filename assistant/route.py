"""Default-mode routing: does a question go to the calculator, the eligibility engine or the sum, with which arguments.

Routing looks only at the question's form and slots, never at a document or a
topic list: a question that asks how many/how much and carries something to
compute with (a span, a head count, an amount, a number of schools, a role or
rank, or the unit it asks in) goes to `calculate`; a yes/no question with a
measure to test (班数, 年限) or a rank/role goes to `check_eligibility`; "合计…多少"
goes to `rule_sum`. Which rule answers is decided by the tools over the rules
extracted from the indexed documents, in the question's region (and national
documents). When no rule matches, the tool says so and the agent falls back to
search.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ingest.textnorm import t2s

from .query import ROLE_WORDS, Query


@dataclass(frozen=True)
class Route:
    tool: str
    args: dict[str, Any]


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


_ASKS_NUMBER = re.compile(r"多少|几(?!乎)|哪一年|哪年")
_ASKS_YESNO = re.compile(r"吗[?？]?$|是否|要不要|需不需要|需要不需要|能不能|可不可以|能否|可否|有没有|算不算|够不够")
_SUM = re.compile(r"合计|一共|总共|总计|加起来|共计")
# the unit a question asks in: 多少节, 几项, 多少名 …
_ASKED_UNIT = re.compile(r"(?:多少|几)(个班|节|项|次|名|人|所|课时|学时|学分|篇|门|天|个月|小时|位)")
_UNIT_ALIAS = {"位": "名", "人": None}
# roles a question may name anywhere; a bare 教师 only when the asker says it of themself (教师总数 is no role)
_ROLE_WORDS = tuple(r for r in ROLE_WORDS if r not in ("学校领导", "校领导", "校长", "处室干部", "中层干部"))
_NEXT = re.compile(r"下一次|下次|再次|重新|哪一年|哪年")


def _role(q: Query) -> str | None:
    """The question's role: the parsed one, else a role the asker gives for themself (我是班主任)."""
    if q.role:
        return q.role
    m = re.search(r"(?:我是|作为|身为)[^，,。？?]{0,12}?(" + "|".join(_ROLE_WORDS + ("教师",)) + ")", q.simplified)
    if m:
        return m.group(1)
    # a role that does something (班主任每学期…, 教研员要…), not one that is counted (配多少名教研员)
    m = re.search("(" + "|".join(_ROLE_WORDS) + r")(?=每|一学年|一年|一学期|要|需要|应|必须|至少|在)", q.simplified)
    return m.group(1) if m else None


def _topic(q: Query) -> str:
    """The words the rules are matched on: a follow-up's own words when it brings new ones (那名师呢？)."""
    if q.followup:
        own = re.sub(r"^(那|那么|还有|再问|如果是|换成|要是)|呢[?？]?$|[?？]", "", t2s(q.text))
        for w in (q.rank, q.role, *q.regions):
            if w:
                own = own.replace(w, "")
        own = re.sub(r"[\d.]+|[一二两三四五六七八九十半]+(个|年|学|名|所|节|项|次|人|位|万|元|班)\S*|多少|几|的|[我们是在]", "", own)
        if len(re.findall(r"[\u4e00-\u9fff]", own)) >= 2:
            return t2s(q.text)
    return q.simplified


def route(q: Query, regions: list[str] | None = None) -> Route | None:
    """The tool for `q`; `regions` (a --region / selector scope) overrides the regions the question names."""
    s = q.simplified
    named = list(regions or q.regions)
    region = named[0] if len(named) == 1 else None
    asks_number = bool(_ASKS_NUMBER.search(s))
    asks_yesno = bool(_ASKS_YESNO.search(s)) and not asks_number
    if not (asks_number or asks_yesno):
        return None
    role, topic = _role(q), _topic(q)
    common = {"topic": topic, "region": region, "role": role, "rank": q.rank}
    if asks_yesno:
        value, unit = (q.classes, "个班") if q.classes is not None else (q.years, "年") if q.years is not None else (None, None)
        if value is None and not (q.rank or role):
            return None
        return Route("check_eligibility", _drop_none({**common, "value": value, "unit": unit}))
    m = _ASKED_UNIT.search(s)
    unit = _UNIT_ALIAS.get(m.group(1), m.group(1)) if m else None
    base = base_of = None
    if q.public_funds is not None:
        base, base_of = q.public_funds, "年度公用经费预算总额"
    elif q.wage_total is not None:
        base, base_of = q.wage_total, "教师工资总额"
    elif q.teachers:
        base, base_of = q.teachers, "教师总数"
    since = q.base_year if q.base_year and _NEXT.search(s) else None
    span = {"years": q.years, "semesters": q.semesters, "school_years": q.school_years}
    if since is not None:
        span = {}
    has_slot = any(v is not None for v in span.values()) or q.people or q.schools or base is not None or since
    if _SUM.search(s) and not has_slot:
        return Route("rule_sum", _drop_none({"question": s, "region": region, "unit": unit}))
    if not (has_slot or q.rank):
        # Nothing to compute and no rank to choose a value by: a lookup ("…津贴多少？"), which search answers
        # with the clause's own sentence; the calculator would only restate one extracted number.
        return None
    return Route("calculate", _drop_none({
        **common, **span, "people": q.people, "units": q.schools, "base": base, "base_of": base_of,
        "since_year": since, "unit": None if base is not None or since else unit}))
