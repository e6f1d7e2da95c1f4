"""One calculator and one eligibility engine over the extracted rules (assistant.obligations).

- `applies(rule, profile)`: does a rule apply to a person (region, school stage, role, rank)?
  National documents (全国) apply everywhere; a rule that names roles or ranks applies only
  to them; a rule that names none applies to everyone its document covers.
- `quantity_over(rule, years=…, semesters=…, people=…)`: per-period quantity × number of
  periods. Only complete periods count for multi-year periods (每5年: 7 years → 1 period); a
  started semester, school year or month counts as a whole one (the per-period minimum
  applies to it).
- `find_rules(store, topic, region=…)`: rules whose text names a topic (听课, 课题 …), in
  the asked region and national documents; `regions_with(store, topic)` says where else.
- `checklist(store, profile)`: 我的清单, every rule that applies with per-year and per-span
  totals and citations; `checklist_csv`, `format_checklist` for the CLI.
Nothing here knows a document: everything comes from the extracted rules.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from typing import Any

from ingest.textnorm import t2s

from .inputs import _RANKS, _ROLES, _fmt
from .obligations import Obligation, extract_obligations

NATIONAL = ("全国", "国家", "中华人民共和国")
# units whose amounts add up over periods (a share or an age does not)
COUNTABLE = {"节", "项", "次", "课时", "学时", "学分", "篇", "名", "人", "人次", "元", "万元", "天", "日", "小时"}
_TEACHER_ROLES = {"教师", "专任教师", "班主任", "新教师", "新招聘教师", "体育教师", "艺术教师", "教研组长", "备课组长"}
_RANK_RE = re.compile(r"(中学|小学)?(正高级|高级|一级|二级|三级)(以下|以上)?")


@dataclass(frozen=True)
class Profile:
    region: str | None = None
    stage: str | None = None  # 中学, 小学, 幼儿园, 中等职业学校 …
    role: str | None = None  # 教师, 学校领导, 校长, 班主任 …
    rank: str | None = None  # 中学一级, 小学高级 …


def _norm_rank(s: str) -> str | None:
    s = t2s(s).replace("教师", "").replace("职称", "")
    return _RANKS.get(s) or (s if s in _RANKS.values() else None)


def rule_ranks(o: Obligation) -> set[str]:
    """Ranks a rule names in its subject (normalised: 中学一级以下 / 中学一级 / 中学高级 …)."""
    out = set()
    for m in _RANK_RE.finditer(t2s(o.who)):
        r = _norm_rank(m.group(0)) or _norm_rank(m.group(0).replace("小学", "中学"))
        if r:
            out.add(r)
    return out


def is_national(region: str) -> bool:
    return any(region.startswith(n) for n in NATIONAL)


def applies(o: Obligation, p: Profile) -> tuple[bool, str]:
    """(applies?, reason in one line of Chinese)."""
    if p.region and o.region != p.region and not is_national(o.region):
        return False, f"{o.region}的规定，不适用于{p.region}"
    subject = t2s(o.who)
    if p.rank:
        mine = _norm_rank(p.rank)
        theirs = rule_ranks(o)
        if theirs and mine not in theirs:
            return False, f"规定针对{'、'.join(sorted(theirs))}，不是{p.rank}"
    if p.role:
        role = t2s(p.role)
        canon = _ROLES.get(role, role)
        names = {role, canon} | ({"教师", "教职工", "教职员工", "教工"} if role in _TEACHER_ROLES or role == "教师" else set())
        if canon == "学校领导":
            names |= {"校长", "学校领导", "校级领导", "校领导", "教职工", "教职员工", "教工"}
        named = set(o.roles)
        if not any(n in subject for n in names) and not (names & named):
            return False, f"规定的主体是“{o.who or '未写明'}”"
    if p.stage and o.school_types:
        st = t2s(p.stage)
        if not any(st[:1] in t or t in ("学校",) or st in t for t in o.school_types):
            return False, f"规定针对{'、'.join(o.school_types)}"
    return True, "适用"


# ---- quantities over time -------------------------------------------------------


def periods_in(period: str | None, years: float) -> tuple[float, str]:
    """How many of `period` fit in `years` (complete ones for multi-year periods), and how it was counted."""
    if not period:
        return 1.0, "（规定未写周期，按一次计）"
    m = re.fullmatch(r"每(\d+(?:\.\d+)?)?(个月|学期|学年|年度|年|季度|月)", period)
    if not m:
        return 0.0, f"（周期“{period}”无法按年折算）"
    n = float(m.group(1) or 1)
    unit = m.group(2)
    if unit in ("年", "年度", "学年") and n > 1:
        full = math.floor(years / n + 1e-9)
        rest = years - full * n
        note = f"（{_fmt(years)}年含{full}个完整的{_fmt(n)}年周期" + (f"，余下{_fmt(rest)}年不计）" if rest > 1e-9 else "）")
        return float(full), note
    per_year = {"学期": 2, "学年": 1, "年度": 1, "年": 1, "季度": 4, "月": 12, "个月": 12}[unit] / n
    exact = years * per_year
    counted = math.ceil(exact - 1e-9)
    note = "" if counted == exact else f"（不足一个周期按一个计，共{counted}个）"
    return float(counted), note


def quantity_over(o: Obligation, years: float | None = None, semesters: float | None = None,
                  people: int = 1) -> dict[str, Any]:
    """The rule's per-period quantity over a span: value × periods × people, with how it was counted."""
    if semesters is not None:
        years = (years or 0) + semesters / 2
    years = 1.0 if years is None else years
    n, note = periods_in(o.period, years)
    total = None if o.number is None or o.unit not in COUNTABLE else o.number * n * people
    return {"per_period": o.number, "unit": o.unit, "period": o.period, "periods": n, "people": people,
            "total": total, "years": years, "note": note}


# ---- finding rules ----------------------------------------------------------------


def _mentions(o: Obligation, topic: str) -> bool:
    t = t2s(topic)
    hay = t2s(o.quote) + t2s(o.what) + t2s(o.item)
    return t in hay


def find_rules(store, topic: str, region: str | None = None, unit: str | None = None) -> list[Obligation]:
    """Rules whose quote names `topic`, in `region` and national documents (all regions when None)."""
    out = []
    for o in extract_obligations(store):
        if region and o.region != region and not is_national(o.region):
            continue
        if unit and o.unit != unit:
            continue
        if _mentions(o, topic):
            out.append(o)
    return out


def regions_with(store, topic: str, unit: str | None = None) -> list[str]:
    return list(dict.fromkeys(o.region for o in find_rules(store, topic, None, unit)))


def _bigrams(s: str) -> set[str]:
    s = re.sub(r"[^\u4e00-\u9fff]", "", t2s(s))
    return {s[i:i + 2] for i in range(len(s) - 1)}


def sum_rules(store, question: str, region: str | None = None, unit: str | None = None) -> list[Obligation]:
    """The amounts (same unit, two or more) one sentence lists, for the sentence that best matches `question`."""
    groups: dict[tuple, list[Obligation]] = {}
    for o in extract_obligations(store):
        if region and o.region != region:
            continue
        if o.number is None or (unit and o.unit != unit) or o.unit not in COUNTABLE or o.value_max is not None:
            continue
        groups.setdefault((o.doc_id, o.clause, o.quote, o.unit), []).append(o)
    want = _bigrams(question)
    best, score = [], 0.0
    for key, items in groups.items():
        if len(items) < 2:
            continue
        sc = len(want & _bigrams(key[2])) / max(1, len(want))
        if sc > score:
            best, score = items, sc
    return best if score >= 0.3 else []


# ---- 我的清单 -----------------------------------------------------------------------


def checklist(store, profile: Profile, years: float = 5) -> list[dict[str, Any]]:
    """Every rule that applies to `profile`, with per-year and per-`years` totals and the citation."""
    items = []
    for o in extract_obligations(store):
        ok, _ = applies(o, profile)
        if not ok or (not profile.role and not profile.rank and not o.period):
            continue
        if profile.role or profile.rank:
            # a person's checklist: rules about people, not budgets or bureaus
            who = re.sub(r"[(（][^)）]*[)）]", "", t2s(o.who))
            if not re.search(r"(教师|校长|领导|干部|班主任|教研员|组长|年级长|职工|教工|书记|人员|者)$", who):
                continue
        one = quantity_over(o, years=1)
        span = quantity_over(o, years=years)
        items.append({
            "region": o.region, "title": o.title, "doc_id": o.doc_id, "clause": o.clause, "subject": o.who,
            "requirement": " ".join(x for x in (o.quantity, o.item) if x), "period": o.period or "",
            "per_year": one["total"], "per_span": span["total"], "span_years": years, "unit": o.unit,
            "conditions": "；".join(o.conditions), "quote": o.quote,
        })
    return items


_CSV_FIELDS = ["region", "title", "clause", "subject", "requirement", "period", "per_year", "per_span", "unit",
               "conditions", "quote"]


def checklist_csv(items: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=_CSV_FIELDS, extrasaction="ignore")
    w.writeheader()
    for it in items:
        w.writerow({k: ("" if it.get(k) is None else _fmt(it[k]) if isinstance(it.get(k), float) else it.get(k))
                    for k in _CSV_FIELDS})
    return buf.getvalue()


def format_checklist(items: list[dict[str, Any]], years: float = 5) -> str:
    if not items:
        return "没有找到适用的量化要求。"
    y = _fmt(years)
    head = f"| 地区 | 条款 | 主体 | 要求 | 周期 | 每年合计 | {y}年合计 | 原文 |\n|---|---|---|---|---|---|---|---|"
    rows = []
    for it in items:
        def tot(v):
            return "—" if v is None else f"{_fmt(v)}{it['unit']}"
        rows.append(f"| {it['region']} | {it['clause']} | {it['subject'] or '—'} | {it['requirement']} | "
                    f"{it['period'] or '—'} | {tot(it['per_year'])} | {tot(it['per_span'])} | "
                    f"{it['quote'].replace('|', '｜').replace(chr(10), ' ')} |")
    return head + "\n" + "\n".join(rows) + f"\n\n共{len(items)}条。"
