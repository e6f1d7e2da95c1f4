"""The 对比 and 文件 tabs, and the status line at the top of the page."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import gradio as gr

from ingest.errors import UsageError
from ingest import messages
from web.api import report
from web.render import (COMPARE_CLASSES, COMPARE_HEADERS, DOC_CLASSES, DOC_HEADERS, error_html, esc, hint_html,
                         render_clause, table_html)
from web.service import MAX_UPLOAD_BYTES, UPLOAD_TYPES, Service


class Data:
    """What the page shows about the index; read fresh on every call (uploads change it)."""

    def __init__(self, service: Service):
        self.service = service

    def regions(self) -> list[str]:
        return self.service.get().store.regions if self.service.ready else []

    def doc_rows(self) -> list[list]:
        if not self.service.ready:
            return []
        return [[_title_cell(d), d["region"], d["issuer"] or "", d["date"] or "", d["doc_number"] or "", d["clauses"]]
                for d in self.service.get().store.summary()]

    def doc_table(self) -> str:
        return table_html(DOC_HEADERS, self.doc_rows(), DOC_CLASSES, "索引建好后，这里列出已收录的文件。")

    def doc_choices(self) -> list[tuple[str, str]]:
        if not self.service.ready:
            return []
        return [(f"{d['region']}｜{d['title']}", d["doc_id"]) for d in self.service.get().store.summary()
                if not d.get("superseded_by")]  # an old version has no clauses in the live index to browse

    def status_html(self) -> str:
        s = self.service
        if s.ready:
            store = s.get().store
            degraded = store.vector_status()  # a Chroma server that does not answer: say so above the chat
            banner = f"<div class='status warn' id='degraded'>⚠️ {esc(degraded)}。</div>" if degraded else ""
            return (banner + f"<div class='status ok'>已加载 {len(store.docs)} 份文件、{len(store.clauses)} 个条款 · "
                    f"地区：{esc('、'.join(store.regions))}</div>")
        if s.error:
            from ingest.errors import IndexMissingError

            return f"<div class='status err'>索引不可用：{esc(messages.zh(IndexMissingError(s.error)))}</div>"
        frac, _msg = s.progress
        return (f"<div class='status busy'>首次启动：正在从 corpus/ 建立索引（{frac:.0%}），"
                f"这时提出的问题会在索引建好后自动回答。<br><progress value='{frac:.3f}' max='1'></progress></div>")


def _title_cell(d: dict) -> str:
    """The title, with the version it is: an old one says what replaced it and what changed."""
    if d.get("superseded_by"):
        return f"{d['title']}（旧版本 {d['doc_id']}，已被取代，不再用于回答；新版本改动：{d.get('change') or '-'}）"
    if d.get("change"):
        return f"{d['title']}（新版本，改动：{d['change']}）"
    return d["title"]


class CompareTab:
    def __init__(self, service: Service, data: Data):
        self.service, self.data = service, data

    def build(self, regions: list[str]) -> None:
        from assistant.compare import TOPICS

        gr.Markdown("选择一个主题和若干城市，逐市列出原文规定；文件没有提到的记为“未规定”。")
        with gr.Row():
            self.topic = gr.Dropdown(choices=list(TOPICS), value=TOPICS[0], allow_custom_value=True,
                                     label="对比主题（可输入其他主题）", elem_id="topic", scale=2)
            self.regions = gr.CheckboxGroup(choices=regions, value=[], label="城市（不选 = 全部）",
                                            elem_id="compare-regions", scale=3)
            self.btn = gr.Button("对比", variant="primary", elem_id="compare-btn", scale=1)
        self.msg = gr.Markdown("", elem_id="compare-msg")
        self.table = gr.HTML("", elem_id="compare-table")
        self.file = gr.File(label="下载 CSV", interactive=False, elem_id="compare-csv")

    def run(self, topic: str, regions: list[str] | None):
        from assistant.compare import NOT_SET, to_csv
        from assistant.compare import compare as run_compare

        try:
            topic = (topic or "").strip()
            if not topic:
                raise UsageError(messages.EMPTY_TOPIC)
            a = self.service.get()
            rows = run_compare(a.retriever, topic, a.store.check_regions(regions or None))
        except Exception as e:
            return "", None, f"⚠️ {esc(report(e, 'compare'))}"
        table = [[r.region, r.requirement, r.citation.clause if r.citation else "",
                  r.citation.title if r.citation else ""] for r in rows]
        slug = re.sub(r"[^\w-]+", "_", topic)[:40]
        out = Path(tempfile.mkdtemp(prefix="zhengce-csv-")) / f"对比_{slug}.csv"
        out.write_text(to_csv(rows), encoding="utf-8-sig")  # BOM: Excel opens the Chinese columns right
        found = sum(r.found for r in rows)
        msg = f"“{esc(topic)}”：{found}/{len(rows)} 个地区有规定；“{NOT_SET}”表示该地区的文件没有提到。"
        return table_html(COMPARE_HEADERS, table, COMPARE_CLASSES), str(out), msg

    def wire(self) -> None:
        self.btn.click(self.run, [self.topic, self.regions], [self.table, self.file, self.msg],
                       api_visibility="private")


class DocsTab:
    def __init__(self, service: Service, data: Data):
        self.service, self.data = service, data

    def build(self) -> None:
        self.table = gr.HTML(self.data.doc_table(), elem_id="doc-table")
        with gr.Row():
            with gr.Column(scale=2):
                self.picker = gr.Dropdown(choices=self.data.doc_choices(), value=None, label="选择文件，浏览条款",
                                          elem_id="doc-picker")
                self.tree = gr.Radio(choices=[], label="条款目录", elem_id="clause-tree", elem_classes="clause-tree")
            with gr.Column(scale=3):
                self.clause = gr.HTML(hint_html(messages.NO_DOCUMENT), elem_id="doc-clause")
        gr.Markdown(f"#### 上传文件\n支持 {' '.join(UPLOAD_TYPES)}，单个文件不超过 "
                    f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB。导入后立即可以检索。"
                    "文件名和地区取自文件内容（如“××市教育局关于……”）。")
        # No file_types here: Gradio's own refusal is an English toast; the server refuses in Chinese instead.
        self.upload = gr.File(label="上传政策文件", type="filepath", elem_id="upload")
        self.upload_msg = gr.Markdown("", elem_id="upload-msg")

    def clause_choices(self, doc_id: str | None):
        if not doc_id:
            return gr.update(choices=[], value=None), hint_html(messages.NO_DOCUMENT)
        try:
            store = self.service.get().store
            items = [("　" * (c.level - 1) + ("└ " if c.level > 1 else "")
                      + (c.path if c.heading in ("", c.path) else f"{c.path}  {c.heading}"), c.clause_id)
                     for c in store.clauses_of(doc_id)]
        except Exception as e:
            return gr.update(choices=[], value=None), error_html(report(e, "documents"))
        if not items:
            return gr.update(choices=[], value=None), error_html("这份文件没有识别出条款。")
        return gr.update(choices=items, value=None), hint_html(f"共 {len(items)} 个条款，点击左侧条款查看全文。")

    def show_clause(self, doc_id: str | None, clause_id: str | None):
        if not clause_id:
            return gr.update()
        try:
            store = self.service.get().store
            c = store.clauses.get(clause_id)
            if c is None:
                return error_html("该条款已不在当前索引中，请重新选择文件。")
            return render_clause(store, c.doc_id, clause_id, c.path)
        except Exception as e:
            return error_html(report(e, "documents"))

    def wire(self, refresh_outputs: list, on_upload) -> None:
        ui = dict(api_visibility="private")
        self.picker.change(self.clause_choices, self.picker, [self.tree, self.clause], **ui)
        self.tree.change(self.show_clause, [self.picker, self.tree], self.clause, **ui)
        self.upload.upload(on_upload, self.upload, refresh_outputs + [self.upload_msg, self.upload],
                           show_progress_on=[self.upload_msg], **ui)
