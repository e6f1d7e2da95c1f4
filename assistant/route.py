"""Default-mode routing: which calculator (if any) answers a question, with which arguments.

Routing is by the question's topic words plus the slots it fills; a question
about a calculator's topic without the needed slot still goes to the tool,
which then answers with the options instead of guessing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .query import Query


@dataclass(frozen=True)
class Route:
    tool: str
    args: dict[str, Any]


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# The topic and unit each seed calculator counts: a question about it for a region its YAML rules do
# not cover goes to the generic calculator over that region's extracted rules (tools.rule_quota),
# which answers from them or says the region has no such rule: never silently another city's rule.
_TOPICS = {
    "observation_quota": ("听课", "节"), "research_quota": ("课题", "项"), "research_staff": ("教研员", None),
    "studio_required": ("工作室", None), "budget_floors": ("经费", "%"), "meeting_frequency": (None, "次"),
    "expert_count": ("指导专家", "名"), "mentor_count": ("名师", "名"), "staffing_review_year": ("编制", None),
    "experimental_school_priority": ("优先", None),
}


def _covered(tool: str) -> set[str]:
    from .rules import rules_by_tool

    return {r.region for r in rules_by_tool().get(tool, [])}


def route(q: Query, regions: list[str] | None = None) -> Route | None:
    """The calculator for `q`; `regions` (a --region / selector scope) overrides the regions the question names."""
    named = list(regions or q.regions)
    r = _seed_route(q)
    if r is None and re.search(r"合计|一共|总共|总计|加起来|共计", q.simplified) and re.search(r"多少|几", q.simplified):
        return Route("rule_sum", _drop_none({"question": q.simplified,
                                             "region": named[0] if len(named) == 1 else None}))
    if r is None or len(named) != 1 or named[0] in _covered(r.tool):
        return r
    topic, unit = _TOPICS.get(r.tool, (None, None))
    if r.tool == "meeting_frequency":
        topic = r.args.get("kind")
    if not topic:
        return r
    years = r.args.get("years")
    return Route("rule_quota", _drop_none({
        "topic": topic, "region": named[0], "unit": unit, "role": q.role, "rank": q.rank,
        "years": years if r.tool in ("research_quota",) else None,
        "semesters": q.semesters, "school_years": q.school_years, "people": q.people}))


def _seed_route(q: Query) -> Route | None:
    s = q.simplified
    asks_amount = re.search(r"多少|几|是否|要不要|需不需要|能不能|可不可以|有没有|优先|必须|应该|哪一年|何时|算", s)
    if not asks_amount:
        return None
    if "课题" in s and (q.rank or q.years or re.search(r"一级|高级|二级|职称", s)):
        return Route("research_quota", _drop_none({"rank": q.rank, "years": q.years or 5}))
    if "听课" in s or re.search(r"听.{0,6}课", s):
        if q.role or q.semesters is not None or q.school_years is not None or q.people:
            return Route("observation_quota", _drop_none({
                "role": q.role, "semesters": q.semesters, "school_years": q.school_years, "people": q.people}))
    if q.public_funds is not None or q.wage_total is not None:
        region = q.regions[0] if len(q.regions) == 1 else None
        return Route("budget_floors", _drop_none({
            "region": region, "public_funds": q.public_funds, "wage_total": q.wage_total}))
    if "教研员" in s and q.teachers:
        return Route("research_staff", {"teachers": q.teachers})
    if "工作室" in s and q.classes is not None:
        return Route("studio_required", {"classes": q.classes})
    if "实验校" in s and q.years is not None and re.search(r"优先|名师|名校长|遴选|培养对象", s):
        return Route("experimental_school_priority", {"years": q.years})
    m = re.search(r"家长会|学生座谈会|座谈会|科任教师联席会|联席会", s)
    if m and re.search(r"几次|多少次|多久|频次|每.{0,3}(开|召开)", s):
        return Route("meeting_frequency", {"kind": m.group(0)})
    if "指导专家" in s and q.schools:
        return Route("expert_count", {"schools": q.schools})
    if re.search(r"名师|名校长", s) and "实验校" in s and q.schools:
        return Route("mentor_count", {"schools": q.schools})
    if "编制" in s and q.base_year and re.search(r"下一次|下次|重新核定|哪一年", s):
        return Route("staffing_review_year", {"last_year": q.base_year})
    return None
