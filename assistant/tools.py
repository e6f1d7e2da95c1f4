"""The calculator and the eligibility engine over the rules extracted from the indexed documents.

`PolicyTools(store)`'s public methods are the tools: the agent calls them by
name (see assistant/route.py) and `as_langchain_tools()` gives the same methods
to an LLM. No rule lives in code or in a docstring: every number, subject and
condition comes from the rules the index extracted at ingest time (plus the
reviewed corrections), and each tool's description for the LLM lists rules
from that data. Every result is an `ingest.types.ToolResult` whose citations
come from `store.citation`, i.e. from the ingested clause, quoted verbatim.

Conventions:
- a missing slot (rank, role, region) is not guessed: ok=False, `options` list
  each possibility with its value, the explanation asks;
- a region without such a rule is said so, with the regions that have one;
- an input outside its range raises `ToolInputError` (one line of Chinese).
"""
from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any, Callable

from ingest.errors import ToolInputError
from ingest.textnorm import t2s
from ingest.types import Citation, ToolResult

from . import calc
from .calc import Profile, describe, focus_quote
from .rule_search import _grams, find_rules, regions_with, sum_rules
from .inputs import MAX_PEOPLE, MAX_SCHOOLS, MAX_SEMESTERS, MAX_YEAR, MAX_YEARS, MAX_YUAN, MIN_YEAR
from .inputs import _UNCOVERED_RANKS, _fmt, _number, _text, fmt_money
from .obligations import Obligation, extract_obligations

_YES = "属于"
SHOWN_RULES = 40  # rules listed in a tool's description for the LLM


class PolicyTools:
    """The tools over one store's rules."""

    TOOL_NAMES = ("calculate", "check_eligibility", "rule_sum")

    def __init__(self, store):
        self.store = store

    # ---- plumbing ------------------------------------------------------------
    def _region(self, region: str | None) -> str | None:
        """A corpus region named by its full or short name (清远 → 清远市); None when not given."""
        raw = _text(region)
        if not raw:
            return None
        reg = next((r for r in getattr(self.store, "regions", []) if r == raw or r.rstrip("市") == raw.rstrip("市")), None)
        if reg is None:
            raise ToolInputError(f"未知地区“{region}”；已收录：{'、'.join(getattr(self.store, 'regions', []))}")
        return reg

    def _profile(self, region: str | None, role: Any, rank: Any, stage: Any) -> Profile:
        r = _text(rank)
        if r is not None and calc.norm_rank(r) is None and r.replace("教师", "") not in _UNCOVERED_RANKS:
            raise ToolInputError(f"未知的教师职级“{rank}”；例如：中学一级以下、中学二级、中学一级、中学高级、小学高级")
        return Profile(region=region, role=_text(role), rank=r, stage=_text(stage))

    def _cite(self, rules: list[Obligation]) -> tuple[Citation, ...]:
        out: list[Citation] = []
        for o in rules:
            clause = self.store.clause(o.doc_id, o.clause)
            c = self.store.citation(clause, focus_quote(o)) if clause is not None else o.citation
            if c not in out:
                out.append(c)
        return tuple(out)

    @staticmethod
    def _ref(o: Obligation) -> str:
        return f"{o.region}《{t2s(o.title)}》{o.clause}"

    def _elsewhere(self, name: str, topic: str, region: str | None, conditions: dict, profile: Profile | None = None,
                   **find: Any) -> ToolResult:
        """No rule in the asked region: say so, with the regions that have one (never answer from them)."""
        where = [r for r in regions_with(self.store, topic, **find) if r != region]
        text = f"{region or '已收录的文件'}没有这项量化规定" + (f"；规定了的地区：{'、'.join(where)}。" if where else "。")
        opts = []
        for r in where:
            found = find_rules(self.store, topic, [r], window=None, **find)
            mine = dataclasses.replace(profile, region=None) if profile else None
            o = next((x for x in found if mine is None or calc.applies(x, mine)[0]), found[0])
            opts.append({"key": r, "label": f"{r} {o.clause}", "value": describe(o), "unit": "", "clause": o.clause})
        return ToolResult(name, False, conditions=conditions, explanation=text, options=tuple(opts))

    def _choose(self, name: str, rules: list[Obligation], profile: Profile, conditions: dict,
                value_of: Callable[[Obligation], Any], unit_of: Callable[[Obligation], str]) -> ToolResult | list[Obligation]:
        """The rules that apply to the profile; a ToolResult asking back when that is not one answer."""
        fits = [o for o in rules if calc.applies(o, profile)[0]]
        def options(rs):
            return tuple({"key": t2s(o.who) or o.clause, "label": describe(o), "value": _num(value_of(o)), "unit": unit_of(o),
                          "region": o.region, "clause": o.clause} for o in rs)
        if not fits:
            who = profile.rank or profile.role or profile.stage or ""
            subjects = "、".join(dict.fromkeys(t2s(o.who) for o in rules if o.who))
            # uncited: the documents set nothing for this person; the options say whom they do cover
            return ToolResult(name, False, conditions=conditions, options=options(rules),
                              explanation=f"这项规定针对{subjects or '其他对象'}，未规定{who}；以下是已规定的对象。")
        regions = list(dict.fromkeys(o.region for o in fits))
        if len(regions) > 1:
            return ToolResult(name, False, citations=self._cite(fits), conditions=conditions, options=options(fits),
                              explanation=f"{'、'.join(regions)}都有这项规定：请问是哪个地区？以下为各地的要求。")
        subjects = list(dict.fromkeys(t2s(o.who) for o in fits))
        same_list = len({(o.doc_id, o.clause, o.quote) for o in fits}) == 1 and len({o.item for o in fits}) == len(fits)
        if len(subjects) > 1 and not same_list:
            return ToolResult(name, False, citations=self._cite(fits), conditions=conditions, options=options(fits),
                              explanation=f"这项规定因对象而异：请问是{'、'.join(s for s in subjects if s)}中的哪一类？以下为各自的要求。")
        return fits if same_list else fits[:1]

    # ---- the calculator -----------------------------------------------------------
    def calculate(self, topic: str, region: str | None = None, role: str | None = None, rank: str | None = None,
                  stage: str | None = None, years: float | None = None, semesters: float | None = None,
                  school_years: float | None = None, people: int | None = None, units: int | None = None,
                  base: float | None = None, base_of: str | None = None, since_year: int | None = None,
                  unit: str | None = None) -> ToolResult:
        """Answer a quantity question from the quantitative rules of the indexed documents (uploads included): finds the rules about the topic in the region (and national documents), keeps those that apply to the role, rank and school stage, and computes per-period quantity × number of periods × people × units; a share of a base amount or head count; or the next year a periodic review is due. Only complete multi-year periods count; a started semester, school year or month counts as a whole one. A missing role or rank is asked back with every option; a region without such a rule is said so, with the regions that have one.

        Args:
            topic: what is counted or asked about, in the documents' words or as the user asked it, e.g. 听课, 课题研究, 教研员, 教师培训经费.
            region: the region whose documents apply, e.g. 随州市; None for every region.
            role: the person's role, e.g. 学校领导, 教师, 班主任; None if unknown.
            rank: the teacher's rank, e.g. 中学一级, 小学高级; None if unknown.
            stage: the school stage or type, e.g. 小学, 初中, 幼儿园; None if unknown.
            years: length of the span in years; None for one period of the rule.
            semesters: length of the span in semesters, added to years.
            school_years: length of the span in school years, added to years.
            people: how many people in that role; None for one.
            units: how many of the units a rule is set per (schools, classes …); None for one.
            base: the amount or head count a share applies to (yuan, or number of teachers); None if not a share.
            base_of: what the base is, e.g. 年度公用经费预算总额, 教师工资总额, 教师总数.
            since_year: the year something was last done, for a rule repeated every so many years.
            unit: only rules in this unit, e.g. 节, 项, 名, 次; None for any unit.
        """
        name = "calculate"
        topic_s = _text(topic)
        if not topic_s:
            raise ToolInputError("请给出要计算的事项，例如：听课、课题、教研员、教师培训经费")
        people = _number(1 if people is None else people, "人数", low=1, low_ok=True, high=MAX_PEOPLE, integer=True)
        units = _number(1 if units is None else units, "单位数量", low=1, low_ok=True, high=MAX_SCHOOLS, integer=True)
        span, said = None, []
        for v, what, high, per_year, word in ((years, "年限", MAX_YEARS, 1, "年"), (school_years, "学年数", MAX_YEARS, 1, "个学年"),
                                               (semesters, "学期数", MAX_SEMESTERS, 2, "个学期")):
            if v is not None:
                n = _number(v, what, high=high)
                span = (span or 0.0) + n / per_year
                said.append(f"{_fmt(n)}{word}")
        if base is not None:
            base = _number(base, "基数", high=MAX_YUAN)
        if since_year is not None:
            since_year = _number(since_year, "上次年份", low=MIN_YEAR, low_ok=True, high=MAX_YEAR, integer=True)
        reg = self._region(region)
        profile = self._profile(reg, role, rank, stage)
        conditions: dict[str, Any] = {"topic": topic_s, "region": reg, "role": profile.role, "rank": profile.rank,
                                      "stage": profile.stage, "years": span, "people": people, "units": units,
                                      "base": base, "base_of": base_of, "since_year": since_year, "unit": unit}
        find: dict[str, Any] = {"unit": None if base is not None else unit,
                                "units": set(calc.RATES) if base is not None else None}
        rules = find_rules(self.store, topic_s, [reg] if reg else None, **find)
        if since_year is not None:
            rules = [o for o in rules if calc.next_due(o, since_year) is not None]
        if base is not None and base_of:
            wanted = _grams(base_of)
            rules = [o for o in rules if wanted & _grams(calc.base_of(o))] or rules
        if not rules:
            if reg is None:
                return ToolResult(name, False, conditions=conditions, explanation="已收录的文件中没有找到这项量化规定。")
            return self._elsewhere(name, topic_s, reg, conditions, profile, **find)
        count = base is not None and (unit in ("名", "人") or "数" in (base_of or ""))

        def value_of(o: Obligation) -> Any:
            if base is not None:
                return calc.rate_of(o, base, count)[0]
            if since_year is not None:
                return calc.next_due(o, since_year)
            q = calc.quantity_over(o, years=span if span is not None else self._one_period(o),
                                   people=people, units=units if calc.per_unit(o) else 1)
            return q["total"] if q["total"] is not None else o.number

        def unit_of(o: Obligation) -> str:
            return ("名" if count else "元") if base is not None else "年" if since_year is not None else o.unit

        chosen = self._choose(name, rules, profile, conditions, value_of, unit_of)
        if isinstance(chosen, ToolResult):
            return chosen
        o = chosen[0]
        if len(chosen) > 1:  # one sentence lists several items (1名市级名校长和2名名师): all of them
            parts = [f"{t2s(x.item) or describe(x)}{_fmt(value_of(x))}{unit_of(x)}" for x in chosen]
            conditions.update({"per_unit": calc.per_unit(o), "items": [t2s(x.item) for x in chosen]})
            scope = f"，{units}{calc.per_unit(o)}共需" if units > 1 and calc.per_unit(o) else "，即"
            return ToolResult(name, True, value={t2s(x.item) or x.clause: _num(value_of(x)) for x in chosen}, unit=o.unit,
                              conditions=conditions, citations=self._cite(chosen),
                              explanation=f"{self._ref(o)}：{describe(o)}{scope}{'、'.join(parts)}。")
        conditions.update({"rule": {"clause": o.clause, "subject": o.who, "quantity": o.quantity, "item": o.item},
                           "per_period": o.number, "period": o.period, "comparator": o.comparator})
        head = f"{self._ref(o)}：{describe(o)}"
        as_rank = calc.norm_rank(profile.rank) if profile.rank else None
        if as_rank and as_rank != profile.rank.replace("教师", "") and as_rank in calc.rule_ranks(o):
            head = f"{profile.rank.replace('教师', '')}教师按{as_rank}计。{head}"
            conditions["rank_as"] = as_rank
        if base is not None:
            v, how = calc.rate_of(o, base, count)
            v = _num(v)
            shown = f"{_fmt(v)}名" if count else fmt_money(v)
            given = _fmt(base) if count else fmt_money(base)
            conditions.update({"base_label": calc.base_of(o), "rate": o.number})
            text = f"{head}；{given}×{_fmt(o.number)}{o.unit}={how}{'至少' if o.op == 'ge' else ''}{shown}"
            return ToolResult(name, True, value=v, unit=unit_of(o), conditions=conditions,
                              citations=self._cite([o]), explanation=text + "。")
        if since_year is not None:
            nxt = calc.next_due(o, since_year)
            return ToolResult(name, True, value=nxt, unit="年", conditions=conditions, citations=self._cite([o]),
                              explanation=f"{head}；上次在{since_year}年，下次应在{nxt}年。")
        q = calc.quantity_over(o, years=span if span is not None else self._one_period(o), people=people,
                               units=units if calc.per_unit(o) else 1)
        conditions.update({"periods": q["periods"], "per_unit": calc.per_unit(o)})
        if q["total"] is None:
            return ToolResult(name, True, value=_num(o.number), unit=o.unit, conditions=conditions,
                              citations=self._cite([o]), explanation=f"{head}。")
        total = _num(q["total"])
        least = "至少" if o.op in ("ge", "gt") else ""
        if span is None:
            tail = f"{units}{calc.per_unit(o)}{least}共{_fmt(total)}{o.unit}" if units > 1 and calc.per_unit(o) else ""
            tail += f"（{people}人{least}共{_fmt(total)}{o.unit}）" if people > 1 else ""
            text = head + (f"；{tail}" if tail else "")
        else:
            who = f"{people}人" if people > 1 else ""
            note = f"，{q['note']}，" if q["note"] else ""
            text = f"{head}；{'加'.join(said)}{note}{who}{least}共{_fmt(total)}{o.unit}"
        return ToolResult(name, True, value=total, unit=o.unit, conditions=conditions,
                          citations=self._cite([o]), explanation=text + "。")

    @staticmethod
    def _one_period(o: Obligation) -> float:
        """The length in years of one period of the rule (每学期 → half a year), so "no span" means one period."""
        m = re.fullmatch(r"每(\d+(?:\.\d+)?)?(个月|学期|学年|年度|年|季度|月|周)", o.period or "")
        if not m:
            return 1.0
        n = float(m.group(1) or 1)
        return n / {"学期": 2, "学年": 1, "年度": 1, "年": 1, "季度": 4, "月": 12, "个月": 12, "周": 52}[m.group(2)]

    # ---- the eligibility engine -------------------------------------------------------
    def check_eligibility(self, topic: str, region: str | None = None, role: str | None = None,
                          rank: str | None = None, stage: str | None = None, value: float | None = None,
                          unit: str | None = None) -> ToolResult:
        """Does a school, person or role fall under a rule of the indexed documents: finds the rules about the topic in the region (and national documents), checks the role, rank and school stage the rule names, and compares the given measure with the rule's threshold (reaching a class count, years of service, an age). A region without such a rule is said so, with the regions that have one.

        Args:
            topic: what the rule is about, e.g. 名师工作室, 名校长名师培养对象遴选, 课题研究.
            region: the region whose documents apply, e.g. 清远市; None for every region.
            role: the person's role, e.g. 教师, 学校领导; None if not relevant.
            rank: the teacher's rank, e.g. 中学二级; None if not relevant.
            stage: the school stage or type, e.g. 小学, 高中; None if not relevant.
            value: the school's or person's measure to compare with the threshold (classes, years …); None to check role, rank and stage only.
            unit: the unit of value, e.g. 个班, 年, 周岁.
        """
        name = "check_eligibility"
        topic_s = _text(topic)
        if not topic_s:
            raise ToolInputError("请给出要判断的规定，例如：名师工作室、优先考虑")
        if value is not None:
            value = _number(value, "数值", low=0, low_ok=True, high=MAX_YUAN)
        reg = self._region(region)
        profile = self._profile(reg, role, rank, stage)
        conditions: dict[str, Any] = {"topic": topic_s, "region": reg, "role": profile.role, "rank": profile.rank,
                                      "stage": profile.stage, "value": value, "unit": unit}
        find: dict[str, Any] = {"unit": unit if value is not None else None}
        # without a measure the question is whom a rule binds: every matching rule is a candidate
        rules = find_rules(self.store, topic_s, [reg] if reg else None, window=0.15 if value is not None else None,
                           **find)
        if value is not None:
            rules = [o for o in rules if calc.meets(o, value) is not None]
        if not rules:
            if reg is None:
                return ToolResult(name, False, conditions=conditions, explanation="已收录的文件中没有找到这项规定。")
            return self._elsewhere(name, topic_s, reg, conditions, profile, **find)
        if value is None:
            fits = [o for o in rules if calc.applies(o, profile)[0]]
            if not fits:  # the rule asked about binds others: what the same clause sets for this profile
                best = rules[0]
                fits = [o for o in extract_obligations(self.store)
                        if (o.doc_id, o.clause) == (best.doc_id, best.clause) and o.unit == best.unit
                        and calc.applies(o, profile)[0]]
                if not fits:
                    why = calc.applies(best, profile)[1]
                    return ToolResult(name, True, value=False, conditions=conditions, citations=self._cite([best]),
                                      explanation=f"{self._ref(best)}：{describe(best)}；{why}，不适用。")
                o = fits[0]
                who = profile.rank or profile.role or profile.stage
                return ToolResult(name, True, value=True, conditions=conditions, citations=self._cite([o, best]),
                                  explanation=(f"{self._ref(best)}：“{describe(best)}”针对{t2s(best.who)}；"
                                               f"{who}适用的是同一条的“{describe(o)}”。"))
            o = fits[0]
            return ToolResult(name, True, value=True, conditions=conditions, citations=self._cite([o]),
                              explanation=f"{self._ref(o)}：{describe(o)}；适用于{profile.rank or profile.role or profile.stage or '所问对象'}。")
        chosen = self._choose(name, rules, profile, conditions, lambda o: calc.meets(o, value), lambda o: "")
        if isinstance(chosen, ToolResult):
            return chosen
        o = chosen[0]
        yes = bool(calc.meets(o, value))
        conditions.update({"threshold": o.quantity, "rule": {"clause": o.clause, "subject": o.who}})
        verdict = (f"{_fmt(value)}{unit or ''}{'满足' if yes else '不满足'}“{o.quantity}”，"
                   f"{_YES if yes else '不' + _YES}该规定的适用范围")
        # the whole sentence: a threshold means nothing without what follows from reaching it
        whole = self.store.citation(self.store.clause(o.doc_id, o.clause), o.quote)
        return ToolResult(name, True, value=yes, conditions=conditions, citations=(whole,),
                          explanation=f"{self._ref(o)}：{t2s(o.quote).rstrip('，,；;。')}；{verdict}。")

    # ---- totals across rules -------------------------------------------------------------
    def rule_sum(self, question: str, region: str | None = None, unit: str | None = None) -> ToolResult:
        """Add up the amounts one sentence of a document lists (several funds, several quotas), from the extracted rules: picks the sentence whose wording best matches the question, in that region, and sums its amounts of the same unit.

        Args:
            question: the question or the items to add up, e.g. 教育科研、师培、教育信息化三项经费合计.
            region: the region whose documents apply, e.g. 清远市; None for every region.
            unit: only amounts in this unit, e.g. 万元; None for the unit the matched sentence uses.
        """
        name = "rule_sum"
        text = _text(question)
        if not text:
            raise ToolInputError("请给出要合计的事项")
        reg = self._region(region)
        picked = sum_rules(self.store, text, [reg] if reg else None, unit)
        conditions: dict[str, Any] = {"question": text, "region": reg, "unit": unit}
        if not picked:
            return ToolResult(name, False, conditions=conditions,
                              explanation=f"{reg or '已收录的文件'}中没有找到可以合计的同一规定中的多项数额。")
        total = sum(o.number for o in picked)
        u = picked[0].unit

        def label(x: Obligation) -> str:
            before = t2s(x.quote).split(t2s(x.number_text))[0] if x.number_text else ""
            piece = re.split(r"[、，,；;]", before)[-1] if before else ""
            piece = re.sub(r"^.*(划拨|安排|投入|拨付|预算|设立)", "", piece)
            return piece or t2s(x.item or x.who)

        parts = " + ".join(f"{label(o)}{_fmt(o.number)}{u}" for o in picked)
        o = picked[0]
        conditions["items"] = [{"item": label(x), "value": x.number} for x in picked]
        return ToolResult(name, True, value=total, unit=u, conditions=conditions,
                          citations=tuple(dict.fromkeys(x.citation for x in picked)),
                          explanation=f"{self._ref(o)}：{parts}，合计{_fmt(total)}{u}。")

    # ---- LangChain ---------------------------------------------------------------------
    def as_langchain_tools(self) -> list:
        """The tools as LangChain StructuredTools; each returns `ToolResult.to_dict()` (errors: ok=False, error)."""
        from langchain_core.tools import StructuredTool

        return [StructuredTool.from_function(func=_json_tool(getattr(self, n)), name=n, parse_docstring=True,
                                             description=self.description(n))
                for n in self.TOOL_NAMES]

    def description(self, name: str) -> str:
        """A tool's description for the LLM: its docstring summary (no numbers) plus rules from the data."""
        doc = (getattr(self, name).__doc__ or "").strip().split("\n\n")[0].strip()
        rules = [o for o in extract_obligations(self.store) if _shown_for(name, o)]
        if not rules:
            return doc
        listed = "; ".join(f"{o.region} {o.clause}: {describe(o)}" for o in rules[:SHOWN_RULES])
        more = f" (and {len(rules) - SHOWN_RULES} more)" if len(rules) > SHOWN_RULES else ""
        return f"{doc} Rules in the index include: {listed}{more}."


def _num(v: Any) -> Any:
    """A whole float as an int: counts read as counts in answers and JSON."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _shown_for(tool: str, o: Obligation) -> bool:
    if tool == "calculate":
        return bool(o.period or o.per or o.unit in calc.RATES)
    if tool == "check_eligibility":
        return o.op in ("ge", "gt", "le", "lt", "range") and not o.period and o.unit not in calc.RATES
    return o.unit in ("元", "万元", "亿元") and o.value_max is None


def _json_tool(method: Callable[..., ToolResult]) -> Callable[..., dict]:
    @functools.wraps(method)
    def call(**kwargs: Any) -> dict:
        try:
            return method(**kwargs).to_dict()
        except ToolInputError as e:
            return {"name": method.__name__, "ok": False, "error": str(e)}

    call.__annotations__ = {**method.__annotations__, "return": "dict"}
    return call
