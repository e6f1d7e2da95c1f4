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


def route(q: Query) -> Route | None:
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
    if "指导专家" in s and q.schools:
        return Route("expert_count", {"schools": q.schools})
    if re.search(r"名师|名校长", s) and "实验校" in s and q.schools:
        return Route("mentor_count", {"schools": q.schools})
    if "编制" in s and q.base_year and re.search(r"下一次|下次|重新核定|哪一年", s):
        return Route("staffing_review_year", {"last_year": q.base_year})
    return None
