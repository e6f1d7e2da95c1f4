"""The web app: chat with citations, city comparison, document browser and upload.

    python app.py [--host 127.0.0.1] [--port 7860] [--data-dir DIR] [--corpus DIR]

Environment (read here only): ZHENGCE_HOST, ZHENGCE_PORT, ZHENGCE_DATA_DIR and
everything `ingest.settings.Settings.from_env` reads (embedder, Chroma, LLM).
If the data directory has no index yet, the app starts at once and builds it
from corpus/ in the background, showing the progress at the top of the page.

API (gradio_client): `/ask` (question, regions, script) -> the JSON contract of
`Answer.to_json()` (plus "error" when the request was refused), `/compare`
(topic, regions) -> one row dict per region, `/documents` -> the document list.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402

from ingest.errors import UsageError, ZhengceError  # noqa: E402
from ingest.settings import Settings  # noqa: E402
from assistant.render import esc, citation_label, error_html, render_answer, render_clause  # noqa: E402
from assistant.service import CORPUS, MAX_UPLOAD_BYTES, UPLOAD_TYPES, Service, log  # noqa: E402

ROOT = Path(__file__).resolve().parent
SCRIPTS = {"simplified", "traditional"}

TEACHER_EXAMPLES = [
    "我是中学一级教师，5年内要参加几项课题研究？",
    "学校领导一学年要听多少节课？",
    "我们学校30个班，要不要建名师工作室？",
]
BUREAU_EXAMPLES = [
    "比较清远和随州的教师培训经费规定",
    "哪些城市提到集团化办学？",
    "清远市教研员配备比例是多少？",
]


# ---------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------
def friendly(e: Exception) -> str:
    if isinstance(e, ZhengceError):
        return str(e)
    traceback.print_exc()
    return f"内部错误（{type(e).__name__}），请稍后重试或换一种问法。"


def _script(value: str | None) -> str | None:
    return value if value in SCRIPTS else None


def build(service: Service) -> gr.Blocks:
    from assistant.agent import ChatState
    from assistant.compare import NOT_SET, TOPICS, to_csv
    from assistant.compare import compare as run_compare

    def regions_now() -> list[str]:
        return service.get().store.regions if service.ready else []

    def doc_rows() -> list[list]:
        if not service.ready:
            return []
        return [[d["title"], d["region"], d["issuer"] or "", d["date"] or "", d["doc_number"] or "", d["clauses"]]
                for d in service.get().store.summary()]

    def doc_choices() -> list[tuple[str, str]]:
        if not service.ready:
            return []
        return [(f"{d['region']}｜{d['title']}", d["doc_id"]) for d in service.get().store.summary()]

    def status_html() -> str:
        if service.ready:
            store = service.get().store
            return (f"<div class='status ok'>已加载 {len(store.docs)} 份文件、{len(store.clauses)} 个条款 · "
                    f"地区：{esc('、'.join(store.regions))}</div>")
        if service.error:
            return f"<div class='status err'>索引不可用：{esc(service.error)}</div>"
        frac, msg = service.progress
        return (f"<div class='status busy'>首次启动：正在从 corpus/ 建立索引（{frac:.0%} {esc(msg)}），"
                f"完成后即可提问。<br><progress value='{frac:.3f}' max='1'></progress></div>")

    # ---- chat ----
    def submit(question: str, history: list):
        question = (question or "").strip()
        history = list(history or [])
        if question:
            history.append({"role": "user", "content": question})
        return "", question, history

    def respond(question: str, history: list, state: ChatState | None, regions: list[str] | None,
                script: str | None):
        history = list(history or [])
        state = state if isinstance(state, ChatState) else ChatState()
        try:
            answer = service.get().ask(question, regions or None, state=state, script=_script(script))
        except Exception as e:
            history.append({"role": "assistant", "content": f"⚠️ 无法回答：{esc(friendly(e))}"})
            return history, state, [], gr.update(choices=[], value=None), \
                "<div class='clause-card hint'>没有可查看的引用。</div>"
        history.append({"role": "assistant", "content": render_answer(answer)})
        cites = [dataclasses.asdict(c) for c in answer.citations]
        choices = [(citation_label(n, c), str(n - 1)) for n, c in enumerate(answer.citations, 1)]
        hint = ("<div class='clause-card hint'>点击上面的引用，查看条款全文（引文以黄色标出）。</div>" if cites
                else "<div class='clause-card hint'>这个回答没有引用。</div>")
        return history, state, cites, gr.update(choices=choices, value=None), hint

    def show_citation(choice: str | None, cites: list[dict]):
        if choice is None or not cites:
            return gr.update()
        try:
            c = cites[int(choice)]
            return render_clause(service.get().store, c["doc_id"], c.get("clause_id", ""), c["clause"], c["quote"])
        except (IndexError, ValueError):
            return error_html("这条引用已失效，请重新提问。")
        except Exception as e:
            return error_html(friendly(e))

    def clear():
        return [], ChatState(), [], gr.update(choices=[], value=None), \
            "<div class='clause-card hint'>提问后，回答中的引用会列在这里。</div>", ""

    # ---- compare ----
    def compare_ui(topic: str, regions: list[str] | None):
        try:
            topic = (topic or "").strip()
            if not topic:
                raise UsageError("请选择或输入一个对比主题，例如 教师培训经费")
            a = service.get()
            scope = a.store.check_regions(regions or None)
            rows = run_compare(a.retriever, topic, scope)
        except Exception as e:
            return gr.update(value=None), None, f"⚠️ {esc(friendly(e))}"
        table = [[r.region, r.requirement, r.citation.clause if r.citation else "",
                  r.citation.title if r.citation else ""] for r in rows]
        slug = re.sub(r"[^\w-]+", "_", topic)[:40]
        out = Path(tempfile.mkdtemp(prefix="zhengce-csv-")) / f"对比_{slug}.csv"
        out.write_text(to_csv(rows), encoding="utf-8-sig")  # BOM: Excel opens the Chinese columns right
        found = sum(r.found for r in rows)
        msg = f"“{esc(topic)}”：{found}/{len(rows)} 个地区有规定；“{NOT_SET}”表示该地区的文件没有提到。"
        return gr.update(value=table), str(out), msg

    # ---- documents ----
    def clause_choices(doc_id: str | None):
        if not doc_id:
            return gr.update(choices=[], value=None), "<div class='clause-card hint'>请先选择一份文件。</div>"
        try:
            store = service.get().store
            items = [("　" * (c.level - 1) + ("└ " if c.level > 1 else "")
                      + (c.path if c.heading in ("", c.path) else f"{c.path}  {c.heading}"), c.clause_id)
                     for c in store.clauses_of(doc_id)]
        except Exception as e:
            return gr.update(choices=[], value=None), error_html(friendly(e))
        if not items:
            return gr.update(choices=[], value=None), error_html("这份文件没有识别出条款。")
        return gr.update(choices=items, value=None), \
            f"<div class='clause-card hint'>共 {len(items)} 个条款，点击左侧条款查看全文。</div>"

    def show_clause(doc_id: str | None, clause_id: str | None):
        if not clause_id:
            return gr.update()
        try:
            store = service.get().store
            c = store.clauses.get(clause_id)
            if c is None:
                return error_html("该条款已不在当前索引中，请重新选择文件。")
            return render_clause(store, c.doc_id, clause_id, c.path)
        except Exception as e:
            return error_html(friendly(e))

    def upload(file, progress=gr.Progress()):
        if not file:
            return (gr.update(),) * 5 + (None,)
        path = Path(file if isinstance(file, str) else getattr(file, "name", file))
        original = getattr(file, "orig_name", None) or path.name
        try:
            msg = service.add_upload(path, original, progress)
        except Exception as e:
            msg = f"⚠️ 无法导入 {esc(Path(str(original)).name)}：{esc(friendly(e))}（索引没有任何改动）"
            return (gr.update(),) * 4 + (msg, None)
        regions = regions_now()
        return (gr.update(value=doc_rows()), gr.update(choices=doc_choices()), gr.update(choices=regions),
                gr.update(choices=regions), msg, None)

    # ---- page refresh (start-up progress, data that may have changed since start) ----
    def refresh():
        regions = regions_now()
        return (status_html(), gr.Timer(active=not service.ready and not service.error),
                gr.update(choices=regions), gr.update(choices=regions),
                gr.update(value=doc_rows()), gr.update(choices=doc_choices()))

    # ---- API (gradio_client) ----
    def api_ask(question: str, regions: list[str] | None = None, script: str | None = None) -> dict:
        """Answer one question. Returns the Answer JSON contract; on a refused request also "error"."""
        try:
            return service.get().ask(question, regions or None, script=_script(script)).to_json()
        except Exception as e:
            msg = friendly(e)
            return {"answer": msg, "found": False, "citations": [], "tool_calls": [],
                    "script": _script(script) or "simplified", "error": msg}

    def api_compare(topic: str, regions: list[str] | None = None) -> list[dict]:
        """Compare a topic across regions: one row per region (地区/规定/条款/文件/原文)."""
        if not (topic or "").strip():
            raise gr.Error("the topic is empty; e.g. 教师培训经费")
        try:
            a = service.get()
            return [r.as_dict() for r in run_compare(a.retriever, topic.strip(), a.store.check_regions(regions or None))]
        except ZhengceError as e:
            raise gr.Error(str(e)) from None

    def api_documents() -> list[dict]:
        """The indexed documents (title, region, issuer, date, doc number, clause count)."""
        try:
            return service.get().store.summary()
        except ZhengceError as e:
            raise gr.Error(str(e)) from None

    regions0 = regions_now()
    with gr.Blocks(title="政策问答 · 教育政策引用助手", analytics_enabled=False) as demo:
        gr.Markdown("## 教育政策问答\n回答只来自已收录的政策原文，每句结论都标注出处 [1] [2]，可点开核对条款全文。")
        status = gr.HTML(status_html(), elem_id="status")
        timer = gr.Timer(1.0, active=not service.ready)
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="对话", height=460, elem_id="chatbot", buttons=["copy"],
                                             feedback_options=None, group_consecutive_messages=False,
                                             placeholder="请在下方输入问题，或点击示例问题。")
                        with gr.Row():
                            box = gr.Textbox(placeholder="输入问题，例如：学校领导一学年要听多少节课？", show_label=False,
                                             scale=5, elem_id="question", lines=1, max_lines=4, submit_btn=False)
                            send = gr.Button("提问", variant="primary", scale=1, elem_id="send", min_width=80)
                        with gr.Row(elem_classes="examples"):
                            gr.Markdown("**教师常问：**", elem_classes="ex-label")
                            teacher_btns = [gr.Button(q, size="sm", elem_classes="ex") for q in TEACHER_EXAMPLES]
                        with gr.Row(elem_classes="examples"):
                            gr.Markdown("**教育局常问：**", elem_classes="ex-label")
                            bureau_btns = [gr.Button(q, size="sm", elem_classes="ex") for q in BUREAU_EXAMPLES]
                    with gr.Column(scale=1, min_width=220):
                        region_dd = gr.Dropdown(choices=regions0, value=[], multiselect=True, label="地区范围",
                                                info="不选 = 全部地区", elem_id="regions")
                        script_radio = gr.Radio([("跟随提问", "auto"), ("简体", "simplified"), ("繁體", "traditional")],
                                                value="auto", label="回答字体 简/繁", elem_id="script")
                        clear_btn = gr.Button("新对话", size="sm")
                gr.Markdown("#### 引用原文")
                cite_radio = gr.Radio(choices=[], label="本回答的引用（点击查看条款全文）", elem_id="citations",
                                      elem_classes="cite-list")
                cite_panel = gr.HTML("<div class='clause-card hint'>提问后，回答中的引用会列在这里。</div>",
                                     elem_id="clause-panel")
                chat_state = gr.State(ChatState())
                cites_state = gr.State([])
                pending = gr.State("")

            with gr.Tab("对比", id="compare"):
                gr.Markdown("选择一个主题和若干城市，逐市列出原文规定；文件没有提到的记为“未规定”。")
                with gr.Row():
                    topic_dd = gr.Dropdown(choices=list(TOPICS), value=TOPICS[0], allow_custom_value=True,
                                           label="对比主题（可输入其他主题）", elem_id="topic", scale=2)
                    cmp_regions = gr.CheckboxGroup(choices=regions0, value=[], label="城市（不选 = 全部）",
                                                   elem_id="compare-regions", scale=3)
                    cmp_btn = gr.Button("对比", variant="primary", elem_id="compare-btn", scale=1)
                cmp_msg = gr.Markdown("", elem_id="compare-msg")
                cmp_table = gr.Dataframe(headers=["地区", "规定", "条款", "文件"], value=None, interactive=False,
                                         wrap=True, elem_id="compare-table", column_widths=["10%", "56%", "10%", "24%"])
                cmp_file = gr.File(label="下载 CSV", interactive=False, elem_id="compare-csv")

            with gr.Tab("文件", id="docs"):
                doc_table = gr.Dataframe(headers=["标题", "地区", "发文机关", "日期", "文号", "条款数"],
                                         value=doc_rows(), interactive=False, wrap=True, elem_id="doc-table")
                with gr.Row():
                    with gr.Column(scale=2):
                        doc_dd = gr.Dropdown(choices=doc_choices(), value=None, label="选择文件，浏览条款",
                                             elem_id="doc-picker")
                        clause_radio = gr.Radio(choices=[], label="条款目录", elem_id="clause-tree",
                                                elem_classes="clause-tree")
                    with gr.Column(scale=3):
                        clause_panel = gr.HTML("<div class='clause-card hint'>请先选择一份文件。</div>",
                                               elem_id="doc-clause")
                gr.Markdown(f"#### 上传文件\n支持 {' '.join(UPLOAD_TYPES)}，单个文件不超过 "
                            f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB。导入后立即可以检索。"
                            "文件名和地区取自文件内容（如“××市教育局关于……”）。")
                up_file = gr.File(label="上传政策文件", file_types=UPLOAD_TYPES, type="filepath", elem_id="upload")
                up_msg = gr.Markdown("", elem_id="upload-msg")

        # ---- wiring ----
        ui = dict(api_visibility="private")
        answer_io = dict(fn=respond, inputs=[pending, chatbot, chat_state, region_dd, script_radio],
                         outputs=[chatbot, chat_state, cites_state, cite_radio, cite_panel],
                         show_progress_on=[chatbot], **ui)
        for trigger in (box.submit, send.click):
            trigger(submit, [box, chatbot], [box, pending, chatbot], queue=False, **ui).then(**answer_io)
        for b in teacher_btns + bureau_btns:
            b.click(lambda q=b.value: q, None, box, queue=False, **ui).then(
                submit, [box, chatbot], [box, pending, chatbot], queue=False, **ui).then(**answer_io)
        cite_radio.change(show_citation, [cite_radio, cites_state], cite_panel, **ui)
        clear_btn.click(clear, None, [chatbot, chat_state, cites_state, cite_radio, cite_panel, pending],
                        queue=False, **ui)

        cmp_btn.click(compare_ui, [topic_dd, cmp_regions], [cmp_table, cmp_file, cmp_msg], **ui)
        doc_dd.change(clause_choices, doc_dd, [clause_radio, clause_panel], **ui)
        clause_radio.change(show_clause, [doc_dd, clause_radio], clause_panel, **ui)
        up_file.upload(upload, up_file, [doc_table, doc_dd, region_dd, cmp_regions, up_msg, up_file],
                       show_progress_on=[up_msg], **ui)

        refresh_out = [status, timer, region_dd, cmp_regions, doc_table, doc_dd]
        timer.tick(refresh, None, refresh_out, show_progress="hidden", **ui)
        demo.load(refresh, None, refresh_out, show_progress="hidden", **ui)

        gr.api(api_ask, api_name="ask")
        gr.api(api_compare, api_name="compare")
        gr.api(api_documents, api_name="documents")
    return demo


CSS = """
#status .status { font-size: 0.9em; padding: 4px 8px; border-radius: 6px; }
#status .ok { color: #3b6e3b; background: #eef7ee; }
#status .busy { color: #7a5b00; background: #fff8e1; }
#status .err { color: #a40000; background: #fdecea; }
#status progress { width: 100%; height: 10px; }
.examples { align-items: center; gap: 6px; flex-wrap: wrap; }
.examples .ex-label { flex: 0 0 auto !important; min-width: 0 !important; }
.examples .ex { flex: 0 1 auto !important; min-width: 0 !important; }
.clause-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 12px 14px;
               background: var(--background-fill-secondary); line-height: 1.7; }
.clause-card.hint { color: var(--body-text-color-subdued); }
.clause-title { font-weight: 600; font-size: 1.05em; }
.clause-meta, .crumbs { color: var(--body-text-color-subdued); font-size: 0.9em; }
.clause-text { white-space: pre-wrap; margin-top: 8px; }
.clause-text mark { background: #ffe066; padding: 0 2px; border-radius: 2px; }
.cite-list .wrap { flex-direction: column; align-items: flex-start; }
.clause-tree .wrap { flex-direction: column; align-items: stretch; max-height: 460px; overflow-y: auto;
                     flex-wrap: nowrap; }
.clause-tree label { white-space: pre; }
details.calc { margin-top: 6px; border-left: 3px solid #9db4d6; padding-left: 8px; }
details.calc summary { cursor: pointer; font-weight: 600; }
"""

THEME_FONTS = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "sans-serif"]


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    ap = argparse.ArgumentParser(prog="python app.py", description="Web app for the education-policy assistant.")
    ap.add_argument("--host", default=env.get("ZHENGCE_HOST") or "127.0.0.1", help="env ZHENGCE_HOST")
    ap.add_argument("--port", type=int, default=int(env.get("ZHENGCE_PORT") or 7860), help="env ZHENGCE_PORT")
    ap.add_argument("--data-dir", type=Path, help="index directory (env ZHENGCE_DATA_DIR, default .zhengce)")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="documents to index on first start (default corpus/)")
    ap.add_argument("--no-llm", action="store_true", help="ignore ZHENGCE_LLM_* and answer in retrieval mode")
    args = ap.parse_args(argv)
    settings = Settings.from_env(env, data_dir=args.data_dir)
    service = Service(settings, args.corpus, use_llm=not args.no_llm)
    service.start()
    demo = build(service)
    demo.queue(default_concurrency_limit=4, max_size=64)
    theme = gr.themes.Soft(font=THEME_FONTS, font_mono=["monospace"])
    t0 = time.monotonic()
    demo.launch(server_name=args.host, server_port=args.port, share=False, inbrowser=False,
                max_file_size=MAX_UPLOAD_BYTES, theme=theme, css=CSS, footer_links=["api", "settings"], run_history=False,
                show_error=False, quiet=False)
    log(f"stopped after {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
