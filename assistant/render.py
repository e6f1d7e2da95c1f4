"""HTML for the web app: answers with numbered citations, the 计算过程 of tool calls,
and a whole clause with the quoted words highlighted. Everything user- or
document-provided is escaped: a policy page may carry <script>."""
from __future__ import annotations

import html
from typing import Any

TOOL_LABELS = {
    "research_quota": "课题研究数量",
    "observation_quota": "听课节数",
    "budget_floors": "经费下限",
    "research_staff": "教研员配备",
    "studio_required": "名师工作室",
    "experimental_school_priority": "实验校",
    "meeting_frequency": "会议频次",
    "expert_count": "专家人数",
    "mentor_count": "导师人数",
    "staffing_review_year": "编制核定",
}


def esc(s: Any) -> str:
    return html.escape(str(s), quote=False)


def highlight(text: str, quote: str) -> str:
    """The clause text, HTML-escaped, with the quoted words wrapped in <mark>."""
    i = text.find(quote) if quote else -1
    if i < 0:
        return esc(text)
    return f"{esc(text[:i])}<mark>{esc(quote)}</mark>{esc(text[i + len(quote):])}"


def citation_label(n: int, c) -> str:
    return f"[{n}] {c.region} {c.clause} 《{c.title}》"


def render_answer(answer) -> str:
    parts = [esc(answer.answer).strip()]
    if answer.note:
        parts.append(f"*（{esc(answer.note)}）*")
    if answer.citations:
        lines = [f"[{n}] {esc(c.region)}《{esc(c.title)}》{esc(c.clause)}：“{esc(c.quote)}”"
                 for n, c in enumerate(answer.citations, 1)]
        parts.append("**出处**（点击下方的引用可查看条款全文）\n" + "\n".join(lines))
    for t in answer.tool_calls:
        parts.append(render_tool_call(t))
    return "\n\n".join(parts)


def _kv(d: dict) -> str:
    return "，".join(f"{esc(k)} = {esc(v)}" for k, v in d.items() if v not in (None, "", [], {})) or "（无）"


def render_tool_call(t) -> str:
    r = t.result or {}
    label = TOOL_LABELS.get(t.name, t.name)
    rows = [f"<b>工具</b>：{esc(label)}（<code>{esc(t.name)}</code>）", f"<b>输入</b>：{_kv(t.args)}"]
    for c in r.get("citations") or []:
        rows.append(f"<b>规则</b>：{esc(c['region'])}《{esc(c['title'])}》{esc(c['clause'])}：“{esc(c['quote'])}”")
    if r.get("conditions"):
        rows.append(f"<b>条件</b>：{_kv(r['conditions'])}")
    if r.get("ok"):
        value = r.get("value")
        value = {True: "是", False: "否"}.get(value, value) if isinstance(value, bool) else value
        rows.append(f"<b>结果</b>：{esc(value)}{esc(r.get('unit') or '')}")
    elif r.get("error"):
        rows.append(f"<b>结果</b>：无法计算（{esc(r['error'])}）")
    else:
        rows.append("<b>结果</b>：缺少条件，见上方选项")
    if r.get("explanation"):
        rows.append(f"<b>说明</b>：{esc(r['explanation'])}")
    return "<details class=\"calc\"><summary>计算过程</summary>" + "<br>".join(rows) + "</details>"


def render_clause(store, doc_id: str, clause_id: str, path: str, quote: str = "") -> str:
    clause = store.clauses.get(clause_id) if clause_id else None
    if clause is None:
        clause = store.clause(doc_id, path)
    doc = store.docs.get(doc_id)
    if clause is None or doc is None:
        return ("<div class='clause-card'>这条引用的文件已更新或被移除，无法显示原文；"
                f"引文：“{esc(quote)}”</div>")
    crumbs = []
    for p in clause.parents:
        parent = store.clause(doc_id, p)
        crumbs.append(f"{esc(p)} {esc(parent.heading) if parent else ''}".strip())
    meta = doc.meta
    extra = " · ".join(esc(x) for x in (meta.issuer, meta.doc_number, meta.date) if x)
    return (
        "<div class='clause-card'>"
        f"<div class='clause-title'>《{esc(meta.title)}》</div>"
        f"<div class='clause-meta'>地区：{esc(meta.region)}{' · ' + extra if extra else ''}</div>"
        f"<div class='clause-path'>条款：<b>{esc(clause.path)}</b> {esc(clause.heading)}"
        + (f"<span class='crumbs'>（{' › '.join(crumbs)}）</span>" if crumbs else "")
        + "</div>"
        f"<div class='clause-text'>{highlight(clause.text, quote)}</div>"
        "</div>"
    )


def error_html(msg: str) -> str:
    return f"<div class='clause-card'>{esc(msg)}</div>"
