"""HTML and text for the web app.

An answer becomes one self-contained block: the answer text with every [n] a
button, a numbered source list, the 计算过程, and — hidden until a [n] is
clicked — the whole cited clause of every source with each quoted span
highlighted. So every answer in a conversation (and in the saved history) keeps
its own sources. The same answer as clean text and Markdown (numbered sources:
document, clause, quote) rides along in data attributes for copy and export.

Everything user- or document-provided is escaped: a policy page may carry <script>.
"""
from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

from ingest.textnorm import book

TOOL_LABELS = {"calculate": "政策计算", "check_eligibility": "适用判断", "rule_sum": "金额合计"}
# Inputs and conditions of the calculators, in words a teacher uses. Keys not listed here are internal
# (intermediate values) and are not shown.
ARG_LABELS = {
    "rank": "职称", "rank_as": "按职称", "years": "年数", "period_years": "周期（年）", "full_periods": "完整周期数",
    "level": "课题级别", "mode": "参与方式", "role": "岗位", "role_as": "按岗位", "semesters": "学期数",
    "school_years": "学年数", "counted_semesters": "计入的学期数", "people": "人数", "region": "地区",
    "public_funds": "学校年度公用经费（元）", "wage_total": "教师工资总额（元）", "teachers": "教师人数",
    "per_mille": "配备比例（‰）", "classes": "班级数", "min_classes": "至少班级数", "deadline": "期限",
    "min_years": "至少年数", "kind": "会议类型", "kind_as": "按会议类型", "period": "周期",
    "at_least": "至少", "schools": "学校数", "per_school": "每校", "last_year": "上次核定年份",
    "topic": "事项", "stage": "学段", "units": "单位数", "per_unit": "每单位", "base": "基数", "base_of": "基数是",
    "base_label": "规定的基数", "rate": "比例", "since_year": "上次年份", "unit": "单位", "value": "数值",
    "per_period": "每周期数量", "periods": "周期数", "comparator": "要求", "threshold": "门槛",
}


def esc(s: Any) -> str:
    return html.escape(str(s), quote=False)


def _lines(s: str) -> str:
    """Escaped text with line breaks as <br> (the chat renders Markdown; an HTML block must have no blank line)."""
    return "<br>".join(esc(x) for x in s.strip().split("\n"))


def plain_blocks(text: str, markdown: str) -> str:
    """The answer as clean text and as Markdown, hidden, for the page script's copy and export buttons.
    The chat's sanitizer drops data-* attributes and its Markdown renderer would rewrite the text, so
    it rides percent-encoded (which neither touches) in hidden elements; the script decodes it."""
    return (f'<span class="zc-plain zc-plain-text">{quote(text, safe="")}</span>'
            f'<span class="zc-plain zc-plain-md">{quote(markdown, safe="")}</span>')


# ---------------------------------------------------------------------------
# highlighting
# ---------------------------------------------------------------------------
def spans_of(text: str, quotes) -> list[tuple[int, int]]:
    """Every occurrence of every quote in text, merged into non-overlapping (start, end) spans."""
    found = []
    for q in {q for q in quotes if q and len(q) >= 2}:
        i = text.find(q)
        while i >= 0:
            found.append((i, i + len(q)))
            i = text.find(q, i + 1)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(found):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def highlight(text: str, quotes) -> str:
    """The clause text, escaped, with every quoted span in <mark> and line breaks as <br>."""
    if isinstance(quotes, str):
        quotes = [quotes]
    out, pos = [], 0
    for s, e in spans_of(text, quotes):
        out.append(_lines_keep(text[pos:s]))
        out.append(f"<mark>{_lines_keep(text[s:e])}</mark>")
        pos = e
    out.append(_lines_keep(text[pos:]))
    return "".join(out)


def _lines_keep(s: str) -> str:
    return "<br>".join(esc(x) for x in s.split("\n"))


def quoted_in(answer_text: str) -> list[str]:
    """The verbatim quotes “…” an answer text contains."""
    return [m for m in re.findall(r"“([^”]{2,})”", answer_text or "")]


# ---------------------------------------------------------------------------
# one clause
# ---------------------------------------------------------------------------
def clause_card(store, doc_id: str, clause_id: str, path: str, quotes=(), n: int | None = None) -> str:
    """The whole clause: document, region, heading path, text with the quoted spans marked."""
    clause = store.clauses.get(clause_id) if clause_id else None
    if clause is None:
        clause = store.clause(doc_id, path)
    doc = store.docs.get(doc_id)
    num = f"<span class='zc-num'>[{n}]</span> " if n else ""
    if clause is None or doc is None:
        q = "”“".join(esc(x) for x in quotes if x)
        return ("<div class='clause-card zc-gone'>" + num + "这条引用的文件已更新或被移除，无法显示原文"
                + (f"；引文：“{q}”" if q else "") + "。</div>")
    crumbs = []
    for p in clause.parents:
        parent = store.clause(doc_id, p)
        crumbs.append(f"{esc(p)} {esc(parent.heading) if parent else ''}".strip())
    crumbs.append(f"<b>{esc(clause.path)}</b> {esc(clause.heading)}".strip())
    meta = doc.meta
    extra = " · ".join(esc(x) for x in (meta.issuer, meta.doc_number, meta.date) if x)
    return (
        "<div class='clause-card'>"
        f"<div class='clause-title'>{num}{esc(book(meta.title))}</div>"
        f"<div class='clause-meta'>地区：{esc(meta.region)}{' · ' + extra if extra else ''}</div>"
        f"<div class='clause-path'>条款：{' › '.join(crumbs)}</div>"
        f"<div class='clause-text'>{highlight(clause.text, list(quotes))}</div>"
        "</div>"
    )


def render_clause(store, doc_id: str, clause_id: str, path: str, quote: str = "") -> str:
    """One clause for the documents tab (quote optional)."""
    return clause_card(store, doc_id, clause_id, path, [quote] if quote else [])


def error_html(msg: str) -> str:
    return f"<div class='clause-card'>{esc(msg)}</div>"


def hint_html(msg: str) -> str:
    return f"<div class='clause-card hint'>{esc(msg)}</div>"


# ---------------------------------------------------------------------------
# an answer
# ---------------------------------------------------------------------------
def citation_label(n: int, c) -> str:
    return f"[{n}] {c.region} {c.clause} {book(c.title)}"


def _cite_buttons(text_html: str, count: int) -> str:
    def repl(m):
        n = int(m.group(1))
        if 1 <= n <= count:
            return f'<button type="button" class="zc-cite zc-n{n}" title="查看出处 [{n}]">[{n}]</button>'
        return m.group(0)

    return re.sub(r"\[(\d{1,2})\]", repl, text_html)


def render_answer(answer, store=None, suggestions=()) -> str:
    """The answer as one HTML block for the chat (see the module docstring); `suggestions` are follow-up
    questions shown as buttons that ask them."""
    n_cites = len(answer.citations)
    parts = [f"<div class='zc-text'>{_cite_buttons(_lines(answer.answer), n_cites)}</div>"]
    if answer.note:
        parts.append(f"<div class='zc-note'>（{esc(answer.note)}）</div>")
    if n_cites:
        items = "".join(
            f'<li><button type="button" class="zc-src zc-n{n}" title="查看出处 [{n}]">[{n}]</button> '
            f"{esc(c.region)}《{esc(c.title)}》{esc(c.clause)}</li>"
            for n, c in enumerate(answer.citations, 1))
        parts.append(f"<div class='zc-sources'><span class='zc-sources-h'>出处（点击编号查看条款全文）</span>"
                     f"<ol>{items}</ol></div>")
    for t in answer.tool_calls:
        if t.name != "search_policy":  # a search is not a calculation
            parts.append(render_tool_call(t))
    if n_cites and store is not None:
        in_text = quoted_in(answer.answer)
        cards = []
        for n, c in enumerate(answer.citations, 1):
            quotes = [c.quote] + [o.quote for o in answer.citations if o.clause_id == c.clause_id and o.clause_id]
            quotes += in_text  # every quoted span of the answer that is in this clause
            cards.append(f'<div class="zc-card zc-n{n}">'
                         f"{clause_card(store, c.doc_id, c.clause_id, c.clause, quotes, n)}</div>")
        parts.append("<div class='zc-cards'>" + "".join(cards) + "</div>")
    if suggestions:
        chips = "".join(f'<button type="button" class="zc-suggest">{esc(q)}</button>' for q in suggestions)
        parts.append(f"<div class='zc-suggestions'><span>接着问：</span>{chips}</div>")
    parts.append('<div class="zc-actions">'
                 '<button type="button" class="zc-copy">复制</button>'
                 '<button type="button" class="zc-export">导出 Markdown</button></div>')
    parts.append(plain_blocks(answer_text(answer), answer_markdown(answer)))
    return "<div class='zc-answer'>" + "".join(parts) + "</div>"


def render_error(msg: str) -> str:
    return (f"<div class='zc-answer zc-error'><div class='zc-text'>⚠️ {esc(msg)}</div>"
            f"{plain_blocks(msg, msg)}</div>")


def render_notice(msg: str) -> str:
    return f"<div class='zc-answer zc-wait'><div class='zc-text'>⏳ {esc(msg)}</div></div>"


# ---------------------------------------------------------------------------
# the 计算过程 of a calculator
# ---------------------------------------------------------------------------
def _value(v: Any) -> str | None:
    if isinstance(v, bool):
        return "是" if v else "否"
    if v in (None, "", [], {}):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, (list, dict)):
        return None
    s = str(v)
    return None if re.fullmatch(r"[A-Za-z_]+", s) else s


def _kv(d: dict) -> list[tuple[str, str]]:
    out = []
    for k, v in (d or {}).items():
        label, shown = ARG_LABELS.get(k), _value(v)
        if label and shown is not None:
            out.append((label, shown))
    return out


def tool_steps(t) -> list[tuple[str, str]]:
    """The calculation as (label, text) rows: 计算, 输入, 条件, 规则, 结果, 说明 — no internal names."""
    r = t.result or {}
    rows = [("计算", TOOL_LABELS.get(t.name, "政策计算"))]
    inputs = _kv(t.args)
    rows.append(("输入", "，".join(f"{k} = {v}" for k, v in inputs) or "（无）"))
    cond = [(k, v) for k, v in _kv(r.get("conditions") or {}) if (k, v) not in inputs]
    if cond:
        rows.append(("条件", "，".join(f"{k} = {v}" for k, v in cond)))
    for c in r.get("citations") or []:
        rows.append(("规则", f"{c['region']}《{c['title']}》{c['clause']}：“{c['quote']}”"))
    if r.get("ok"):
        value = _value(r.get("value"))
        rows.append(("结果", f"{value}{r.get('unit') or ''}" if value is not None else "见说明"))
    elif r.get("error"):
        rows.append(("结果", f"无法计算（{r['error']}）"))
    else:
        rows.append(("结果", "缺少条件，见上方选项"))
    if r.get("explanation"):
        rows.append(("说明", r["explanation"]))
    return rows


def render_tool_call(t) -> str:
    body = "<br>".join(f"<b>{esc(k)}</b>：{esc(v)}" for k, v in tool_steps(t))
    return f'<details class="calc"><summary>计算过程</summary>{body}</details>'


# ---------------------------------------------------------------------------
# clean text and Markdown (copy, export, conversation export, feedback CSV)
# ---------------------------------------------------------------------------
def source_line(n: int, c) -> str:
    return f"[{n}] {c.region}《{c.title}》{c.clause}：“{c.quote}”"


def answer_text(answer) -> str:
    """Plain text for Word or WeChat: the answer, then numbered sources with their quotes."""
    out = [answer.answer.strip()]
    if answer.note:
        out.append(f"（{answer.note}）")
    if answer.citations:
        out.append("出处：\n" + "\n".join(source_line(n, c) for n, c in enumerate(answer.citations, 1)))
    for t in (t for t in answer.tool_calls if t.name != "search_policy"):
        out.append("计算过程：\n" + "\n".join(f"{k}：{v}" for k, v in tool_steps(t)))
    return "\n\n".join(out)


def _md_escape(s: str) -> str:
    return re.sub(r"([\\`*_#|<>])", r"\\\1", s)


def answer_markdown(answer, question: str | None = None) -> str:
    out = []
    if question:
        out.append(f"### 问：{_md_escape(question.strip())}")
    out.append("  \n".join(_md_escape(x) for x in answer.answer.strip().split("\n")))
    if answer.note:
        out.append(f"*（{_md_escape(answer.note)}）*")
    if answer.citations:
        out.append("**出处**\n\n" + "\n".join(f"- {_md_escape(source_line(n, c))}"
                                             for n, c in enumerate(answer.citations, 1)))
    for t in (t for t in answer.tool_calls if t.name != "search_policy"):
        out.append("**计算过程**\n\n" + "\n".join(f"- {k}：{_md_escape(v)}" for k, v in tool_steps(t)))
    return "\n\n".join(out)


# ---------------------------------------------------------------------------
# tables (a table on a desktop, one card per row on a phone: see .zc-table in web/assets.py)
# ---------------------------------------------------------------------------
def table_html(headers: list[str], rows: list[list], classes: list[str] | None = None, empty: str = "") -> str:
    """A plain HTML table; every cell carries its header (data-label) for the phone layout."""
    if not rows:
        return f"<div class='clause-card hint'>{esc(empty)}</div>" if empty else ""
    classes = classes or [""] * len(headers)
    head = "".join(f"<th class='{c}'>{esc(h)}</th>" for h, c in zip(headers, classes))
    body = "".join(
        "<tr>" + "".join(f"<td class='{c}{'' if str(v).strip() else ' empty'}' data-label='{esc(h)}'>{esc(v)}</td>"
                         for h, c, v in zip(headers, classes, r)) + "</tr>"
        for r in rows)
    return f"<table class='zc-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


COMPARE_HEADERS = ["地区", "规定", "条款", "文件"]
COMPARE_CLASSES = ["c-region", "c-rule", "c-clause", "c-doc"]
DOC_HEADERS = ["标题", "地区", "发文机关", "日期", "文号", "条款数"]
DOC_CLASSES = ["c-title", "c-region", "c-issuer", "c-date", "c-number", "c-count"]
