"""Questions of the kinds that failed on documents nobody here had seen (evals/fresh5), asked of documents written
here: two provinces' regulations that share a short name, told apart by the place written before it
("这是江西学前教育条例哪一条规定的？", "湖南的学前教育条例…"); a count asked as 几个人 / 多少个孩子 and written 2-3位 /
30名幼儿; a ratio asked about one group (男教师) that the regulation gives only for money; everyday words for what a
regulation forbids (不许 = 不得)."""
from __future__ import annotations

import pytest

from tests.conftest import bot_over

JIANGXI = """江西省学前教育条例

第一条 为了规范学前教育，制定本条例。

第二条 幼儿园应当防止和纠正小学化倾向，不得教授小学教育内容。

第三条 幼儿园每班幼儿人数不得超过三十名。

第四条 县级财政性学前教育经费占同级财政性教育经费的比例不低于百分之五。
"""

HUNAN = """湖南省学前教育条例

第一条 为了发展学前教育，制定本条例。

第二条 幼儿园应当配备卫生保健人员，建立晨检制度。

第三条 幼儿园应当建立家长开放日制度，每学期至少开放一次。
"""

STUDIO = """湘潭市教育局关于名师工作室成员推荐的通知

一、推荐要求
1、选拔条件：原则上年龄40周岁以下的骨干教师。
2、每所学校推荐给每个工作室2-3位符合条件的人员。
二、工作室活动周期三年。
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory, embedder):
    return bot_over(tmp_path_factory, embedder, {"jiangxi.txt": JIANGXI, "hunan.txt": HUNAN, "studio.txt": STUDIO})


def _docs(bot, question):
    return bot.parse(question).doc_ids


def test_a_place_before_a_shared_name_picks_that_place_s_document(bot):
    jiangxi = _docs(bot, "江西省学前教育条例有什么规定？")
    assert len(jiangxi) == 1
    for q in ("这是江西学前教育条例哪一条规定的？", "江西的学前教育条例怎么说？"):
        assert _docs(bot, q) == jiangxi, q
    assert len(_docs(bot, "按学前教育条例，幼儿园要做什么？")) == 2  # no place: both documents


def test_a_story_about_what_is_forbidden_finds_the_article_of_the_named_regulation(bot):
    a = bot.ask("家长群里有人说幼儿园不许教小学内容，这是江西学前教育条例哪一条规定的？")
    assert a.found and a.citations[0].clause == "第二条" and "江西" in a.citations[0].title, a.answer


@pytest.mark.parametrize("question, clause, number", [
    ("江西的学前教育条例规定幼儿园一个班最多能收多少个孩子？", "第三条", "三十名"),
    ("湘潭给每个工作室推荐几个人？", "一2", "2-3位"),
])
def test_a_count_of_people_is_answered_in_the_document_s_own_unit(bot, question, clause, number):
    a = bot.ask(question)
    assert a.found and a.citations[0].clause == clause and number in a.citations[0].quote, a.answer


def test_a_ratio_the_regulation_gives_only_for_money_does_not_answer_a_ratio_of_teachers(bot):
    a = bot.ask("江西的学前教育条例要求幼儿园男老师至少占到多少比例？")
    assert not a.found, a.answer
    a = bot.ask("江西的学前教育条例要求学前教育经费至少占多少比例？")
    assert a.found and "百分之五" in a.answer, a.answer
