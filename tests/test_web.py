"""The web app's pieces without a browser: rendering, Chinese messages, history + feedback, feedback CSV."""
from __future__ import annotations

import csv
import io
import re
from types import SimpleNamespace
from urllib.parse import unquote

import pytest

from ingest.errors import BadDocumentError, IndexMissingError, ToolInputError, UsageError
from ingest.types import Answer, Citation, ToolCall
from ingest import messages
from web.feedback import run as feedback_run
from web.history import History, new_id
from web.render import answer_markdown, answer_text, highlight, render_answer, spans_of

CLAUSE_TEXT = "1.强化管理。学校领导每人每学期校内听课不少于30节,处室干部每学期不少于25节。<script>x</script>"


class FakeStore:
    def __init__(self):
        c = SimpleNamespace(clause_id="c1", doc_id="d1", path="三(一)1", heading="强化管理", text=CLAUSE_TEXT,
                            parents=("三",))
        parent = SimpleNamespace(path="三", heading="具体工作措施")
        self.clauses = {"c1": c}
        self.docs = {"d1": SimpleNamespace(meta=SimpleNamespace(title="清远市<计划>", region="清远市", issuer=None,
                                                                  doc_number=None, date=None))}
        self._by_path = {("d1", "三(一)1"): c, ("d1", "三"): parent}

    def clause(self, doc_id, path):
        return self._by_path.get((doc_id, path))


def _answer(**kw) -> Answer:
    c1 = Citation("d1", "清远市<计划>", "清远市", "三(一)1", "学校领导每人每学期校内听课不少于30节", "c1")
    c2 = Citation("d1", "清远市<计划>", "清远市", "三(一)1", "处室干部每学期不少于25节", "c1")
    base = dict(answer="学校领导：“学校领导每人每学期校内听课不少于30节”[1]；干部：“处室干部每学期不少于25节”[2]",
                found=True, citations=(c1, c2),
                tool_calls=(ToolCall("observation_quota", {"role": "学校领导", "semesters": 1},
                                     {"ok": True, "value": 30, "unit": "节", "conditions": {"role_as": "学校领导"},
                                      "citations": [c1.public()], "explanation": "每学期30节。"}),))
    base.update(kw)
    return Answer(**base)


def test_answer_html_has_clickable_numbers_and_its_own_clauses():
    html = render_answer(_answer(), FakeStore())
    assert "\n" not in html  # one HTML block: the chat's Markdown must not split it
    assert html.count('class="zc-cite zc-n1"') == 1 and html.count('class="zc-cite zc-n2"') == 1
    cards = re.findall(r'<div class="zc-card zc-n(\d)">', html)
    assert cards == ["1", "2"]
    assert html.count("<mark>") == 4  # both quoted spans marked in each card
    assert "<script>" not in html and "&lt;script&gt;" in html and "清远市&lt;计划&gt;" in html
    assert "observation_quota" not in html and "role_as" not in html  # no internal names in 计算过程
    assert "三 具体工作措施 › <b>三(一)1</b> 强化管理" in html


def test_highlight_marks_every_span_and_escapes():
    text = "甲乙丙<丁>甲乙"
    assert spans_of(text, ["甲乙", "乙丙"]) == [(0, 3), (6, 8)]
    assert highlight(text, ["甲乙", "<丁>"]) == "<mark>甲乙</mark>丙<mark>&lt;丁&gt;甲乙</mark>"  # adjacent spans merge


def test_clean_text_and_markdown_carry_numbered_sources():
    a = _answer()
    text = answer_text(a)
    assert "出处：\n[1] 清远市《清远市<计划>》三(一)1：“学校领导每人每学期校内听课不少于30节”" in text
    assert "[2] 清远市" in text and "计算过程：" in text and "结果：30节" in text
    assert not re.search(r"\*\*|<b>|<details", text)
    md = answer_markdown(a, "学校领导听课多少节？")
    assert md.startswith("### 问：学校领导听课多少节？") and "**出处**" in md and "- [1] 清远市" in md
    html = render_answer(a, FakeStore())
    hidden = re.search(r'<span class="zc-plain zc-plain-text">([^<]*)</span>', html).group(1)
    assert unquote(hidden) == text


@pytest.mark.parametrize("exc, expected", [
    (UsageError("the question is empty; ask e.g. 学校领导一学年要听多少节课？"), "问题是空的"),
    (UsageError("the question is too long (6000 characters; at most 2000)"), "问题太长（6000 个字符，最多 2000 个）"),
    (UsageError("unknown region '火星市'; the corpus has: 清远市、随州市"), "没有“火星市”的文件；本库收录的地区：清远市、随州市"),
    (BadDocumentError("not a readable PDF (PdfStreamError)"), "不是可读取的 PDF 文件"),
    (BadDocumentError("unsupported file type '.exe' (use txt, md, html, docx or pdf)"), "不支持的文件类型“.exe”"),
    (IndexMissingError("the index at x is damaged (bad manifest); fix: python -m ingest --rebuild corpus/"),
     "索引已损坏"),
    (ToolInputError("年数必须大于0，收到：-1"), "年数必须大于0，收到：-1"),
    (UsageError("some brand new english message nobody translated"), "无法处理这个请求"),
    (KeyError("boom"), "内部错误"),
])
def test_every_error_becomes_one_chinese_sentence(exc, expected):
    msg = messages.zh(exc)
    assert expected in msg
    assert not re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{2,}", msg.replace("python -m ingest --rebuild corpus/", ""))


def test_error_kinds():
    assert messages.kind(UsageError("x")) == "bad_request"
    assert messages.kind(ToolInputError("x")) == "bad_input"
    assert messages.kind(BadDocumentError("x")) == "bad_document"
    assert messages.kind(ValueError("x")) == "internal"


def test_history_is_per_browser_and_feedback_reaches_the_csv(tmp_path, capsys):
    h = History(tmp_path)
    me, other, conv = new_id(), new_id(), new_id()
    h.add(me, conv, "user", "学校领导听课多少节？", "学校领导听课多少节？")
    a = _answer()
    data = dict(a.to_json(), note="")
    mid = h.add(me, conv, "assistant", a.answer, "<div>…</div>", data)
    assert [c["id"] for c in h.conversations(me)] == [conv]
    assert h.conversations(other) == [] and h.messages(other, conv) == []
    with pytest.raises(ValueError):
        h.add(other, conv, "user", "偷看", "偷看")
    assert not h.rate(other, mid, "down")  # only the browser that got the answer rates it
    assert h.rate(me, mid, "up") and h.rate(me, mid, "down")
    assert h.comment(me, mid, "应给出一学年的节数")

    assert feedback_run(tmp_path, as_csv=True) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 1
    r = rows[0]
    assert (r["评价"], r["意见"], r["问题"]) == ("👎", "应给出一学年的节数", "学校领导听课多少节？")
    assert r["出处"].startswith("[1] 清远市《清远市<计划>》三(一)1：“学校领导每人每学期")
    assert feedback_run(tmp_path) == 0
    assert "共 1 条评价" in capsys.readouterr().out


def test_feedback_without_a_database_says_so_in_chinese(tmp_path, capsys):
    assert feedback_run(tmp_path / "none", as_csv=True) == 0
    out = capsys.readouterr()
    assert out.out.startswith("时间,评价,意见") and "还没有网页评价记录" in out.err
