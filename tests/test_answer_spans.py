"""What an answer quotes, on a document written here: a provision cut at "；" is quoted on to its end when a
penalty is asked; "从多少到多少" quotes the change itself; "分成哪几类" quotes the division, not one part;
every quoted span is its own citation, and "……" stands only where text was left out; a question about a
document's whole subject is answered with its part of tasks, item by item."""
from __future__ import annotations

import re

import pytest

from tests.conftest import bot_over

RULES = """湖畔县中小学收费管理办法

第一条 为了规范中小学收费行为，制定本办法。

第二条 学校违反本办法规定擅自设立收费项目的，由县教育局责令退还所收费用，并处违法所得一倍以上三倍以下的罚款；违法所得不足五千元的，按五千元计算。

第三条 学生住宿费按学期收取，每学期收取一次。经价格听证，住宿费标准从每生每年600元调整到800元，自2025年秋季学期起执行。

第四条 课后服务分为基础托管、兴趣拓展、学业辅导三类。基础托管由学校统一组织实施。兴趣拓展由学生自愿选择参加。学业辅导由本校教师轮流承担。

第六条 学校应当关注患有特殊疾病的学生，发现学生患有特殊疾病的，及时告知其家长，并安排适宜的活动。

第七条 学生家长应当配合学校做好安全工作。学生患有特殊疾病的，家长应当及时告知学校。

第八条 学校家长委员会中，教师代表不超过1/3。

第五条 学校食堂应当公示饭菜价格。学校不得向学生推销教辅材料。学生午餐补助标准为每生每天5元，由县财政全额承担。
"""

PLAN = """湖畔县义务教育优质均衡发展实施方案

为推进全县义务教育优质均衡发展，结合本县实际，制定本方案。

一、总体目标
到2027年，全县义务教育学校办学条件全部达标。

二、重点任务
（一）扩充优质学位。新建改扩建中小学5所。
（二）推进集团化办学。每个教育集团至少包含一所乡村学校。
（三）加强教师交流。每年交流轮岗教师不低于应交流人数的10%。（责任单位：县教育局、县人社局、县财政局）

（四）实施“强师三年行动计划”，全面完成强师计划各项任务。

三、保障措施
（一）加强组织领导。
（二）落实经费保障。

四、实施步骤
强师计划分两个阶段推进，用5年时间完成。
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory, embedder):
    return bot_over(tmp_path_factory, embedder, {"hupan_fees.txt": RULES, "hupan_plan.txt": PLAN})


def test_a_penalty_is_quoted_past_the_semicolon(bot):
    a = bot.ask("学校擅自设立收费项目会被怎么罚款？")
    assert a.found and a.citations[0].clause == "第二条"
    assert "按五千元计算" in a.citations[0].quote and "一倍以上三倍以下" in a.citations[0].quote


def test_a_change_question_quotes_the_change(bot):
    a = bot.ask("住宿费标准从多少调整到了多少？")
    assert a.found and a.citations[0].clause == "第三条"
    assert "从每生每年600元调整到800元" in a.citations[0].quote


def test_a_division_question_quotes_the_division(bot):
    a = bot.ask("课后服务分成哪几类？")
    assert a.found and a.citations[0].clause == "第四条"
    assert "分为基础托管、兴趣拓展、学业辅导三类" in a.citations[0].quote


def _markers_and_quotes(answer):
    """The quoted spans of the answer's decisive lines, with the source marker after each."""
    return re.findall(r"“([^”]*)”\[(\d+)\]", answer.answer)


@pytest.mark.parametrize("question", ["学校擅自设立收费项目会被怎么罚款？", "住宿费标准从多少调整到了多少？",
                                      "课后服务分成哪几类？", "学生午餐补助每天多少钱？谁来承担？",
                                      "兴趣拓展和学业辅导分别由谁承担？"])
def test_every_quoted_span_is_its_own_citation(bot, question):
    from assistant.compose import display

    a = bot.ask(question)
    assert a.found
    spans = _markers_and_quotes(a)
    assert spans, a.answer
    for shown, n in spans:
        cited = a.citations[int(n) - 1]
        assert display(cited.quote) == shown  # marker n points at the citation holding exactly that span
        assert cited.quote in RULES  # verbatim
    for line in a.answer.splitlines():
        quoted = re.findall(r"“([^”]*)”\[(\d+)\]", line)
        for (first, n1), (second, n2) in zip(quoted, quoted[1:]):
            c1, c2 = a.citations[int(n1) - 1], a.citations[int(n2) - 1]
            assert c1.clause == c2.clause
            # "……" between two spans of one clause: something of the clause really lies between them
            text = RULES[RULES.index(f"{c1.clause} "):]
            i, j = text.index(c1.quote), text.index(c2.quote)
            lo, hi = sorted([(i, i + len(c1.quote)), (j, j + len(c2.quote))])
            assert text[lo[1]:hi[0]].strip(), f"adjacent spans shown with …… : {line}"


def test_a_question_about_the_whole_document_lists_its_tasks(bot):
    a = bot.ask("湖畔县义务教育优质均衡发展有什么要求？")
    assert a.found
    assert [c.clause for c in a.citations] == ["二", "二(一)", "二(二)", "二(三)", "二(四)"]
    assert "扩充优质学位" in a.answer and "加强教师交流" in a.answer and "为推进全县" not in a.answer


def test_which_departments_is_answered_by_the_responsibility_line(bot):
    a = bot.ask("教师交流轮岗由哪些部门负责？")
    assert a.found and a.citations[0].clause == "二(三)"
    assert "县人社局" in a.answer
    # asked what, not who, the same line is not the answer
    b = bot.ask("教师交流轮岗每年交流多少？")
    assert b.found and "10%" in b.citations[0].quote and "县人社局" not in b.citations[0].quote


def test_a_number_inside_a_quoted_name_is_not_the_answer(bot):
    from assistant.compose import without_names

    assert "三年" not in without_names("实施“强师三年行动计划”") and "随班就读" in without_names("“随班就读+送教上门”")
    a = bot.ask("强师计划的各项任务要几年全面完成？")
    assert a.found and a.citations[0].clause == "四" and "5年" in a.citations[0].quote


def test_the_article_putting_the_duty_on_the_asker_comes_first(bot):
    a = bot.ask("孩子患有特殊疾病，家长要怎么跟学校说？")
    assert a.found and a.citations[0].clause == "第七条"



def test_a_long_chatty_question_is_answered(bot):
    a = bot.ask("我是湖畔县一所乡镇中学的班主任，听同事说县里对学校擅自设立收费项目管得很严，想问一下到底会被怎么罚款？")
    assert a.found and a.citations[0].clause == "第二条"


def test_a_fraction_answers_how_many_parts(bot):
    a = bot.ask("家长委员会里教师代表最多占几分之几？")
    assert a.found and a.citations[0].clause == "第八条" and "1/3" in a.citations[0].quote


def test_paragraphs_of_one_quote_are_shown_joined_without_doubled_punctuation():
    from assistant.compose import display

    assert display("学校应当开展培训。\n学校对欺凌行为应当立即制止；") == "学校应当开展培训。学校对欺凌行为应当立即制止；"
    assert display("（一）按照章程自主管理\n（二）组织实施教育教学活动") == "（一）按照章程自主管理；（二）组织实施教育教学活动"


def test_a_table_row_is_quoted_with_its_continuation_rows_and_the_tables_header():
    from assistant.compose import pick_sentences
    from ingest.clauses import parse_clauses

    text = ("一、核心指标\n指标\t学段\t2020年\t2025目标\n幼儿园覆盖率（%）\t全市\t90\t95\n"
            "研究生学历教师比例（%）\t初中\t3.48\t8\n普通高中\t12.81\t21\n生均经费（万元）\t小学\t1.76\t逐年只增不减\n")
    clause = next(c for c in parse_clauses("d", text) if "研究生" in c.text)
    quotes = pick_sentences(clause, ("研究生学历", "比例", "目标"), "研究生学历教师的比例目标是多少？")
    assert quotes[0] == "研究生学历教师比例（%）\t初中\t3.48\t8\n普通高中\t12.81\t21"
    assert quotes[1] == "指标\t学段\t2020年\t2025目标"
    assert all(q in text for q in quotes)
