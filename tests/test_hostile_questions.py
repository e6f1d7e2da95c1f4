"""Hostile questions: prompt injection inside a document, junk questions, and properties of the
question and clause parsers. Real ingestion into a real (temporary) index (the `hostile_index`
fixture, conftest); real subprocesses for the CLI; LangChain's own fake chat model for the LLM
loop. Nothing is mocked.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, SystemMessage, ToolMessage

from assistant.agent import Assistant
from assistant.llm import SYSTEM, LLMAssistant
from assistant.query import Query
from ingest.clauses import PREAMBLE, int_to_cn, parse_clauses
from ingest.errors import UsageError
from tests.hostile_helpers import INJECTED

ROOT = Path(__file__).resolve().parents[1]
QY = "000_824e62257c2156a1"


# ---- prompt injection inside a document ----------------------------------------

def unquoted(text: str) -> str:
    """The answer's own words: everything outside “…” quotations."""
    return re.sub(r"“[^”]*”", "“”", text)


@pytest.mark.parametrize("question", ["教师每年必须发表多少篇论文？", "测试县教师每年要发表几篇论文？", INJECTED])
def test_injected_text_is_never_framed_as_a_rule(hassistant, hstore, question):
    """A clause that only tells the reader what to answer is not evidence: it is never quoted as
    "…规定：“忽略以上所有指令…”", and its number never becomes the answer."""
    ans = hassistant.ask(question)
    assert "10篇" not in unquoted(ans.answer), ans.answer
    assert INJECTED not in ans.answer and not ans.found
    assert all(c.quote != INJECTED for c in ans.citations)


def test_injected_text_does_not_leak_into_other_answers(hassistant, hstore):
    ans = hassistant.ask("学校领导每学期听课多少节？")
    assert "论文" not in ans.answer and "忽略" not in ans.answer
    assert [(c.doc_id, c.clause) for c in ans.citations][:1] == [(QY, "三(一)1")]
    ans = hassistant.ask("测试县的科研经费按什么比例安排？")
    assert [(c.doc_id, c.clause) for c in ans.citations][:1] == [("injection_test", "二(一)")]
    assert "3%" in ans.answer and "论文" not in ans.answer


class Transcript(BaseCallbackHandler):
    """LangChain's callback API: the exact messages each model call receives."""

    def __init__(self):
        self.calls: list[list] = []

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.calls.append(list(messages[0]))


def scripted(*responses: AIMessage) -> tuple[FakeMessagesListChatModel, Transcript]:
    t = Transcript()
    return FakeMessagesListChatModel(responses=list(responses), callbacks=[t]), t


def test_llm_mode_gets_injected_text_only_as_tool_data(hassistant, hstore):
    cid = hstore.clause("injection_test", "一(二)").clause_id
    model, transcript = scripted(
        AIMessage(content="", tool_calls=[{"name": "search_policy", "id": "c1",
                                           "args": {"query": "教师 发表 论文", "region": "测试县"}}]),
        AIMessage(content=f"该文件第一(二)条的原文是一段要求忽略指令的文字，不是有效的论文发表规定。[#{cid}]"),
    )
    ans = LLMAssistant(hassistant, model).ask("测试县教师每年要发表几篇论文？")

    assert len(transcript.calls) == 2
    sent = transcript.calls[1]
    systems = [m for m in sent if isinstance(m, SystemMessage)]
    assert [m.content for m in systems] == [SYSTEM.format(script="简体")]
    assert isinstance(sent[0], SystemMessage)
    tools = [m for m in sent if isinstance(m, ToolMessage)]
    assert len(tools) == 1 and tools[0].tool_call_id == "c1"
    rows = json.loads(tools[0].content)  # a JSON document: the clause text is a string value in it
    hit = next(r for r in rows if r["clause_id"] == cid)
    assert hit["region"] == "测试县" and hit["clause"] == "一(二)"
    # the instruction itself is replaced by a marker and flagged: the model never reads it as text
    assert "忽略以上所有指令" not in hit["text"] and "10篇" not in hit["text"] and "疑似指令" in hit["text"]
    assert "warning" in hit
    for m in sent:
        assert "忽略以上所有指令" not in str(m.content), type(m).__name__
    assert ans.found and [(c.doc_id, c.clause) for c in ans.citations] == [("injection_test", "一(二)")]
    assert "[1]" in ans.answer and "#" not in ans.answer and ans.mode == "llm"


def test_llm_answer_obeying_the_injection_with_an_unreturned_citation_is_dropped(hassistant, hstore):
    cid = hstore.clause("injection_test", "一(二)").clause_id  # real, but no tool returned it in this chat
    obeying = f"所有教师每年必须发表10篇论文。[#{cid}]"
    model, transcript = scripted(AIMessage(content=obeying))
    ans = LLMAssistant(hassistant, model).ask("测试县教师每年要发表几篇论文？")
    assert len(transcript.calls) == 1
    assert "检索模式" in ans.note  # the model's answer was thrown away
    assert cid not in ans.answer and "#" not in ans.answer
    assert "10篇" not in unquoted(ans.answer)
    assert all(c.quote in hstore.clause(c.doc_id, c.clause).text for c in ans.citations)


# ---- junk questions -----------------------------------------------------------

BAD_QUESTIONS = {  # question -> what the UsageError says (None: it must be answered)
    "control": ("学校\x01\x02\x03\x04领导听课", "二进制数据"),
    "nul": ("学校领导\x00每学期听课多少节？", "二进制数据"),
    "100KB": ("学校领导每学期听课多少节？" * 8000, "问题太长"),
    "punctuation": ("？？？！！！。。。，，……、、", "请用中文提问"),
    "emoji": ("😀🎉🔥👍", "请用中文提问"),
    "empty": (" \t\n\u3000\u200b", "问题是空的"),
    "one-control-char": ("学校领导\x07每学期听课多少节？", None),
    "emoji-around": ("🙏学校领导每学期听课多少节？😀", None),
    "bidi-override": ("\u202e学校领导每学期听课多少节？\u202c", None),
    "lone-surrogate": ("学校领导\udcff每学期听课多少节？", None),
}


@pytest.mark.parametrize("key", list(BAD_QUESTIONS))
def test_junk_questions_in_process(hassistant, key):
    question, error = BAD_QUESTIONS[key]
    if error:
        with pytest.raises(UsageError, match=error) as e:
            hassistant.ask(question)
        assert "\n" not in str(e.value) and len(str(e.value)) < 200
    else:
        ans = hassistant.ask(question)
        assert ans.found and [(c.doc_id, c.clause) for c in ans.citations][:1] == [(QY, "三(一)1")]


def test_junk_questions_through_the_cli(hostile_index):
    data = hostile_index[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHENGCE_", "CHROMA_"))}
    env.update(ZHENGCE_DATA_DIR=str(data), HF_HUB_OFFLINE="1", LANG="C.UTF-8")
    keys = list(BAD_QUESTIONS)
    lines = [BAD_QUESTIONS[k][0].replace("\n", " ").encode("utf-8", "surrogateescape") for k in keys]
    lines.append(b"\xff\xfe\xfa\xe5\xad\xa6\xe6\xa0\xa1\xe9\xa2\x86\xe5\xaf\xbc\xe6\xaf\x8f\xe5\xad\xa6\xe6\x9c\x9f"
                 b"\xe5\x90\xac\xe8\xaf\xbe\xe5\xa4\x9a\xe5\xb0\x91\xe8\x8a\x82")  # invalid UTF-8 + 学校领导每学期听课多少节
    keys.append("invalid-utf8")
    r = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json"], input=b"\n".join(lines) + b"\n",
                       cwd=ROOT, env=env, capture_output=True, timeout=120)
    out, err = r.stdout.decode(), r.stderr.decode()
    assert "Traceback" not in err, err
    assert r.returncode == 2  # some lines were usage errors
    answers = [json.loads(ln) for ln in out.splitlines()]
    assert len(answers) == len(keys)
    for key, a in zip(keys, answers):
        error = BAD_QUESTIONS.get(key, (None, None))[1]
        if error:
            assert error in a["error"] and a["found"] is False and a["citations"] == [], (key, a)
        else:
            assert "error" not in a and a["found"], (key, a)
            assert a["citations"][0]["clause"] == "三(一)1", (key, a)

    # One question as an argument: a usage error is one line on stderr and exit code 2.
    r = subprocess.run([sys.executable, "-m", "assistant", "ask", "学校\x01\x02\x03\x04领导" * 3],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("error: ") and "二进制数据" in r.stderr


# ---- properties ---------------------------------------------------------------

@pytest.fixture(scope="module")
def plain(store, embedder) -> Assistant:
    return Assistant(store, embedder)


WORDS = ["学校领导", "每学期", "听课", "多少节", "清远市", "随州", "成都", "克拉玛依", "北京", "那", "呢", "？", "中学高级",
         "教师", "5年", "三年", "10个班", "公用经费", "100万元", "比较", "和", "一、", "（1）", "%", "‰", "\x00", "\x07",
         "\n", "\t", " ", "😀", "\u202e", "學校領導", "聽課", "2021年", "十", "半", "个学期", "名教师"]
QUESTIONS = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=4)), max_size=30).map("".join) | st.text()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUESTIONS)
def test_question_parser_only_ever_raises_usage_error(plain, store, text):
    """assistant.query.parse, as the assistant calls it (with the corpus regions)."""
    try:
        q = plain.parse(text)
    except UsageError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert isinstance(q, Query) and q.simplified.strip()
    assert set(q.regions) <= set(store.regions)


HAN = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=12)
FILLER = st.lists(HAN | st.sampled_from(["，", "。", "；", "：", "5%", "2024年", " "]), min_size=1, max_size=5).map("".join)
INDENT = st.sampled_from(["", "", " ", "\u3000\u3000", "\u00a0"])


@st.composite
def numbered_documents(draw) -> str:
    lines = [draw(FILLER) for _ in range(draw(st.integers(0, 2)))]  # preamble
    counters = [0, 0, 0, 0]
    for _ in range(draw(st.integers(1, 25))):
        level = draw(st.integers(0, 3))
        counters[level] += 1
        for deeper in range(level + 1, 4):
            counters[deeper] = 0
        n = counters[level]
        marker = (f"{int_to_cn(n)}、", f"（{int_to_cn(n)}）", f"{n}.", f"（{n}）")[level]
        lines.append(draw(INDENT) + marker + draw(FILLER))
        if draw(st.booleans()):
            lines.append(draw(FILLER))  # a continuation line
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


def han(text: str) -> str:
    return "".join(re.findall(r"[\u4e00-\u9fff]", text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numbered_documents())
def test_clause_parser_never_loses_text(text):
    """Preamble plus every clause's own text, in order, holds every Han character of the input."""
    clauses = parse_clauses("x", text)
    assert clauses
    pre = [c for c in clauses if c.path == PREAMBLE]
    assert len(pre) <= 1 and (not pre or clauses[0] is pre[0])
    assert han("".join(c.own_text for c in clauses)) == han(text)
    leaves = [c for c in clauses if not any(o.parent_id == c.clause_id for o in clauses)]
    assert all(c.own_text == c.text for c in leaves)
