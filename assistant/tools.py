"""Calculators over the quantitative rules (assistant/rules/*.yaml), each answer cited.

`PolicyTools(store)`'s public methods are the tools: the agent calls them by
name (see assistant/route.py) and `as_langchain_tools()` exposes the same
methods to an LLM, with the docstrings as descriptions. Every result is an
`ingest.types.ToolResult` whose citations come from `store.citation`, i.e.
from the ingested clause, with the rule's verbatim quote.

Conventions:
- a missing slot (rank, role, meeting kind) is not guessed: ok=False, the
  `options` list each possibility with its value, the explanation asks;
- an input outside its range (negative or absurd numbers, unknown rank)
  raises `ToolInputError` with a one-line Chinese message.
"""
from __future__ import annotations

import functools
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable

from ingest.errors import ToolInputError
from ingest.textnorm import t2s
from ingest.types import Citation, ToolResult

from .inputs import (
    MAX_CLASSES, MAX_PEOPLE, MAX_SCHOOLS, MAX_SEMESTERS, MAX_TEACHERS, MAX_YEAR, MAX_YEARS, MAX_YUAN, MIN_YEAR,
    _MEETINGS, _RANKS,
    _ROLES, _UNCOVERED_RANKS, _fmt, _number, _strip_suffix, _text, fmt_money,
)
from .rules import Rule, rules_by_tool

class PolicyTools:
    """The calculators; one instance per store (rules are bound to its clauses)."""

    TOOL_NAMES = (
        "research_quota", "observation_quota", "budget_floors", "research_staff", "studio_required",
        "experimental_school_priority", "meeting_frequency", "expert_count", "mentor_count",
        "staffing_review_year", "rule_quota", "rule_sum",
    )

    def __init__(self, store, rules: list[Rule] | tuple[Rule, ...] | None = None):
        self.store = store
        self._by_tool = rules_by_tool(rules)

    # ---- plumbing ----------------------------------------------------
    def _rules(self, tool: str) -> list[Rule]:
        return self._by_tool.get(tool, [])

    def _rule(self, tool: str, key: str) -> Rule:
        return next(r for r in self._rules(tool) if r.key == key)

    def _citations(self, rules: list[Rule]) -> tuple[Citation, ...] | None:
        """Citations for `rules` from the index (deduplicated); None when a clause is not indexed."""
        out: list[Citation] = []
        for r in rules:
            clause = self.store.clause(r.doc_id, r.clause)
            if clause is None or r.quote not in clause.text:
                return None
            c = self.store.citation(clause, r.quote)
            if c not in out:
                out.append(c)
        return tuple(out)

    def _result(self, name: str, rules: list[Rule], **kw: Any) -> ToolResult:
        cites = self._citations(rules)
        if cites is None:
            where = "、".join(sorted({f"{r.region}{r.clause}" for r in rules}))
            return ToolResult(name, False, conditions=kw.get("conditions", {}),
                              explanation=f"当前索引未收录该规则所依据的条款（{where}），无法给出有出处的结果。")
        return ToolResult(name, kw.pop("ok", True), citations=cites, **kw)

    # ---- tools -------------------------------------------------------
    def research_quota(self, rank: str | None = None, years: float | None = 5) -> ToolResult:
        """How many research projects (课题研究) a teacher must lead or join over a span of years, by rank (中学一级以下 incl. 中学二级/三级, 中学一级, 中学高级; 小学级别参照中学); the period, count and level come from the rule data listed below. Only complete periods count. Without a rank the result lists every rank instead of guessing.

        Args:
            rank: the teacher's rank, e.g. 中学一级以下, 中学二级, 中学一级, 中学高级, 小学高级, 一级教师, 高级教师; None if unknown.
            years: length of the span in years (default 5), more than 0.
        """
        name = "research_quota"
        years = _number(5 if years is None else years, "年限", high=MAX_YEARS)
        rules = self._rules(name)
        period = rules[0].value("period_years")
        periods = math.floor(years / period + 1e-9)
        rest = years - periods * period

        def count(r: Rule) -> int:
            return periods * r.int_value("count")

        raw = _text(rank)
        key = None
        if raw is not None:
            s = _strip_suffix(raw, "职称", "教师", "的")
            key = _RANKS.get(s)
            if key is None and s in _UNCOVERED_RANKS:
                return self._result(
                    name, rules, ok=False, unit="项", conditions={"rank": rank, "years": years},
                    explanation=(f"{rules[0].region}文件只规定了{'、'.join(r.key for r in rules)}教师的课题研究数量，"
                                 f"未规定{raw}教师；以下是已规定的职级。"),
                    options=tuple({"key": r.key, "label": r.label, "value": count(r), "unit": "项"} for r in rules))
            if key is None:
                raise ToolInputError(
                    f"未知的教师职级“{rank}”；可选：中学一级以下（含中学二级、三级）、中学一级、中学高级，小学级别参照中学")
        if key is None:
            return self._result(
                name, rules, ok=False, unit="项", conditions={"rank": None, "years": years},
                explanation=f"课题研究数量取决于教师职级：请问是中学一级以下、中学一级还是中学高级教师（小学级别参照中学）？以下为{_fmt(years)}年内各职级的数量。",
                options=tuple({"key": r.key, "label": r.label, "value": count(r), "unit": "项"} for r in rules))

        rule = self._rule(name, key)
        n = count(rule)
        said = _strip_suffix(raw, "职称", "教师", "的")
        who = ""
        if said != key:
            who = f"{said}教师按{key}计{'（小学级别参照中学）' if said.startswith('小学') else ''}，"
        base = rule.label.rstrip("。")
        y = _fmt(years)
        if periods == 0:
            tail = f"{y}年不足一个完整的{_fmt(period)}年周期，按完整周期计尚无须完成的课题（满{_fmt(period)}年须完成{rule.int_value('count')}项）"
        elif rest > 1e-9:
            tail = (f"{y}年含{periods}个完整的{_fmt(period)}年周期，至少共{n}项"
                    f"（只计完整周期，余下{_fmt(rest)}年不单独计项）")
        else:
            tail = f"{y}年共{n}项"
        return self._result(
            name, [rule], value=n, unit="项",
            conditions={"rank": rank, "rank_as": key, "years": years, "period_years": period,
                        "full_periods": periods, "level": rule.attrs.get("level"), "mode": rule.attrs.get("mode")},
            explanation=f"{who}{base}，{tail}。")

    def observation_quota(self, role: str | None = None, semesters: float | None = None,
                          school_years: float | None = None, people: int | None = 1) -> ToolResult:
        """Minimum number of lessons (听课节数) school staff must observe in their own school per semester, by role (学校领导, 分管教学教研工作的处室干部); the per-semester minimums come from the rule data listed below. One school year counts as two semesters; a partial semester counts as a whole one. Without a role the result lists every role instead of guessing.

        Args:
            role: 学校领导 (校长, 副校长, 书记 …) or 分管教学教研工作的处室干部 (教务主任, 处室干部 …); None if unknown.
            semesters: number of semesters, more than 0; omitted together with school_years means 1 semester.
            school_years: number of school years (学年), 1 学年 = 2 学期; added to semesters if both are given.
            people: how many people in that role (default 1).
        """
        name = "observation_quota"
        people = _number(1 if people is None else people, "人数", low=1, low_ok=True, high=MAX_PEOPLE, integer=True)
        sem = 0.0
        if semesters is None and school_years is None:
            sem, note = 1.0, "（未给出时长，按1个学期计）"
        else:
            note = ""
            if semesters is not None:
                sem += _number(semesters, "学期数", high=MAX_SEMESTERS)
            if school_years is not None:
                sem += 2 * _number(school_years, "学年数", high=MAX_YEARS)
        # A partial semester is still a semester the per-semester minimum applies to: round up.
        counted = math.ceil(sem - 1e-9)
        rules = self._rules(name)

        def total(r: Rule) -> int:
            return r.int_value("per_semester") * counted * people

        span = f"{_fmt(sem)}个学期"
        if school_years is not None:
            span = f"{_fmt(school_years)}个学年" + (f"加{_fmt(semesters)}个学期" if semesters else "") + f"（{_fmt(sem)}个学期）"
        raw = _text(role)
        if raw is None:
            return self._result(
                name, rules, ok=False, unit="节",
                conditions={"role": None, "semesters": sem, "counted_semesters": counted, "people": people},
                explanation=f"听课节数因岗位而异：请问是学校领导还是分管教学教研工作的处室干部？以下为{span}{'、' + str(people) + '人' if people > 1 else ''}各岗位的最低节数。",
                options=tuple({"key": r.key, "label": r.label, "value": total(r), "unit": "节"} for r in rules))
        key = _ROLES.get(raw) or _ROLES.get(_strip_suffix(raw, "们", "人员"))
        if key is None:
            raise ToolInputError(f"未知的岗位“{role}”；可选：学校领导、分管教学教研工作的处室干部")
        rule = self._rule(name, key)
        n = total(rule)
        parts = [rule.label.rstrip("。")]
        if counted != sem:
            parts.append(f"{span}按{counted}个学期计（不足一学期按一学期计）")
        else:
            parts.append(span)
        parts.append(f"{people}人共不少于{n}节" if people > 1 else f"共不少于{n}节")
        who = f"{raw}按{key}计：" if raw != key else ""
        return self._result(
            name, [rule], value=n, unit="节",
            conditions={"role": role, "role_as": key, "semesters": sem, "counted_semesters": counted,
                        "people": people, "per_semester": rule.int_value("per_semester")},
            explanation=f"{who}{'，'.join(parts)}{note}。")

    def budget_floors(self, region: str | None = None, public_funds: float | None = None,
                      wage_total: float | None = None) -> ToolResult:
        """Minimum budget shares (经费比例下限) a region's documents set, with amounts in yuan when the base (学校年度公用经费 or 教师工资总额) is given; the shares come from the rule data listed below. Without a region every region with such floors is returned.

        Args:
            region: 清远市 or 随州市 (None for both).
            public_funds: the school's annual public funds budget (学校年度公用经费预算总额) in yuan, more than 0.
            wage_total: the teachers' wage total (教师工资总额) in yuan, more than 0 (随州市 only).
        """
        name = "budget_floors"
        rules = self._rules(name)
        covered = list(dict.fromkeys(r.region for r in rules))
        funds = None if public_funds is None else _number(public_funds, "学校年度公用经费（元）", high=MAX_YUAN)
        wages = None if wage_total is None else _number(wage_total, "教师工资总额（元）", high=MAX_YUAN)
        conditions = {"region": region, "public_funds": funds, "wage_total": wages}
        raw = _text(region)
        if raw is not None:
            match = next((r for r in covered if r == raw or r.rstrip("市") == raw.rstrip("市")), None)
            if match is None:
                known = next((r for r in getattr(self.store, "regions", [])
                              if r == raw or r.rstrip("市") == raw.rstrip("市")), None)
                if known is None:
                    raise ToolInputError(f"未知地区“{region}”；规定了经费比例的地区：{'、'.join(covered)}")
                return ToolResult(
                    name, False, unit="元", conditions=conditions,
                    explanation=f"{known}的文件没有规定经费比例下限；规定了的是：{'、'.join(covered)}。",
                    options=tuple({"key": reg, "label": f"{reg}的经费比例下限",
                                   "value": "、".join(f"{r.key}不少于{_fmt(r.value('percent'))}%"
                                                     for r in rules if r.region == reg),
                                   "unit": ""} for reg in covered))
            regions = [match]
        else:
            regions = covered
        picked = [r for r in rules if r.region in regions]
        bases = {"public_funds": funds, "wage_total": wages}
        rows, parts = [], []
        for reg in regions:
            items = []
            for r in (x for x in picked if x.region == reg):
                pct = r.value("percent")
                base = bases[r.attrs["base"]]
                amount = None
                if base is not None:
                    amount = float((Decimal(str(base)) * Decimal(str(pct)) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP))
                rows.append({"region": reg, "item": r.key, "payer": r.attrs.get("payer", ""), "percent": pct,
                             "base": r.attrs["base"], "base_label": r.attrs["base_label"], "amount": amount,
                             "amount_text": fmt_money(amount) if amount is not None else None})
                share = f"{r.attrs['base_label']}的{_fmt(pct)}%"
                items.append(f"{r.key}不少于{fmt_money(amount)}（{share}）" if amount is not None
                             else f"{r.key}不少于{share}")
            parts.append(f"{reg}：{'、'.join(items)}")
        missing = [lab for key, lab in (("public_funds", "学校年度公用经费"), ("wage_total", "教师工资总额"))
                   if bases[key] is None and any(r.attrs["base"] == key for r in picked)]
        unused = [lab for key, lab in (("public_funds", "学校年度公用经费"), ("wage_total", "教师工资总额"))
                  if bases[key] is not None and not any(r.attrs["base"] == key for r in picked)]
        tail = ""
        if missing:
            tail += f"（未给出{'、'.join(missing)}，相应项目只列比例）"
        if unused:
            tail += f"（{'、'.join(regions)}没有按{'、'.join(unused)}计算的比例，该金额未使用）"
        return self._result(name, picked, value=rows, unit="元", conditions=conditions,
                            explanation="；".join(parts) + tail + "。")

    def research_staff(self, teachers: int) -> ToolResult:
        """How many subject research staff (教研员) a jurisdiction must have: the per-mille share of the total number of teachers (教师总数) from the rule data listed below, rounded up because the clause says 配足配齐 (a fraction of a person counts as one).

        Args:
            teachers: total number of teachers, a positive integer.
        """
        name = "research_staff"
        teachers = _number(teachers, "教师总数", high=MAX_TEACHERS, integer=True)
        rule = self._rules(name)[0]
        per_mille = rule.value("per_mille")
        exact = teachers * per_mille / 1000
        n = math.ceil(exact - 1e-9)  # 配足配齐: round up
        how = f"{_fmt(exact)}名，不足1名按1名计（配足配齐），" if n != exact else f"{n}名，"
        return self._result(
            name, [rule], value=n, unit="名",
            conditions={"teachers": teachers, "per_mille": per_mille, "exact": exact},
            explanation=f"按教师总数{_fmt(per_mille)}‰的比例配足配齐教研员：{teachers}名教师×{_fmt(per_mille)}‰={how}应配{n}名教研员。")

    def studio_required(self, classes: int) -> ToolResult:
        """Whether a school must set up a county-level-or-above (名)教师工作室: schools that reach the class count in the rule data listed below should in principle have one by its deadline.

        Args:
            classes: number of classes (班) in the school, a positive integer.
        """
        name = "studio_required"
        classes = _number(classes, "班级数", high=MAX_CLASSES, integer=True)
        rule = self._rules(name)[0]
        need, year = rule.int_value("min_classes"), rule.int_value("deadline_year")
        yes = classes >= need
        if yes:
            text = f"本校{classes}个班，达到{need}个班的规模，到{year}年底原则上应建立县级以上的(名)教师工作室。"
        else:
            text = f"本校{classes}个班，未达到{need}个班的规模，文件未要求其到{year}年底建立(名)教师工作室。"
        return self._result(name, [rule], value=yes, unit="",
                            conditions={"classes": classes, "min_classes": need, "deadline": f"{year}年底"},
                            explanation=text)

    def experimental_school_priority(self, years: float) -> ToolResult:
        """Whether a teacher or principal qualifies for priority in the selection of 成都市名校长/名师培养对象: full-time teaching at a 强校工程 experimental school (实验校) for at least the years in the rule data listed below (以上 includes the boundary).

        Args:
            years: years of full-time teaching at the experimental school, 0 or more.
        """
        name = "experimental_school_priority"
        years = _number(years, "专职从教年限", low=0, low_ok=True, high=MAX_YEARS)
        rule = self._rules(name)[0]
        need = rule.value("min_years")
        yes = years >= need - 1e-9
        if yes:
            text = (f"在实验校专职从教{_fmt(years)}年，达到“{_fmt(need)}年以上”（含{_fmt(need)}年），"
                    f"在成都市名校长和名师培养对象遴选中予以优先考虑。")
        else:
            text = f"在实验校专职从教{_fmt(years)}年，未满{_fmt(need)}年，不属于名校长和名师培养对象遴选的优先考虑范围。"
        return self._result(name, [rule], value=yes, unit="",
                            conditions={"years": years, "min_years": need}, explanation=text)

    def meeting_frequency(self, kind: str | None = None) -> ToolResult:
        """How often a school must hold class-management meetings (家长会, 学生座谈会, 科任教师联席会); the frequencies come from the rule data listed below. Without a kind the result lists all of them.

        Args:
            kind: 家长会, 学生座谈会 or 科任教师联席会; None if unknown.
        """
        name = "meeting_frequency"
        rules = self._rules(name)

        def unit(r: Rule) -> str:
            return f"次/{r.attrs['period']}"

        raw = _text(kind)
        if raw is None:
            return self._result(
                name, rules, ok=False, conditions={"kind": None},
                explanation="请问是哪种会议：家长会、学生座谈会还是科任教师联席会？以下为各自的最低频次。",
                options=tuple({"key": r.key, "label": r.label, "value": r.int_value("times"), "unit": unit(r)}
                              for r in rules))
        key = _MEETINGS.get(raw)
        if key is None:
            raise ToolInputError(f"未知的会议类型“{kind}”；可选：家长会、学生座谈会、科任教师联席会")
        rule = self._rule(name, key)
        return self._result(name, [rule], value=rule.int_value("times"), unit=unit(rule),
                            conditions={"kind": kind, "kind_as": key, "period": rule.attrs["period"],
                                        "at_least": bool(rule.attrs.get("comparator"))},
                            explanation=f"各中小学{rule.label}。")

    def expert_count(self, schools: int = 1) -> ToolResult:
        """Minimum number of guiding experts (指导专家) for 成都市 强校工程 experimental schools: the per-school minimum in the rule data listed below times the number of schools.

        Args:
            schools: number of experimental schools, a positive integer (default 1).
        """
        name = "expert_count"
        schools = _number(schools, "实验校数量", high=MAX_SCHOOLS, integer=True)
        rule = self._rules(name)[0]
        per = rule.int_value("per_school")
        n = per * schools
        tail = f"，{schools}所共不少于{n}名" if schools > 1 else ""
        return self._result(name, [rule], value=n, unit="名",
                            conditions={"schools": schools, "per_school": per},
                            explanation=f"区(市)县级专家团队为每所实验校配备不少于{per}名指导专家{tail}。")

    def mentor_count(self, schools: int = 1) -> ToolResult:
        """Famous principals and teachers assigned to 成都市 强校工程 experimental schools (实验校): the per-school numbers of 市级名校长 and 名师 in the rule data listed below times the number of schools.

        Args:
            schools: number of experimental schools, a positive integer (default 1).
        """
        name = "mentor_count"
        schools = _number(schools, "实验校数量", high=MAX_SCHOOLS, integer=True)
        rule = self._rules(name)[0]
        p, t = rule.int_value("principals") * schools, rule.int_value("teachers") * schools
        scope = f"{schools}所共需" if schools > 1 else "即"
        return self._result(name, [rule], value={"市级名校长": p, "名师": t}, unit="名",
                            conditions={"schools": schools},
                            explanation=(f"区(市)县教育行政部门为每一所实验校选派{rule.int_value('principals')}名市级名校长和"
                                         f"{rule.int_value('teachers')}名名师（均含培养对象），{scope}市级名校长{p}名、名师{t}名。"))

    def staffing_review_year(self, last_year: int) -> ToolResult:
        """The year of the next re-verification of county staffing totals (编制总量核定): the last verification year plus the period in the rule data listed below.

        Args:
            last_year: the year of the last verification (四位年份).
        """
        name = "staffing_review_year"
        last_year = _number(last_year, "上次核定年份", low=MIN_YEAR, low_ok=True, high=MAX_YEAR, integer=True)
        rule = self._rules(name)[0]
        every = rule.int_value("period_years")
        nxt = last_year + every
        return self._result(name, [rule], value=nxt, unit="年",
                            conditions={"last_year": last_year, "period_years": every},
                            explanation=f"县域内教职工编制原则上每{every}年重新核定编制总量：上次在{last_year}年核定，下次应在{nxt}年。")

    def rule_quota(self, topic: str, region: str | None = None, role: str | None = None, rank: str | None = None,
                   years: float | None = None, semesters: float | None = None, school_years: float | None = None,
                   people: int | None = 1, unit: str | None = None) -> ToolResult:
        """Answer a quota question from the rules extracted from the indexed documents of any region, including uploaded ones: finds the rules whose text names the topic in that region (and national documents), keeps those that apply to the role and rank, and multiplies the per-period quantity by the number of periods in the span. When the region's documents set no such rule, says so and lists the regions that do.

        Args:
            topic: what is counted, as the documents word it, e.g. 听课, 课题, 教研员, 家长会, 培训.
            region: the region whose documents apply, e.g. 随州市; None for every region.
            role: the person's role, e.g. 学校领导, 教师, 班主任; None if unknown.
            rank: the teacher's rank, e.g. 中学一级; None if unknown.
            years: length of the span in years; None for one period.
            semesters: length of the span in semesters, added to years.
            school_years: length of the span in school years (学年), added to years.
            people: how many people in that role (default 1).
            unit: only rules in this unit, e.g. 节, 项, %; None for any unit.
        """
        from .calc import Profile, applies, find_rules, quantity_over, regions_with

        name = "rule_quota"
        topic_s = _text(topic)
        if not topic_s:
            raise ToolInputError("请给出要计算的事项，例如：听课、课题、家长会")
        people = _number(1 if people is None else people, "人数", low=1, low_ok=True, high=MAX_PEOPLE, integer=True)
        span = None
        if years is not None or semesters is not None or school_years is not None:
            span = 0.0
            if years is not None:
                span += _number(years, "年限", high=MAX_YEARS)
            if school_years is not None:
                span += _number(school_years, "学年数", high=MAX_YEARS)
            if semesters is not None:
                span += _number(semesters, "学期数", high=MAX_SEMESTERS) / 2
        reg = self._region(region)
        conditions = {"topic": topic_s, "region": reg, "role": role, "rank": rank, "years": span, "people": people,
                      "unit": unit}
        profile = Profile(region=reg, role=_text(role), rank=_text(rank))
        rules = [o for o in find_rules(self.store, topic_s, reg, unit) if applies(o, profile)[0]]
        if not rules:
            where = [r for r in regions_with(self.store, topic_s, unit) if r != reg]
            scope = reg or "已收录的文件"
            text = f"{scope}没有关于“{topic_s}”的量化规定" + (f"；规定了的地区：{'、'.join(where)}" if where else "") + "。"
            return ToolResult(name, False, unit=unit or "", conditions=conditions, explanation=text,
                              options=tuple({"key": r, "label": f"{r}有关于“{topic_s}”的规定", "value": "", "unit": ""}
                                            for r in where))

        def over(o):
            return quantity_over(o, years=span if span is not None else None, people=people)

        def label(o) -> str:
            return "".join(x for x in (t2s(o.who), o.period or "", o.quantity or "", o.item) if x)

        subjects = list(dict.fromkeys(t2s(o.who) for o in rules))
        if len(subjects) > 1 and not role and not rank:
            opts = []
            for o in rules:
                q = over(o)
                opts.append({"key": t2s(o.who) or o.clause, "label": label(o), "value": q["total"] if q["total"] is not None else o.number,
                             "unit": o.unit, "region": o.region, "clause": o.clause})
            return self._cited(name, rules, ok=False, unit=rules[0].unit, conditions=conditions, options=tuple(opts),
                               explanation=f"“{topic_s}”的规定因对象而异：请问是{'、'.join(s for s in subjects if s)}中的哪一类？以下为各自的要求。")
        o = rules[0]
        q = over(o)
        text = f"{o.region}《{o.title}》{o.clause}：{label(o)}"
        if o.conditions:
            text += f"（{'；'.join(o.conditions)}）"
        value = o.number
        if span is not None and q["total"] is not None:
            value = q["total"]
            text += f"；{_fmt(span)}年{q['note']}{f'{people}人' if people > 1 else ''}共{_fmt(value)}{o.unit}"
        conditions.update({"per_period": o.number, "period": o.period, "periods": q["periods"], "comparator": o.comparator})
        return self._cited(name, [o], value=value, unit=o.unit, conditions=conditions, explanation=text + "。")

    def _region(self, region: str | None) -> str | None:
        """A corpus region named by its full or short name (清远 → 清远市); None when not given."""
        raw = _text(region)
        if not raw:
            return None
        reg = next((r for r in getattr(self.store, "regions", []) if r == raw or r.rstrip("市") == raw.rstrip("市")), None)
        if reg is None:
            raise ToolInputError(f"未知地区“{region}”")
        return reg

    def rule_sum(self, question: str, region: str | None = None, unit: str | None = None) -> ToolResult:
        """Add up the amounts one sentence of a document lists (several funds, several quotas), from the extracted rules: picks the sentence whose wording best matches the question, in that region, and sums its amounts of the same unit.

        Args:
            question: the question or the items to add up, e.g. 教育科研、师培、教育信息化三项经费合计.
            region: the region whose documents apply, e.g. 清远市; None for every region.
            unit: only amounts in this unit, e.g. 万元; None for the unit the matched sentence uses.
        """
        from .calc import sum_rules

        name = "rule_sum"
        text = _text(question)
        if not text:
            raise ToolInputError("请给出要合计的事项")
        reg = self._region(region)
        picked = sum_rules(self.store, text, reg, unit)
        conditions = {"question": text, "region": reg, "unit": unit}
        if not picked:
            return ToolResult(name, False, conditions=conditions,
                              explanation=f"{reg or '已收录的文件'}中没有找到可以合计的同一规定中的多项数额。")
        total = sum(o.number for o in picked)
        u = picked[0].unit
        def label(x) -> str:
            before = t2s(x.quote).split(t2s(x.number_text))[0] if x.number_text else ""
            piece = re.split(r"[、，,；;]", before)[-1] if before else ""
            piece = re.sub(r"^.*(划拨|安排|投入|拨付|预算|设立)", "", piece)
            return piece or t2s(x.item or x.who)

        parts = " + ".join(f"{label(o)}{_fmt(o.number)}{u}" for o in picked)
        o = picked[0]
        conditions.update({"items": [{"item": t2s(x.item or x.who), "value": x.number} for x in picked]})
        return self._cited(name, [o], value=total, unit=u, conditions=conditions,
                           explanation=f"{o.region}《{o.title}》{o.clause}：{parts}，合计{_fmt(total)}{u}。")

    def _cited(self, name: str, obligations, **kw: Any) -> ToolResult:
        cites = tuple(dict.fromkeys(o.citation for o in obligations))
        return ToolResult(name, kw.pop("ok", True), citations=cites, **kw)

    # ---- LangChain ---------------------------------------------------
    def as_langchain_tools(self) -> list:
        """The tools as LangChain StructuredTools; each returns `ToolResult.to_dict()` (errors: ok=False, error)."""
        from langchain_core.tools import StructuredTool

        return [StructuredTool.from_function(func=_json_tool(getattr(self, n)), name=n, parse_docstring=True,
                                             description=self.description(n))
                for n in self.TOOL_NAMES]

    def description(self, name: str) -> str:
        """A tool's description for the LLM: its docstring summary (no numbers) plus its rules, from the data."""
        doc = (getattr(self, name).__doc__ or "").strip().split("\n\n")[0].strip()
        rules = self._rules(name)
        if not rules:
            return doc
        listed = "; ".join(f"{r.region} {r.clause}: {r.label}" for r in rules)
        return f"{doc} Rules: {listed}."


def _json_tool(method: Callable[..., ToolResult]) -> Callable[..., dict]:
    @functools.wraps(method)
    def call(**kwargs: Any) -> dict:
        try:
            return method(**kwargs).to_dict()
        except ToolInputError as e:
            return {"name": method.__name__, "ok": False, "error": str(e)}

    call.__annotations__ = {**method.__annotations__, "return": "dict"}
    return call
