"""Unanswerable questions that sit right beside what a document says, on a document written here: the target is
set for 初中 and 普通高中 but asked for 小学; for 数学 and 物理 but asked for 英语; a period is named (设置服务期) with
no length, while another sentence of the same clause holds a number of years about something else. Each is
refused, and the neighbour that the document does state is still answered."""
from __future__ import annotations

import pytest

from assistant.contrasts import contradicts, members
from tests.conftest import bot_over

PLAN = """湖畔市教育高质量发展规划

一、发展目标
（一）教师学历目标。到2025年，初中专任教师中研究生学历教师的比例达到10%，普通高中专任教师中研究生学历教师的比例达到25%。
（二）学业质量目标。实施数理化学科质量提升工程，到2025年少数民族学生数理化学科中考及格率大幅提高，其中数学学科平均分达到75分以上；物理学科平均分达到50分以上；化学学科平均分达到35分以上。

二、主要措施
（一）完善师资补充机制。县级机构编制部门每3年重新核定一次中小学教职工编制总量。推进定向培养本土师范生，采取定向招录、公费培养、设置服务期等措施，毕业后考核聘用。
（二）核心指标
指标 2020年 2025年
普惠性幼儿园在园儿童覆盖面(%) 90 95
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory, embedder):
    return bot_over(tmp_path_factory, embedder, {"hupan_plan.txt": PLAN})


def test_contrast_sets_read_umbrella_words_and_longest_spellings():
    assert members("中学一级教师")["学段"] == {"初中", "高中"}
    assert members("中学一级教师")["职称"] == {"一级教师"}
    assert "职称" not in members("一级运动员")
    assert members("正高级教师")["职称"] == {"正高级教师"}
    assert contradicts(members("小学老师"), "初中和普通高中教师") == "学段"
    assert contradicts(members("小学老师"), "中小学教师") is None  # 中小学 covers 小学
    assert contradicts(members("中考英语"), "数理化学科中考及格率") == "学科"
    assert contradicts(members("教师培训"), "初中教师") is None  # the question names no member


@pytest.mark.parametrize("asked, neighbour, expect", [
    ("湖畔市小学专任教师里研究生学历的比例目标是多少？", "湖畔市初中专任教师里研究生学历的比例目标是多少？", "10%"),
    ("湖畔市少数民族学生中考英语的平均分目标是多少？", "湖畔市少数民族学生中考物理的平均分目标是多少？", "50分"),
])
def test_a_member_the_document_leaves_out_is_refused_and_its_neighbour_answered(bot, asked, neighbour, expect):
    refused = bot.ask(asked)
    assert not refused.found, refused.answer
    answered = bot.ask(neighbour)
    assert answered.found and expect in answered.answer, answered.answer


def test_a_follow_up_on_another_member_quotes_that_member_s_sentence(bot):
    from assistant.agent import ChatState

    state = ChatState()
    first = bot.ask("湖畔市少数民族学生中考数学的平均分目标是多少？", state=state)
    assert first.found and "75分" in first.answer, first.answer
    then = bot.ask("那化学呢？", state=state)
    assert then.found and then.citations[0].quote.startswith("化学学科平均分达到35分"), then.answer


def test_a_number_in_another_sentence_does_not_answer_how_long(bot):
    refused = bot.ask("湖畔市定向培养的公费师范生毕业后要服务几年？")
    assert not refused.found, refused.answer
    answered = bot.ask("湖畔市中小学教职工编制几年重新核定一次？")
    assert answered.found and "每3年" in answered.answer, answered.answer


def test_a_table_row_headed_percent_answers_a_ratio_question(bot):
    answered = bot.ask("湖畔市普惠性幼儿园在园儿童覆盖面2025年的目标比例是多少？")
    assert answered.found and answered.citations[0].clause.startswith("二(二)"), answered.answer
    assert "95" in answered.citations[0].quote


ALLOWANCES = """湖畔市第一中学绩效工资考核办法

一、班主任考核奖
按每月1500元核定总量，月考核发放和学期考核发放相结合。

二、在校时间
学校保证学生每天校园体育活动时间。使用电子产品每日总时长不超过一小时。
"""


@pytest.fixture(scope="module")
def school(tmp_path_factory, embedder):
    return bot_over(tmp_path_factory, embedder, {"hupan_allowances.txt": ALLOWANCES})


def test_the_number_must_be_of_what_is_asked_not_of_a_neighbour(school):
    # 1500元 is the 班主任 award, not a housing allowance; 一小时 is screen time, not outdoor play
    for q in ("湖畔一中教师的住房补贴每月多少钱？", "湖畔一中学生每天户外活动不少于几个小时？"):
        a = school.ask(q)
        assert not a.found, (q, a.answer)
    a = school.ask("湖畔一中班主任考核奖每月按多少钱核定？")
    assert a.found and "1500元" in a.answer, a.answer


NOTICE = """湖畔市教育局关于组织对申报中学高级教师对象进行教学水平考核的通知

一、课堂教学考核采用模拟上课与面试相结合的形式进行。
二、模拟上课准备时间为1小时，上课时间为15分钟。
三、各校理事会每年至少召开2次会议，研究考核工作。
"""


@pytest.fixture(scope="module")
def notice(tmp_path_factory, embedder):
    return bot_over(tmp_path_factory, embedder, {"hupan_notice.txt": NOTICE})


def test_a_rank_set_aside_is_not_asked_and_the_title_s_rank_binds_its_clauses(notice):
    from assistant.contrasts import asked

    assert asked("我报的是中学一级，不是高级。")["职称"] == {"一级教师"}
    a = notice.ask("我报的是中学一级，不是高级。湖畔市中学一级的模拟上课准备时间是不是也是1小时？")
    assert not a.found, a.answer  # the notice is for 中学高级 only
    a = notice.ask("湖畔市模拟上课的准备时间是多长时间？")
    assert a.found and "1小时" in a.answer, a.answer


def test_fragments_of_a_told_story_do_not_sink_the_question(notice):
    a = notice.ask("我是学校理事，去年理事会一整年只开过一次会。按湖畔市的通知，理事会一年至少得开几次会？")
    assert a.found and "2次" in a.answer, a.answer
