"""The calculator and the eligibility engine over extracted rules: boundary values, missing slots,
bad inputs, region routing, real citations, LangChain wrappers."""
from __future__ import annotations

import json
import re

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


# ---- per-period quantity × periods: 课题 (every 5 years, by rank) ------------------------------

RANKS = [  # (input, the rank whose rule applies, the level that rule sets)
    ("中学一级以下", "中學一級以下", "校級"), ("中学二级", "中學一級以下", "校級"), ("中学三级", "中學一級以下", "校級"),
    ("小学二级", "中學一級以下", "校級"), ("二级教师", "中學一級以下", "校級"), ("中学一级", "中學一級教師", "校級"),
    ("小学一级", "中學一級教師", "校級"), ("一级教师", "中學一級教師", "校級"), ("中学高级", "中學高級", "縣級"),
    ("小学高级", "中學高級", "縣級"), ("高级教师", "中學高級", "縣級"), ("中學高級教師", "中學高級", "縣級"),
]


@pytest.mark.parametrize("years,count", [(5, 1), (10, 2), (7, 1), (3, 0), (4.99, 0), (15, 3)])
@pytest.mark.parametrize("rank,subject,level", RANKS)
def test_research_projects_per_rank_and_span(tools, store, rank, subject, level, years, count):
    r = run(tools, store, "calculate", topic="课题研究", rank=rank, years=years)
    assert r.ok and r.value == count and r.unit == "项"
    assert [c.clause for c in r.citations] == ["三(二)4"]
    quote = r.citations[0].quote
    assert subject in quote and level in quote and "每5年" in quote
    if years == 7:
        assert "完整" in r.explanation and "余下2年" in r.explanation


def test_research_explanation_reads_naturally(tools, store):
    r = run(tools, store, "calculate", topic="课题", rank="中学一级", years=10)
    assert r.explanation == ("清远市《清远市基础教育教学质量提升计划》三(二)4：中学一级教师,每5年必须主持(或参与)"
                             "1项校级或以上课题研究；10年，含2个完整的5年周期，共2项。")
    assert r.citations[0].quote == "中學一級教師,每5年必須主持(或參與)1項校級或以上課題研究"
    assert "小学高级教师按中学高级计" in run(tools, store, "calculate", topic="课题", rank="小学高级").explanation


def test_without_a_rank_every_rank_is_listed(tools, store):
    r = run(tools, store, "calculate", topic="课题研究", years=10)
    assert not r.ok and r.value is None and "请问" in r.explanation
    assert [o["value"] for o in r.options] == [2, 2, 2]
    assert [o["clause"] for o in r.options] == ["三(二)4"] * 3
    assert_cited(store, r)


def test_an_uncovered_rank_is_said_so(tools, store):
    r = run(tools, store, "calculate", topic="课题研究", rank="正高级")
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
    ({"topic": " "}, "请给出要计算的事项"),
    ({"region": "北京市"}, "未知地区"),
])
def test_bad_input_is_one_chinese_line(tools, args, message):
    with pytest.raises(ToolInputError, match=message):
        tools.calculate(**{"topic": "课题", **args})


def test_numeric_strings_are_accepted(tools, store):
    assert run(tools, store, "calculate", topic="课题", rank="中学一级", years="10").value == 2


# ---- 听课: per semester, by role; a started semester counts ---------------------------------------

@pytest.mark.parametrize("role,args,value", [
    ("学校领导", {"semesters": 1}, 30),
    ("学校领导", {"semesters": 1.5}, 60),
    ("学校领导", {"semesters": 2}, 60),
    ("学校领导", {"school_years": 1}, 60),
    ("学校领导", {"school_years": 1, "semesters": 1}, 90),
    ("学校领导", {"semesters": 1, "people": 3}, 90),
    ("学校领导", {}, 30),
    ("校长", {"semesters": 1}, 30),
    ("學校領導", {"semesters": 1}, 30),
    ("分管教学教研工作的处室干部", {"semesters": 1}, 25),
    ("分管教学教研工作的处室干部", {"semesters": 1.5}, 50),
    ("教务主任", {"school_years": 0.5}, 25),
])
def test_observation(tools, store, role, args, value):
    r = run(tools, store, "calculate", topic="听课", role=role, **args)
    assert r.ok and r.value == value and r.unit == "节"
    assert [c.clause for c in r.citations] == ["三(一)1"]
    if args.get("semesters") == 1.5:
        assert "按2个学期计" in r.explanation and "不足一个周期按一个计" in r.explanation


def test_observation_quote_is_the_traditional_original(tools, store):
    r = run(tools, store, "calculate", topic="听课", role="学校领导", semesters=1)
    assert r.citations[0].quote == "學校領導每人每學期校內聽課不少于30節"


def test_observation_without_role_lists_both(tools, store):
    r = run(tools, store, "calculate", topic="听课", semesters=2)
    assert not r.ok and [o["value"] for o in r.options] == [60, 50]
    assert "学校领导" in r.explanation and "处室干部" in r.explanation


@pytest.mark.parametrize("args,message", [
    ({"semesters": 0}, "学期数必须大于0"),
    ({"semesters": -1}, "学期数必须大于0"),
    ({"school_years": -0.5}, "学年数必须大于0"),
    ({"semesters": 1, "people": 0}, "人数"),
    ({"semesters": 1, "people": 1.5}, "整数"),
    ({"semesters": 10 ** 6}, "超出合理范围"),
])
def test_observation_rejects_bad_input(tools, args, message):
    with pytest.raises(ToolInputError, match=message):
        tools.calculate(**{"topic": "听课", "role": "学校领导", **args})


def test_a_role_no_rule_names_gets_the_options(tools, store):
    r = run(tools, store, "calculate", topic="听课", role="保安")
    assert not r.ok and "未规定保安" in r.explanation and len(r.options) == 2


# ---- shares of a base: 经费 (money), 教研员 (a head count, rounded up) -------------------------------

def test_budget_shares_qingyuan(tools, store):
    for topic, amount, text in (("教师培训费", 50000, "5万元"), ("仪器设备、图书资料购置", 100000, "10万元"),
                                ("教学业务费", 350000, "35万元")):
        r = run(tools, store, "calculate", topic=topic, region="清远市", base=1_000_000, base_of="年度公用经费预算总额")
        assert r.ok and (r.value, r.unit) == (amount, "元") and text in r.explanation, (topic, r.explanation)
        assert [c.clause for c in r.citations] == ["四(三)"]


def test_budget_shares_suizhou(tools, store):
    r = run(tools, store, "calculate", topic="教师继续培训经费", region="随州", base=20_000_000, base_of="教师工资总额")
    assert r.ok and r.value == 300000 and "30万元" in r.explanation and r.citations[0].clause == "六(二)"
    assert "财政部门" in r.citations[0].quote
    r = run(tools, store, "calculate", topic="教师培训经费", region="随州市", base=600_000, base_of="年度公用经费预算总额")
    assert r.ok and r.value == 30000 and "幼儿园" in r.citations[0].quote


def test_a_region_without_such_a_share_says_so(tools, store):
    r = run(tools, store, "calculate", topic="教师培训经费", region="成都市", base=1e6, base_of="年度公用经费预算总额")
    assert not r.ok and not r.citations and "成都市没有" in r.explanation
    assert {o["key"] for o in r.options} == {"清远市", "随州市"}


@pytest.mark.parametrize("teachers,value", [(1200, 6), (1000, 5), (1001, 6), (1, 1), (199, 1), (201, 2)])
def test_research_staff_rounds_up(tools, store, teachers, value):
    r = run(tools, store, "calculate", topic="教研员", base=teachers, base_of="教师总数")
    assert r.ok and r.value == value and r.unit == "名"
    assert [c.clause for c in r.citations] == ["三(五)1"] and "5‰" in r.citations[0].quote
    if teachers * 5 % 1000:
        assert "不足1按1计" in r.explanation


@pytest.mark.parametrize("base,message", [(0, "必须大于0"), (-3, "必须大于0"), (10 ** 12, "超出")])
def test_shares_reject_bad_bases(tools, base, message):
    with pytest.raises(ToolInputError, match=message):
        tools.calculate("教研员", base=base, base_of="教师总数")


@pytest.mark.parametrize("yuan,text", [
    (50000, "5万元"), (10000, "1万元"), (123400, "12.34万元"), (123456, "123456元"),
    (6172.8, "6172.8元"), (9999.5, "9999.5元"), (500, "500元"), (0.125, "0.13元"), (1.5e8, "15000万元"),
])
def test_fmt_money(yuan, text):
    assert fmt_money(yuan) == text


# ---- per unit, every N years, a list of items ------------------------------------------------

@pytest.mark.parametrize("schools,value", [(1, 3), (4, 12)])
def test_per_school_quantities(tools, store, schools, value):
    r = run(tools, store, "calculate", topic="指导专家", units=schools)
    assert r.ok and r.value == value and r.citations[0].clause == "三(五)"


def test_one_sentence_with_several_items_gives_all_of_them(tools, store):
    r = run(tools, store, "calculate", topic="名校长和名师", region="成都市", units=3)
    assert r.ok and r.value == {"市级名校长": 3, "名师": 6}
    r = run(tools, store, "calculate", topic="名师", region="成都市", units=4, unit="名")
    assert r.ok and r.value == 8


def test_next_review_year(tools, store):
    r = run(tools, store, "calculate", topic="重新核定编制总量", since_year=2021)
    assert r.ok and r.value == 2024 and r.citations[0].clause == "四(二)"
    with pytest.raises(ToolInputError):
        tools.calculate("编制", since_year=1800)


def test_meetings(tools, store):
    r = run(tools, store, "calculate", topic="家长会", unit="次")
    assert r.ok and r.value == 1 and "每學期至少召開一次家長會" in r.citations[0].quote
    r = run(tools, store, "calculate", topic="学生座谈会", unit="次", school_years=1)
    assert r.ok and r.value == 12 and r.conditions["period"] == "每月"


# ---- the eligibility engine -------------------------------------------------------------------

@pytest.mark.parametrize("classes,required", [(1, False), (29, False), (30, True), (31, True)])
def test_studio_threshold(tools, store, classes, required):
    r = run(tools, store, "check_eligibility", topic="名师工作室", value=classes, unit="个班")
    assert r.ok and r.value is required and [c.clause for c in r.citations] == ["三(二)6"]
    assert ("不属于" in r.explanation) is not required


@pytest.mark.parametrize("years,priority", [(0, False), (2, False), (2.9, False), (3, True), (3.5, True), (10, True)])
def test_experimental_school_priority(tools, store, years, priority):
    r = run(tools, store, "check_eligibility", topic="名校长名师培养对象遴选优先", value=years, unit="年")
    assert r.ok and r.value is priority
    assert [(c.region, c.clause) for c in r.citations] == [("成都市", "四(三)")]


def test_eligibility_by_rank(tools, store):
    r = run(tools, store, "check_eligibility", topic="主持课题", region="清远市", rank="中学二级")
    assert r.ok and r.value is True and "中学一级以下" in r.explanation
    with pytest.raises(ToolInputError, match="数值"):
        tools.check_eligibility("名师工作室", value=-1, unit="个班")


# ---- regions: never another city's rule -----------------------------------------------------------

def test_a_region_without_the_rule_says_so_and_names_who_has_it(tools, store):
    r = run(tools, store, "calculate", topic="听课", region="随州市", role="学校领导")
    assert not r.ok and not r.citations
    assert "随州市没有" in r.explanation and "清远市" in r.explanation
    assert [o["key"] for o in r.options] == ["清远市"]
    r = run(tools, store, "calculate", topic="课题研究", region="随州市", rank="中学一级", years=5)
    assert not r.ok and not r.citations and [o["key"] for o in r.options] == ["清远市"]


def test_nothing_anywhere_is_not_answered(tools, store):
    r = run(tools, store, "calculate", topic="游泳馆面积", unit="平方米")
    assert not r.ok and not r.citations and not r.options


def test_rule_sum_adds_the_amounts_one_sentence_lists(tools, store):
    r = run(tools, store, "rule_sum", question="清远市财政每年划拨的教育科研、师培、教育信息化三项经费合计多少", region="清远市")
    assert r.ok and r.value == 2642 and r.unit == "万元" and r.citations[0].clause == "四(三)"
    assert "教育科研经费200万元" in r.explanation and "合计2642万元" in r.explanation
    assert not run(tools, store, "rule_sum", question="家长会合计多少", region="成都市").ok


# ---- routing -----------------------------------------------------------------------------

@pytest.mark.parametrize("question,tool,args", [
    ("随州市学校领导两个学期听课多少节？", "calculate", {"region": "随州市", "unit": "节", "role": "学校领导"}),
    ("学校领导一学年要听多少节课？", "calculate", {"role": "学校领导", "school_years": 1, "unit": "节"}),
    ("我是中学一级教师，5年内要参加几项课题研究？", "calculate", {"rank": "中学一级", "years": 5, "unit": "项"}),
    ("一个县教师总数1200人，按规定应配多少名教研员？", "calculate", {"base": 1200, "base_of": "教师总数"}),
    ("随州某县2021年核定了编制总量，下一次重新核定应在哪一年？", "calculate", {"since_year": 2021}),
    ("我们学校30个班，要不要建名师工作室？", "check_eligibility", {"value": 30, "unit": "个班"}),
    ("清远市财政每年划拨的三项经费合计多少？", "rule_sum", {"region": "清远市"}),
])
def test_routing_by_form_and_slots(store, question, tool, args):
    from assistant.query import parse
    from assistant.route import route

    r = route(parse(question, store.regions))
    assert r is not None and r.tool == tool
    assert args.items() <= r.args.items(), r.args


def test_routing_takes_a_region_scope(store):
    from assistant.query import parse
    from assistant.route import route

    q = parse("学校领导一学年听课多少节？", store.regions)
    assert route(q).args.get("region") is None
    assert route(q, ["随州市"]).args["region"] == "随州市"
    assert route(parse("清远市教研员配备比例是多少？", store.regions)) is None  # a fact: search answers it
    # a lookup by role with nothing to compute is answered from the clause itself
    assert route(parse("班主任每个月津贴多少元？", store.regions)) is None


# ---- LangChain ------------------------------------------------------------------------------

def test_langchain_tools_are_the_same_engine(tools):
    lc = tools.as_langchain_tools()
    assert [t.name for t in lc] == list(PolicyTools.TOOL_NAMES)
    for t in lc:
        assert len(t.description) > 40 and "Args" not in t.description
        for field, spec in t.args.items():
            assert spec.get("description"), (t.name, field)
    by = {t.name: t for t in lc}
    out = by["calculate"].invoke({"topic": "课题", "rank": "中学高级", "years": 10})
    assert out == tools.calculate("课题", rank="中学高级", years=10).to_dict()
    assert out["value"] == 2 and out["citations"][0]["clause"] == "三(二)4"
    out = by["calculate"].invoke({"topic": "教师继续培训经费", "region": "随州市", "base": 1e7, "base_of": "教师工资总额"})
    assert out["ok"] and out["value"] == 150000
    err = by["calculate"].invoke({"topic": "教研员", "base": 0})
    assert err == {"name": "calculate", "ok": False, "error": "基数必须大于0，收到：0"}


def test_no_number_lives_in_a_docstring_descriptions_come_from_the_rules(tools, store):
    from assistant.calc import describe
    from assistant.obligations import extract_obligations

    for name in PolicyTools.TOOL_NAMES:
        assert not re.search(r"\d", getattr(PolicyTools, name).__doc__), name
    by = {t.name: t.description for t in tools.as_langchain_tools()}
    research = next(o for o in extract_obligations(store) if o.clause == "三(二)4")
    assert describe(research) in by["calculate"]
    studio = next(o for o in extract_obligations(store) if o.clause == "三(二)6")
    assert describe(studio) in by["check_eligibility"]
