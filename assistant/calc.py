"""One calculator and one eligibility engine over the rules extracted at ingest time (assistant.obligations);
which rules a question is about is assistant.rule_search.

- `applies(rule, profile)`: does a rule apply to a person or school (region, stage, role, rank)?
  A rule addressed to people (学校领导, 中学一级教师) applies only to them; a rule addressed to an
  institution (各中小学, 财政部门) applies to everyone it covers.
- `quantity_over(rule, years=…, people=…, units=…)`: per-period quantity × periods × people × units.
  Only complete periods count for multi-year periods (每N年 over a span that is not a multiple: the rest is not counted); a started
  semester, school year or month counts as a whole one (the per-period minimum applies to it).
- `rate_of(rule, base)`: a share (a percentage or per-mille) of a base amount or head count; `next_due(rule, year)`
  for 每N年…; `meets(rule, value)` for thresholds (达到N个班, N年以上).
- `checklist(store, profile)`: 我的清单, every rule that applies with per-year and per-span totals.
Nothing here knows a document: everything comes from the extracted rules.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from ingest.textnorm import t2s

from .inputs import _RANKS, _ROLES, _fmt
from .obligations import Obligation, extract_obligations

NATIONAL = ("全国", "国家", "中华人民共和国")
# units whose amounts add up over periods (a share or an age does not)
COUNTABLE = {"节", "项", "次", "课时", "学时", "学分", "篇", "名", "人", "人次", "元", "万元", "天", "日", "小时", "所",
             "个", "个班", "门", "本", "册", "台", "套", "家"}
RATES = {"%": 100, "‰": 1000}
# a rule's subject ending like this addresses people, not an institution
_PERSON = re.compile(r"(教师|校长|领导|干部|班主任|教研员|组长|年级长|职工|教工|书记|人员|者|学生|家长|考生|专家|名师)$")
_RANK_RE = re.compile(r"(中学|小学)?(正高级|高级|一级|二级|三级)(以下|以上)?")
MIN_RELEVANCE = 0.5


@dataclass(frozen=True)
class Profile:
    region: str | None = None
    stage: str | None = None  # 中学, 小学, 幼儿园, 中等职业学校 …
    role: str | None = None  # 教师, 学校领导, 校长, 班主任 …
    rank: str | None = None  # 中学一级, 小学高级 …


def norm_rank(s: str) -> str | None:
    s = t2s(s).replace("教师", "").replace("职称", "")
    return _RANKS.get(s) or (s if s in _RANKS.values() else None)


def rule_ranks(o: Obligation) -> set[str]:
    """Ranks a rule names in its subject (normalised: 中学一级以下 / 中学一级 / 中学高级 …)."""
    out = set()
    for m in _RANK_RE.finditer(t2s(o.who)):
        r = norm_rank(m.group(0)) or norm_rank(m.group(0).replace("小学", "中学"))
        if r:
            out.add(r)
    return out


def is_national(region: str) -> bool:
    return any(region.startswith(n) for n in NATIONAL)


def addresses_people(o: Obligation) -> bool:
    return bool(_PERSON.search(re.sub(r"[(（][^)）]*[)）]", "", t2s(o.who)))) or bool(rule_ranks(o))


def applies(o: Obligation, p: Profile) -> tuple[bool, str]:
    """(applies?, reason in one line of Chinese)."""
    if p.region and o.region != p.region and not is_national(o.region):
        return False, f"{o.region}的规定，不适用于{p.region}"
    subject = t2s(o.who)
    if p.rank:
        mine = norm_rank(p.rank)
        theirs = rule_ranks(o)
        if theirs and mine not in theirs:
            return False, f"规定针对{'、'.join(sorted(theirs))}，不是{p.rank}"
    if p.role and addresses_people(o):
        role = t2s(p.role)
        canon = _ROLES.get(role, role)
        names = {role, canon}
        if canon not in ("学校领导",):
            names |= {"教师", "教职工", "教职员工", "教工"} if "教师" in role or role in ("班主任",) else set()
        if canon == "学校领导":
            names |= {"校长", "学校领导", "校级领导", "校领导", "教职工", "教职员工", "教工"}
        if not any(n in subject for n in names) and not (names & set(o.roles)):
            return False, f"规定的主体是“{subject or '未写明'}”"
    if p.stage and o.school_types:
        st = t2s(p.stage)
        if not any(st[:1] in t or t == "学校" or st in t for t in o.school_types):
            return False, f"规定针对{'、'.join(o.school_types)}"
    return True, "适用"


# ---- what a rule says, in one line ---------------------------------------------------


def focus_quote(o: Obligation) -> str:
    """The part of the rule's quote from its subject to its number (verbatim): one duty of a list.
    When that is long, the number's own segment (the subject is named elsewhere in the answer)."""
    q = o.quote
    at = q.find(o.number_text) if o.number_text else -1
    if at < 0:
        return q
    who = q.rfind(o.who, 0, at) if o.who else -1
    cuts = [m.end() for m in re.finditer(r"[,，;；。]", q)]
    end = min([c - 1 for c in cuts if c - 1 >= at + len(o.number_text)], default=len(q))
    own = max([c for c in cuts if c <= at], default=0)
    start = max([c for c in cuts if c <= who], default=0) if who >= 0 else own
    if start == own and start and re.match(r"(每|按|须|应|要|并|至少)", q[start:]):
        start = max([c for c in cuts if c < start], default=0)  # "中学一级教师,每5年必须…": keep the subject
    if end - start > 60:
        start = own
    return q[start:end].strip() or q


def describe(o: Obligation) -> str:
    return t2s(focus_quote(o)).rstrip("，,；;。")


def base_of(o: Obligation) -> str:
    """What a share is taken of, as the rule words it (教师工资总额, 学校年度公用经费预算总额, 教师总数)."""
    what = t2s(o.what).split("…")[-1]
    what = re.sub(r"^.*?(按照|依照|按|占|为)", "", what)
    return re.sub(r"^(不少于|不低于|不得少于|不得低于|不超过|不高于|至少|达到)", "", what).rstrip("的")


def per_unit(o: Obligation) -> str:
    """The unit a rule is set per, with its measure word (每所实验校 → 所实验校); "" for per person or none."""
    m = re.match(r"每一?([所个位名类项].+)", t2s(o.per or ""))
    return m.group(1) if m else ""


# ---- quantities over time --------------------------------------------------------------


def periods_in(period: str | None, years: float) -> tuple[float, str]:
    """How many of `period` fit in `years` (complete ones for multi-year periods), and how it was counted."""
    if not period:
        return 1.0, "规定未写周期，按一次计"
    m = re.fullmatch(r"每(\d+(?:\.\d+)?)?(个月|学期|学年|年度|年|季度|月|周)", period)
    if not m:
        return 0.0, f"周期“{period}”无法按年折算"
    n = float(m.group(1) or 1)
    unit = m.group(2)
    if unit in ("年", "年度", "学年") and n > 1:
        full = math.floor(years / n + 1e-9)
        rest = years - full * n
        note = f"含{full}个完整的{_fmt(n)}年周期" + (f"（只计完整周期，余下{_fmt(rest)}年不计）" if rest > 1e-9 else "")
        return float(full), note
    per_year = {"学期": 2, "学年": 1, "年度": 1, "年": 1, "季度": 4, "月": 12, "个月": 12, "周": 52}[unit] / n
    exact = years * per_year
    counted = math.ceil(exact - 1e-9)
    note = "" if abs(counted - exact) < 1e-9 else f"按{counted}个{unit if n == 1 else period[1:]}计（不足一个周期按一个计）"
    return float(counted), note


def quantity_over(o: Obligation, years: float | None = None, semesters: float | None = None,
                  people: int = 1, units: int = 1) -> dict[str, Any]:
    """The rule's per-period quantity over a span: value × periods × people × units, with how it was counted."""
    if semesters is not None:
        years = (years or 0) + semesters / 2
    years = 1.0 if years is None else years
    n, note = periods_in(o.period, years)
    total = None if o.number is None or o.unit not in COUNTABLE else o.number * n * people * units
    return {"per_period": o.number, "unit": o.unit, "period": o.period, "periods": n, "people": people,
            "units": units, "total": total, "years": years, "note": note}


def rate_of(o: Obligation, base: float, count: bool) -> tuple[float, str]:
    """The rule's share of `base`. A head count rounds up (a minimum staffing of a fraction of a person means one more),
    money to the fen."""
    exact = Decimal(str(base)) * Decimal(str(o.number)) / RATES[o.unit]
    if count:
        n = exact.to_integral_value(ROUND_CEILING)
        return float(n), ("" if n == exact else f"{_fmt(float(exact))}，不足1按1计，")
    return float(exact.quantize(Decimal("0.01"), ROUND_HALF_UP)), ""


def next_due(o: Obligation, since_year: int) -> int | None:
    """For a rule repeated every N years (每N年重新核定): the year after `since_year` it is due again."""
    m = re.fullmatch(r"每(\d+)?年", o.period or "")
    if not m:
        return None
    return since_year + int(m.group(1) or 1)


def meets(o: Obligation, value: float) -> bool | None:
    """Does `value` reach the rule's threshold (达到 ≥, 以上 ≥, 不足 <, 以内 ≤)? None: not a threshold."""
    v, hi = o.number, o.value_max
    if v is None:
        return None
    return {"ge": value >= v - 1e-9, "gt": value > v + 1e-9, "le": value <= v + 1e-9, "lt": value < v - 1e-9,
            "range": hi is not None and v - 1e-9 <= value <= hi + 1e-9}.get(o.op)


# ---- 我的清单 ---------------------------------------------------------------------------


def checklist(store, profile: Profile, years: float = 5) -> list[dict[str, Any]]:
    """Every rule that applies to `profile`, with per-year and per-`years` totals and the citation."""
    items = []
    for o in extract_obligations(store):
        ok, _ = applies(o, profile)
        if not ok or (not profile.role and not profile.rank and not o.period):
            continue
        if (profile.role or profile.rank) and not addresses_people(o):
            continue  # a person's checklist: rules about people, not budgets or bureaus
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
