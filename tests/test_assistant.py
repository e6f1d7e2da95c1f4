"""Default (no-LLM) mode on the real index: answers, honesty, script, follow-ups, bad input, CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant.agent import Assistant, ChatState
from ingest.errors import UsageError
from ingest.textnorm import t2s

from .conftest import ROOT


@pytest.fixture(scope="module")
def bot(store, embedder):
    return Assistant(store, embedder)


def test_fact_answer_quotes_the_decisive_clause(bot, store):
    ans = bot.ask("学校领导一学年至少要听多少节课？")
    assert ans.found
    assert (ans.citations[0].region, ans.citations[0].clause) == ("清远市", "三(一)1")
    assert "60" in ans.answer  # 30 per semester × 2, computed by the observation tool
    for c in ans.citations:
        assert store.quote_is_verbatim(c.doc_id, c.quote)


def test_json_contract(bot):
    out = bot.ask("清遠市教研員配備比例是多少？").to_json()
    assert set(out) == {"answer", "found", "citations", "tool_calls", "script", "mode", "note"}
    assert out["mode"] == "retrieval" and out["note"] == ""
    assert out["script"] == "traditional" and out["found"] is True
    assert set(out["citations"][0]) == {"doc_id", "title", "region", "clause", "quote"}
    assert out["citations"][0]["region"] == "清远市" and out["citations"][0]["clause"] == "三(五)1"
    assert "5‰" in out["answer"]


def test_traditional_question_gets_traditional_frame(bot):
    ans = bot.ask("隨州市財政部門按教師工資總額的多少比例安排繼續培訓經費？")
    assert ans.script == "traditional" and ans.found
    assert "條" in ans.answer and "1.5%" in ans.answer
    assert ans.citations[0].quote in ans.answer  # the quote itself stays verbatim (simplified source)


def test_simplified_question_finds_traditional_source(bot):
    ans = bot.ask("中学高级教师每5年要主持什么级别的课题研究？")
    assert ans.citations[0].region == "清远市" and "縣級" in ans.citations[0].quote


@pytest.mark.parametrize("question", [
    "深圳市中小学教师住房补贴每月有多少钱？",
    "中小学教师每年至少要发表几篇论文？",
    "随州市中小学暑假放多少天？",
])
def test_unanswerable_questions_say_so(bot, question):
    ans = bot.ask(question)
    assert ans.found is False
    assert not ans.citations
    assert "没有" in ans.answer


def test_a_story_told_before_the_question_does_not_sink_it(bot):
    """Words no document uses, three or more of them, are the telling (嘟囔, 唠叨, 咕哝), not what is asked:
    only the two heaviest count against the clause."""
    plain = bot.ask("学校领导每学期听课多少节？")
    told = bot.ask("表哥嘟囔唠叨咕哝半天，学校领导每学期听课多少节？")
    assert plain.found and told.found and told.citations[0].clause == plain.citations[0].clause
    still = bot.ask("我表哥说，深圳市中小学教师住房补贴每月有多少钱？")  # one unknown word still refuses
    assert not still.found


def test_rule_of_another_city_is_attributed_to_it(bot):
    ans = bot.ask("随州市学校领导每学期听课多少节？")
    assert ans.found is False
    assert "随州市" in ans.answer and "清远市" in ans.answer
    assert all(c.region == "清远市" for c in ans.citations)


def test_region_filter_scopes_the_search(bot):
    ans = bot.ask("教师培训经费", regions=["隨州"])
    assert ans.found and {c.region for c in ans.citations} == {"随州市"}


def test_unknown_region_is_a_usage_error(bot):
    with pytest.raises(UsageError, match="本库没有“火星市”的文件"):
        bot.ask("教师培训经费", regions=["火星市"])


def test_followup_reuses_rank_question(bot):
    state = ChatState()
    first = bot.ask("我是中学一级教师，5年内要参加几项课题研究？", state=state)
    assert first.found and "1" in first.answer
    second = bot.ask("那中学高级呢？", state=state)
    assert second.found and "县级" in t2s(second.answer)
    assert second.citations[0].clause == "三(二)4"


def test_followup_switches_city(bot):
    state = ChatState()
    bot.ask("清远市教师培训费占公用经费的比例是多少？", state=state)
    ans = bot.ask("随州呢？", state=state)
    assert ans.found and ans.citations[0].region == "随州市" and "5%" in ans.answer


def test_comparison_in_chat_has_a_row_per_city(bot):
    ans = bot.ask("比较清远和随州的教师培训经费规定")
    assert ans.found
    rows = {r["地区"]: r for r in ans.table}
    assert set(rows) == {"清远市", "随州市"}
    assert rows["清远市"]["条款"] == "四(三)" and rows["随州市"]["条款"] == "六(二)"


def test_comparison_marks_cities_that_say_nothing(bot):
    ans = bot.ask("哪些城市提到集团化办学？")
    rows = {r["地区"]: r for r in ans.table}
    assert rows["清远市"]["规定"] != "未规定"
    assert rows["克拉玛依市"]["规定"] == "未规定"
    # "哪些城市" is answered by the names first; the cities that say nothing are summed up, not listed
    named = [r for r, row in rows.items() if row["规定"] != "未规定"]
    assert ans.answer.splitlines()[0].startswith(f"提到“集团化办学”的有：{'、'.join(named)}（共{len(named)}个地区）")
    assert "克拉玛依市：未规定" not in ans.answer


def test_comparison_finds_a_city_that_words_the_topic_differently(bot):
    # 通用 says 课后看护 and 托管, not 课后服务: still a row with its clause, not 未规定
    rows = {r["地区"]: r for r in bot.ask("哪些文件对课后服务作了规定？").table}
    assert rows["随州市"]["条款"] == "二(六)" and rows["通用"]["条款"] == "五(二)"


def test_which_places_question_names_its_topic_only(bot):
    ans = bot.ask("哪些地方提到了名师工作室？")
    assert ans.found and "“名师工作室”" in ans.answer.splitlines()[0]


def test_a_follow_up_without_an_earlier_question_asks_for_the_whole_question(bot):
    ans = bot.ask("那清远呢？")
    assert not ans.found and not ans.citations
    assert "上一个问题" in ans.answer and "那 呢" not in ans.answer


@pytest.mark.parametrize("bad", ["", "   \n", "教" * 5000, "\x00\x01\x02\x03\x04garbage\x05", "hello world"])
def test_bad_questions_are_usage_errors(bot, bad):
    with pytest.raises(UsageError):
        bot.ask(bad)


def test_eval_targets_hold(bot):
    """The public eval set, in process: the README's targets are regression tests."""
    from evals.run import load_cases, run_assistant, summarize

    s = summarize(run_assistant(bot, load_cases()))
    assert s["recall@5"] >= 0.95, s
    assert s["answer_accuracy"] >= 0.90, s
    assert s["abstention_accuracy"] == 1.0, s
    assert s["quote_validity"] == 1.0, s


# ---- CLI ---------------------------------------------------------------
def run_cli(args: list[str], data_dir, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, ZHENGCE_DATA_DIR=str(data_dir))
    env.pop("ZHENGCE_LLM_BASE_URL", None)
    return subprocess.run([sys.executable, "-m", "assistant", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)


def test_cli_batch_json_one_object_per_line(built_index):
    questions = "学校领导每学期听课多少节？\n\n深圳市教师住房补贴多少？\n清遠市教研員配備比例是多少？\n"
    r = run_cli(["ask", "--json"], built_index, stdin=questions)
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(lines) == 4
    assert lines[0]["found"] and lines[0]["citations"][0]["clause"] == "三(一)1"
    assert "error" in lines[1] and lines[1]["found"] is False  # the empty line
    assert lines[2]["found"] is False and lines[2]["citations"] == []
    assert lines[3]["script"] == "traditional"
    assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.parametrize("args,needle", [
    (["ask", "--json", "--region", "火星市", "教师培训经费"], "本库没有“火星市”的文件"),
    (["ask", "   "], "问题是空的"),
    (["ask", "教" * 5000], "问题太长"),
    (["frobnicate"], "invalid choice"),
])
def test_cli_usage_errors_exit_2_without_traceback(built_index, args, needle):
    r = run_cli(args, built_index)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr


def test_cli_region_and_compare(built_index):
    r = run_cli(["ask", "--json", "--region", "随州市", "教师培训经费"], built_index)
    out = json.loads(r.stdout)
    assert r.returncode == 0 and {c["region"] for c in out["citations"]} == {"随州市"}
    r = run_cli(["compare", "集团化办学", "--regions", "清远市", "克拉玛依市", "--csv"], built_index)
    assert r.returncode == 0
    assert "清远市" in r.stdout and "未规定" in r.stdout


def test_cli_missing_index_is_a_clear_message(tmp_path):
    r = run_cli(["ask", "学校领导每学期听课多少节？"], tmp_path / "nothing-here")
    assert r.returncode == 1 and "python -m ingest corpus/" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: 还没有索引")  # told in Chinese first, at the edge


@pytest.mark.parametrize("question,places", [
    ("深圳市中小学教师住房补贴每月有多少钱？", ("深圳市",)),
    ("株洲市教师培训经费怎么安排？", ("株洲市",)),
    ("东莞的教研员怎么配？", ("东莞市",)),
    ("和平县的教研员怎么配？", ("和平县",)),
    ("一个县教师总数1200人，按规定应配多少名教研员？", ()),
    ("某市各县学校领导听课多少节？", ()),
    ("哪些城市提到集团化办学？", ()),
])
def test_unknown_places_are_told_apart_from_quantities(bot, question, places):
    assert bot.parse(question).unknown_places == places


def test_calculation_routes_to_tool_with_citation(bot):
    ans = bot.ask("一个县教师总数1200人，按规定应配多少名教研员？")
    assert ans.found and ans.tool_calls[0].name == "calculate"
    assert ans.tool_calls[0].result["value"] == 6
    assert (ans.citations[0].region, ans.citations[0].clause) == ("清远市", "三(五)1")


@pytest.mark.parametrize("topic", ["集团化办学", "教师培训经费", "课后服务", "教研员配备", "名师工作室"])
def test_many_region_comparison_agrees_with_per_region_search(bot, monkeypatch, topic):
    """Past HYBRID_REGIONS cities one BM25 pass replaces per-city searches; the rows must not change."""
    import assistant.compare as cmp

    per_city = [(r.region, r.found, r.citation and r.citation.clause) for r in cmp.compare(bot.retriever, topic)]
    monkeypatch.setattr(cmp, "HYBRID_REGIONS", 0)
    one_pass = [(r.region, r.found, r.citation and r.citation.clause) for r in cmp.compare(bot.retriever, topic)]
    assert one_pass == per_city
