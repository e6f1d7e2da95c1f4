"""Calculators: boundary values, missing slots, bad inputs, real citations, LangChain wrappers."""
from __future__ import annotations

import json

import pytest

from assistant.tools import PolicyTools, fmt_money
from ingest.errors import ToolInputError
from ingest.types import ToolResult


@pytest.fixture(scope="module")
def tools(store):
    return PolicyTools(store)


def assert_cited(store, result: ToolResult):
    assert result.citations, result
    for c in result.citations:
        clause = store.clause(c.doc_id, c.clause)
        assert clause is not None, c
        assert c.quote in clause.text
        assert store.quote_is_verbatim(c.doc_id, c.quote)
        assert (c.title, c.region) == (store.docs[c.doc_id].meta.title, store.docs[c.doc_id].meta.region)


def run(tools, store, name, **args) -> ToolResult:
    r = getattr(tools, name)(**args)
    assert isinstance(r, ToolResult) and r.name == name
    assert r.explanation and "\n" not in r.explanation
    json.dumps(r.to_dict(), ensure_ascii=False)
    if r.ok:
        assert_cited(store, r)
    return r


# ---- research_quota ------------------------------------------------------------

RANKS = [  # (input, rank it counts as, level the clause sets)
    ("中学一级以下", "中学一级以下", "校级或以上"), ("中学二级", "中学一级以下", "校级或以上"),
    ("中学三级", "中学一级以下", "校级或以上"), ("小学二级", "中学一级以下", "校级或以上"),
    ("二级教师", "中学一级以下", "校级或以上"), ("中学一级", "中学一级", "校级或以上"),
    ("小学一级", "中学一级", "校级或以上"), ("一级教师", "中学一级", "校级或以上"),
    ("中学高级", "中学高级", "县级或以上"), ("小学高级", "中学高级", "县级或以上"),
    ("高级教师", "中学高级", "县级或以上"), ("中學高級教師", "中学高级", "县级或以上"),
]


@pytest.mark.parametrize("years,count", [(5, 1), (10, 2), (7, 1), (3, 0), (4.99, 0), (15, 3)])
@pytest.mark.parametrize("rank,rank_as,level", RANKS)
def test_research_quota_per_rank_and_span(tools, store, rank, rank_as, level, years, count):
    r = run(tools, store, "research_quota", rank=rank, years=years)
    assert r.ok and r.value == count and r.unit == "项"
    assert r.conditions["rank_as"] == rank_as and r.conditions["level"] == level
    assert r.conditions["full_periods"] == count
    assert [c.clause for c in r.citations] == ["三(二)4"]
    assert level in r.explanation
    if years == 7:
        assert "完整" in r.explanation and "余下2年" in r.explanation
    if count == 0:
        assert "不足一个完整的5年周期" in r.explanation


def test_research_quota_explanation_reads_naturally(tools, store):
    r = run(tools, store, "research_quota", rank="中学一级", years=10)
    assert r.explanation == "中学一级教师每5年须主持或参与1项校级或以上课题研究，10年共2项。"
    assert r.citations[0].quote == "中學一級教師,每5年必須主持(或參與)1項校級或以上課題研究"
    assert "参照中学" in run(tools, store, "research_quota", rank="小学高级").explanation


def test_research_quota_without_rank_lists_every_rank(tools, store):
    r = run(tools, store, "research_quota", rank=None, years=10)
    assert not r.ok and r.value is None
    assert [(o["key"], o["value"]) for o in r.options] == [("中学一级以下", 2), ("中学一级", 2), ("中学高级", 2)]
    assert "请问" in r.explanation
    assert_cited(store, r)


def test_research_quota_for_an_uncovered_rank_says_so(tools, store):
    r = run(tools, store, "research_quota", rank="正高级")
    assert not r.ok and "未规定正高级" in r.explanation and len(r.options) == 3


@pytest.mark.parametrize("args,message", [
    ({"rank": "中学一级", "years": -1}, "年限必须大于0"),
    ({"rank": "中学一级", "years": 0}, "年限必须大于0"),
    ({"rank": "中学一级", "years": 1000}, "超出合理范围"),
    ({"rank": "中学一级", "years": "abc"}, "必须是数字"),
    ({"rank": "中学一级", "years": True}, "必须是数字"),
    ({"rank": "中学一级", "years": float("nan")}, "有限"),
    ({"rank": "教授"}, "未知的教师职级"),
    ({"rank": "特级"}, "未知的教师职级"),
])
def test_research_quota_rejects_bad_input(tools, args, message):
    with pytest.raises(ToolInputError, match=message):
        tools.research_quota(**args)


def test_numeric_strings_are_accepted(tools, store):
    assert run(tools, store, "research_quota", rank="中学一级", years="10").value == 2


# ---- observation_quota ------------------------------------------------------------

@pytest.mark.parametrize("role,args,value,counted", [
    ("学校领导", {"semesters": 1}, 30, 1),
    ("学校领导", {"semesters": 1.5}, 60, 2),
    ("学校领导", {"semesters": 2}, 60, 2),
    ("学校领导", {"school_years": 1}, 60, 2),
    ("学校领导", {"school_years": 1, "semesters": 1}, 90, 3),
    ("学校领导", {"semesters": 1, "people": 3}, 90, 1),
    ("学校领导", {}, 30, 1),
    ("校长", {"semesters": 1}, 30, 1),
    ("學校領導", {"semesters": 1}, 30, 1),
    ("分管教学教研工作的处室干部", {"semesters": 1}, 25, 1),
    ("分管教学教研工作的处室干部", {"semesters": 1.5}, 50, 2),
    ("教务主任", {"school_years": 0.5}, 25, 1),
])
def test_observation_quota(tools, store, role, args, value, counted):
    r = run(tools, store, "observation_quota", role=role, **args)
    assert r.ok and r.value == value and r.unit == "节"
    assert r.conditions["counted_semesters"] == counted
    assert [c.clause for c in r.citations] == ["三(一)1"]
    if args.get("semesters") == 1.5:
        assert "按2个学期计" in r.explanation and "不足一学期按一学期计" in r.explanation
    if not args:
        assert "按1个学期计" in r.explanation


def test_observation_quote_is_the_traditional_original(tools, store):
    r = run(tools, store, "observation_quota", role="学校领导", semesters=1)
    assert r.citations[0].quote == "學校領導每人每學期校內聽課不少于30節"


def test_observation_without_role_lists_both(tools, store):
    r = run(tools, store, "observation_quota", role=None, semesters=2)
    assert not r.ok
    assert [(o["key"], o["value"]) for o in r.options] == [("学校领导", 60), ("分管教学教研工作的处室干部", 50)]


@pytest.mark.parametrize("args,message", [
    ({"semesters": 0}, "学期数必须大于0"),
    ({"semesters": -1}, "学期数必须大于0"),
    ({"school_years": -0.5}, "学年数必须大于0"),
    ({"semesters": 1, "people": 0}, "人数"),
    ({"semesters": 1, "people": 1.5}, "整数"),
    ({"semesters": 10 ** 6}, "超出合理范围"),
    ({"semesters": 1, "role": "保安"}, "未知的岗位"),
])
def test_observation_rejects_bad_input(tools, args, message):
    args = {"role": "学校领导", **args}
    with pytest.raises(ToolInputError, match=message):
        tools.observation_quota(**args)


# ---- budget_floors ------------------------------------------------------------

def test_budget_floors_qingyuan(tools, store):
    r = run(tools, store, "budget_floors", region="清远市", public_funds=1_000_000)
    assert r.ok and r.unit == "元"
    assert [(x["item"], x["percent"], x["amount"]) for x in r.value] == [
        ("教师培训费", 5, 50000), ("仪器设备、教学办公用品、图书资料购置", 10, 100000), ("教学业务费", 35, 350000)]
    assert {c.clause for c in r.citations} == {"四(三)"} and len(r.citations) == 3
    for text in ("5万元", "10万元", "35万元"):
        assert text in r.explanation


def test_budget_floors_suizhou(tools, store):
    r = run(tools, store, "budget_floors", region="随州", public_funds=1_000_000, wage_total=20_000_000)
    assert [(x["item"], x["percent"], x["amount"]) for x in r.value] == [
        ("教师继续培训经费（财政）", 1.5, 300000), ("教师培训经费（学校）", 5, 50000)]
    assert "30万元" in r.explanation and "5万元" in r.explanation
    assert {c.clause for c in r.citations} == {"六(二)"}


def test_budget_floors_all_regions_and_missing_bases(tools, store):
    r = run(tools, store, "budget_floors", public_funds=200_000)
    assert {x["region"] for x in r.value} == {"清远市", "随州市"}
    wage_row = next(x for x in r.value if x["base"] == "wage_total")
    assert wage_row["amount"] is None and "未给出教师工资总额" in r.explanation
    assert {c.region for c in r.citations} == {"清远市", "随州市"}
    r = run(tools, store, "budget_floors", region="清遠市")
    assert all(x["amount"] is None for x in r.value) and "5%" in r.explanation


def test_budget_floors_for_a_region_without_floors(tools, store):
    r = run(tools, store, "budget_floors", region="成都市", public_funds=1e6)
    assert not r.ok and "没有规定经费比例" in r.explanation
    assert [o["key"] for o in r.options] == ["清远市", "随州市"]


@pytest.mark.parametrize("args,message", [
    ({"public_funds": 10 ** 12}, "超出合理范围"),
    ({"wage_total": 10 ** 12}, "超出合理范围"),
    ({"public_funds": -5}, "必须大于0"),
    ({"public_funds": 0}, "必须大于0"),
    ({"region": "北京市"}, "未知地区"),
])
def test_budget_floors_rejects_bad_input(tools, args, message):
    with pytest.raises(ToolInputError, match=message):
        tools.budget_floors(**args)


@pytest.mark.parametrize("yuan,text", [
    (50000, "5万元"), (10000, "1万元"), (123400, "12.34万元"), (123456, "123456元"),
    (6172.8, "6172.8元"), (9999.5, "9999.5元"), (500, "500元"), (0.125, "0.13元"), (1.5e8, "15000万元"),
])
def test_fmt_money(yuan, text):
    assert fmt_money(yuan) == text


# ---- research_staff, studio, priority, meetings, extra rules ---------------------

@pytest.mark.parametrize("teachers,value", [(1200, 6), (1000, 5), (1001, 6), (1, 1), (199, 1), (201, 2)])
def test_research_staff_rounds_up(tools, store, teachers, value):
    r = run(tools, store, "research_staff", teachers=teachers)
    assert r.ok and r.value == value and r.unit == "名"
    assert [c.clause for c in r.citations] == ["三(五)1"] and "5‰" in r.citations[0].quote
    if teachers * 5 % 1000:
        assert "不足1名按1名计" in r.explanation


@pytest.mark.parametrize("teachers,message", [(0, "必须大于0"), (-3, "必须大于0"), (2.5, "整数"), (10 ** 9, "超出")])
def test_research_staff_rejects_bad_input(tools, teachers, message):
    with pytest.raises(ToolInputError, match=message):
        tools.research_staff(teachers)


@pytest.mark.parametrize("classes,required", [(1, False), (29, False), (30, True), (31, True)])
def test_studio_required(tools, store, classes, required):
    r = run(tools, store, "studio_required", classes=classes)
    assert r.ok and r.value is required and r.conditions["deadline"] == "2021年底"
    assert [c.clause for c in r.citations] == ["三(二)6"]
    assert ("原则上应建立" in r.explanation) is required


@pytest.mark.parametrize("classes", [0, -1, 30.5, 10 ** 6])
def test_studio_rejects_bad_input(tools, classes):
    with pytest.raises(ToolInputError):
        tools.studio_required(classes)


@pytest.mark.parametrize("years,priority", [(0, False), (2, False), (2.9, False), (3, True), (3.5, True), (10, True)])
def test_experimental_school_priority(tools, store, years, priority):
    r = run(tools, store, "experimental_school_priority", years=years)
    assert r.ok and r.value is priority
    assert [(c.region, c.clause) for c in r.citations] == [("成都市", "四(三)")]
    assert ("予以优先考虑" in r.explanation) is priority


def test_experimental_school_priority_rejects_negative_years(tools):
    with pytest.raises(ToolInputError, match="不小于0"):
        tools.experimental_school_priority(-1)


@pytest.mark.parametrize("kind,key,unit", [
    ("家长会", "家长会", "次/学期"), ("學生座談會", "学生座谈会", "次/月"), ("联席会", "科任教师联席会", "次/月")])
def test_meeting_frequency(tools, store, kind, key, unit):
    r = run(tools, store, "meeting_frequency", kind=kind)
    assert r.ok and r.value == 1 and r.unit == unit and r.conditions["kind_as"] == key
    assert [c.clause for c in r.citations] == ["三(一)2"]


def test_meeting_frequency_without_kind_lists_all(tools, store):
    r = run(tools, store, "meeting_frequency")
    assert not r.ok and [o["key"] for o in r.options] == ["家长会", "学生座谈会", "科任教师联席会"]
    with pytest.raises(ToolInputError, match="未知的会议类型"):
        tools.meeting_frequency("运动会")


@pytest.mark.parametrize("name,args,value", [
    ("expert_count", {"schools": 1}, 3), ("expert_count", {"schools": 4}, 12),
    ("mentor_count", {"schools": 1}, {"市级名校长": 1, "名师": 2}),
    ("mentor_count", {"schools": 3}, {"市级名校长": 3, "名师": 6}),
    ("staffing_review_year", {"last_year": 2021}, 2024),
])
def test_extra_rules(tools, store, name, args, value):
    assert run(tools, store, name, **args).value == value


@pytest.mark.parametrize("name,args", [
    ("expert_count", {"schools": 0}), ("mentor_count", {"schools": -2}),
    ("staffing_review_year", {"last_year": 1800}), ("staffing_review_year", {"last_year": 2021.5}),
])
def test_extra_rules_reject_bad_input(tools, name, args):
    with pytest.raises(ToolInputError):
        getattr(tools, name)(**args)


# ---- citations come from the index -------------------------------------------------

def test_a_rule_whose_clause_is_not_indexed_gives_an_uncited_refusal(store):
    from assistant.rules import Rule, default_rules

    rules = [Rule(**{**r.model_dump(), "clause": "九(九)"}) if r.tool == "research_staff" else r
             for r in default_rules()]
    r = PolicyTools(store, rules).research_staff(100)
    assert not r.ok and not r.citations and "未收录" in r.explanation


# ---- LangChain ------------------------------------------------------------------

def test_langchain_tools(tools):
    lc = tools.as_langchain_tools()
    assert [t.name for t in lc] == list(PolicyTools.TOOL_NAMES)
    for t in lc:
        assert len(t.description) > 40 and "Args" not in t.description
        for field, spec in t.args.items():
            assert spec.get("description"), (t.name, field)
    by = {t.name: t for t in lc}
    out = by["research_quota"].invoke({"rank": "中学高级", "years": 10})
    assert out == tools.research_quota("中学高级", 10).to_dict()
    assert out["value"] == 2 and out["citations"][0]["clause"] == "三(二)4"
    json.dumps(out, ensure_ascii=False)
    out = by["budget_floors"].invoke({"region": "随州市", "wage_total": 1e7})
    assert out["ok"] and out["value"][0]["amount"] == 150000
    err = by["research_staff"].invoke({"teachers": 0})
    assert err == {"name": "research_staff", "ok": False, "error": "教师总数必须大于0，收到：0"}


# ---- the generic calculator over extracted rules ---------------------------------------

def test_rule_quota_answers_from_the_regions_extracted_rules(tools, store):
    r = run(tools, store, "rule_quota", topic="听课", region="清远市", role="学校领导", semesters=3)
    assert r.ok and r.value == 90 and r.unit == "节"
    assert [c.clause for c in r.citations] == ["三(一)1"] and "30" in r.citations[0].quote
    r = run(tools, store, "rule_quota", topic="课题", region="清远", rank="中学一级", years=10)
    assert r.ok and r.value == 2 and r.citations[0].clause == "三(二)4"
    assert "中學一級教師" in r.citations[0].quote


def test_rule_quota_without_a_role_lists_the_options(tools, store):
    r = run(tools, store, "rule_quota", topic="听课", region="清远市", semesters=2)
    assert not r.ok and {o["value"] for o in r.options} == {60, 50} and r.citations


def test_rule_quota_never_answers_from_another_region(tools, store):
    r = run(tools, store, "rule_quota", topic="听课", region="随州市", role="学校领导")
    assert not r.ok and not r.citations
    assert "随州市没有" in r.explanation and "清远市" in r.explanation
    assert [o["key"] for o in r.options] == ["清远市"]
    with pytest.raises(ToolInputError, match="未知地区"):
        tools.rule_quota("听课", region="北京市")


def test_rule_quota_description_has_no_numbers(tools):
    lc = {t.name: t for t in tools.as_langchain_tools()}
    assert not any(ch.isdigit() for ch in lc["rule_quota"].description)


@pytest.mark.parametrize("question,tool,args", [
    ("随州市学校领导每学期听课多少节？", "rule_quota", {"topic": "听课", "region": "随州市", "unit": "节", "role": "学校领导"}),
    ("成都市实验校班主任每学期要开几次家长会？", "rule_quota", {"topic": "家长会", "region": "成都市", "unit": "次"}),
    ("清远市学校领导每学期听课多少节？", "observation_quota", {"role": "学校领导"}),
    ("每学期至少开几次家长会？", "meeting_frequency", {"kind": "家长会"}),
])
def test_routing_by_region(store, question, tool, args):
    from assistant.query import parse
    from assistant.route import route

    r = route(parse(question, store.regions))
    assert r is not None and r.tool == tool
    assert args.items() <= r.args.items(), r.args


def test_rule_sum_adds_the_amounts_one_sentence_lists(tools, store):
    r = run(tools, store, "rule_sum", question="清远市财政每年划拨的教育科研、师培、教育信息化三项经费合计多少", region="清远市")
    assert r.ok and r.value == 2642 and r.unit == "万元" and r.citations[0].clause == "四(三)"
    assert "教育科研经费200万元" in r.explanation and "合计2642万元" in r.explanation
    assert not run(tools, store, "rule_sum", question="家长会合计多少", region="成都市").ok


def test_tool_descriptions_take_their_numbers_from_the_rule_data(tools):
    import re

    from assistant.rules import default_rules

    for name in PolicyTools.TOOL_NAMES:
        summary = getattr(PolicyTools, name).__doc__.split("Args:")[0]
        assert not re.search(r"\d", summary), name  # no number lives in a docstring
    by = {t.name: t.description for t in tools.as_langchain_tools()}
    for r in default_rules():
        assert r.label in by[r.tool]  # …they come from the rules


def test_routing_takes_a_region_scope(store):
    from assistant.query import parse
    from assistant.route import route

    q = parse("学校领导每学期听课多少节？", store.regions)
    assert route(q).tool == "observation_quota"  # no region: the seed tool, which names its region
    r = route(q, ["随州市"])
    assert r.tool == "rule_quota" and r.args["region"] == "随州市"
