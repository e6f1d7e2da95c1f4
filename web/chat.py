"""The 问答 tab: chat with clickable sources, the panel beside it, history per browser, feedback, export."""
from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import gradio as gr

from web.api import report, script_of
from web.assets import PANEL_HINT, panel_html
from web.history import History, new_id, valid_id
from web.render import answer_markdown, esc, render_answer, render_error, render_notice
from web.service import Service

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
INDEX_WAIT_S = 900  # a question asked while the index builds waits this long for it
# Follow-ups worth suggesting after a calculator's answer; each is tried before it is shown.
FOLLOW_UPS = {
    "calculate": ["那一学年呢？", "那中学高级呢？", "10年内呢？"],
    "check_eligibility": ["20个班呢？"],
}
_ASKS_AMOUNT = re.compile(r"多少|几")
MAX_SUGGESTIONS = 2
MAX_PROBES = 4


class ChatTab:
    """Builds the tab's components (inside the caller's gr.Blocks) and wires their events."""

    def __init__(self, service: Service, history: History, secret: str):
        self.service = service
        self.history = history
        self.secret = secret
        self._nonce = 0

    # ------------------------------------------------------------------ layout
    def build(self, regions: list[str]) -> None:
        self.browser = gr.BrowserState("", storage_key="zhengce-browser", secret=self.secret)
        self.conv = gr.State("")
        self.msg_ids = gr.State([])
        self.chat_state = gr.State(None)
        self.pending = gr.State("")
        self.fb_target = gr.State(None)
        with gr.Row(elem_id="chat-row"):
            with gr.Column(scale=3, min_width=320):
                self.chatbot = gr.Chatbot(
                    show_label=False, height=520, elem_id="chatbot", buttons=[], autoscroll=False,
                    group_consecutive_messages=False, latex_delimiters=[], line_breaks=False,
                    placeholder="请在下方输入问题，或点击示例问题。回答中的 [1] [2] 可点击查看条款原文。")
                with gr.Row():
                    self.box = gr.Textbox(placeholder="输入问题，例如：学校领导一学年要听多少节课？", show_label=False,
                                          scale=5, elem_id="question", lines=1, max_lines=4, submit_btn=False)
                    self.send = gr.Button("提问", variant="primary", scale=1, elem_id="send", min_width=80)
                with gr.Row(elem_classes="examples"):
                    gr.Markdown("**教师常问：**", elem_classes="ex-label")
                    self.example_btns = [gr.Button(q, size="sm", elem_classes="ex") for q in TEACHER_EXAMPLES]
                with gr.Row(elem_classes="examples"):
                    gr.Markdown("**教育局常问：**", elem_classes="ex-label")
                    self.example_btns += [gr.Button(q, size="sm", elem_classes="ex") for q in BUREAU_EXAMPLES]
                with gr.Group(visible=False, elem_id="feedback-box") as self.fb_box:
                    self.fb_text = gr.Textbox(label="哪里不对？（可选，写给维护人员）", lines=2, max_lines=6,
                                              elem_id="feedback-text")
                    self.fb_send = gr.Button("提交意见", size="sm", elem_id="feedback-send")
                self.fb_msg = gr.Markdown("", elem_id="feedback-msg")
            with gr.Column(scale=2, min_width=300, elem_id="side"):
                self.panel = gr.HTML(panel_html(), elem_id="clause-panel")
                with gr.Row():
                    self.new_btn = gr.Button("新对话", size="sm", elem_id="new-chat")
                    self.export_btn = gr.Button("导出对话", size="sm", elem_id="export-chat")
                self.export_file = gr.File(label="对话记录（Markdown）", visible=False, interactive=False,
                                           elem_id="export-file")
                with gr.Accordion("地区范围与字体", open=False):
                    self.region_dd = gr.Dropdown(choices=regions, value=[], multiselect=True, label="地区范围",
                                                 info="不选 = 全部地区", elem_id="regions")
                    self.script_radio = gr.Radio([("跟随提问", "auto"), ("简体", "simplified"), ("繁體", "traditional")],
                                                 value="auto", label="回答字体 简/繁", elem_id="script")
                self.history_radio = gr.Radio(choices=[], value=None, label="历史对话", elem_id="history")

    # ------------------------------------------------------------------ helpers
    def _panel_reset(self, hint: str = PANEL_HINT) -> str:
        self._nonce += 1
        return panel_html(hint, self._nonce)

    def _history_choices(self, browser: str, current: str | None = None):
        items = []
        for c in self.history.conversations(browser):
            when = time.strftime("%m-%d %H:%M", time.localtime(c["updated"]))
            items.append((f"{c['title']}（{when}）", c["id"]))
        ids = {i for _, i in items}
        return gr.update(choices=items, value=current if current in ids else None)

    def _restore(self, browser: str, conv: str):
        """(chatbot messages, message ids, ChatState) of a saved conversation."""
        from assistant.agent import ChatState

        chat, ids, state = [], [], ChatState()
        rows = self.history.messages(browser, conv)
        for m in rows:
            chat.append({"role": m["role"], "content": m["html"]})
            ids.append(m["id"])
        # follow-ups (那一学年呢？) continue from the last question of the conversation
        try:
            if self.service.ready:
                a = self.service.get()
                for m in rows:
                    if m["role"] == "user":
                        state.last = a.parse(m["text"], state)
        except Exception:
            state = ChatState()
        return chat, ids, state

    # ------------------------------------------------------------------ handlers
    def init(self, browser: str | None):
        """Page load: give the browser an id, reopen its latest conversation, list the others."""
        if not valid_id(browser):
            browser = new_id()
        convs = self.history.conversations(browser)
        if convs:
            conv = convs[0]["id"]
            chat, ids, state = self._restore(browser, conv)
        else:
            from assistant.agent import ChatState

            conv, chat, ids, state = new_id(), [], [], ChatState()
        return browser, conv, chat, ids, state, self._history_choices(browser, conv if convs else None), \
            self._panel_reset()

    def submit(self, question: str, chat: list, ids: list):
        question = (question or "").strip()
        chat, ids = list(chat or []), list(ids or [])
        if question:
            chat.append({"role": "user", "content": esc(question)})
            ids.append(None)
        return "", question, chat, ids

    def respond(self, question: str, chat: list, ids: list, state, regions, script, browser: str, conv: str):
        from assistant.agent import ChatState

        chat, ids = list(chat or []), list(ids or [])
        state = state if isinstance(state, ChatState) else ChatState()
        if not valid_id(browser):
            browser = new_id()
        if not valid_id(conv):
            conv = new_id()
        # A question asked while the index is being built waits for it, with a visible notice.
        if question and not self.service.ready and not self.service.error:
            chat.append({"role": "assistant", "content": ""})
            ids.append(None)
            deadline = time.monotonic() + INDEX_WAIT_S
            while not self.service.wait_ready(1.0) and not self.service.error and time.monotonic() < deadline:
                frac, _ = self.service.progress
                chat[-1] = {"role": "assistant", "content": render_notice(
                    f"索引正在建立（{frac:.0%}），建立完成后会自动回答这个问题，请不要关闭页面。")}
                yield chat, ids, state, gr.update(), browser, conv
            chat.pop()
            ids.pop()
        try:
            a = self.service.get()
            answer = a.ask(question, regions or None, state=state, script=script_of(script))
            html = render_answer(answer, a.store, self._suggest(a, answer, state, regions, script))
        except Exception as e:
            chat.append({"role": "assistant", "content": render_error(f"无法回答：{report(e, 'chat')}")})
            ids.append(None)
            yield chat, ids, state, gr.update(), browser, conv
            return
        data = answer.to_json()
        data["citations"] = [dict(c.public(), clause_id=c.clause_id) for c in answer.citations]
        data["note"] = answer.note
        try:
            q_id = self.history.add(browser, conv, "user", question, esc(question))
            a_id = self.history.add(browser, conv, "assistant", answer.answer, html, data)
            if ids and ids[-1] is None and chat and chat[-1]["role"] == "user":
                ids[-1] = q_id
        except Exception as e:  # history is a convenience: never lose the answer over it
            report(e, "history")
            a_id = None
        chat.append({"role": "assistant", "content": html})
        ids.append(a_id)
        yield chat, ids, state, self._history_choices(browser, conv), browser, conv

    def _suggest(self, a, answer, state, regions, script) -> list[str]:
        """Up to two follow-up questions that this conversation can answer (each one is asked first)."""
        from assistant.agent import ChatState
        from ingest.types import GENERIC_REGION

        if not answer.found or answer.table:
            return []
        cands = [q for t in answer.tool_calls for q in FOLLOW_UPS.get(t.name, [])]
        if not answer.tool_calls and state.last is not None and _ASKS_AMOUNT.search(state.last.simplified):
            # a quantity read from a clause (每学期…30节) is one a span or a rank may change: the calculator's follow-ups
            cands += FOLLOW_UPS["calculate"][:2]
        if not answer.tool_calls and not regions:
            cited = {c.region for c in answer.citations}
            cands += [f"{r}呢？" for r in a.store.regions if r not in cited and r != GENERIC_REGION]
        out = []
        probe = getattr(a, "base", a)  # in LLM mode, try them in retrieval mode: no model calls
        for q in cands[:MAX_PROBES]:
            try:
                res = probe.ask(q, regions or None, state=ChatState(last=state.last), script=script_of(script))
            except Exception:
                continue
            place = q[:-2] if q.endswith("呢？") and q[:-2] in a.store.regions else None
            if res.found and res.answer != answer.answer and (place is None or any(
                    c.region == place for c in res.citations)):
                out.append(q)
            if len(out) >= MAX_SUGGESTIONS:
                break
        return out

    def new_chat(self, browser: str):
        from assistant.agent import ChatState

        return new_id(), [], [], ChatState(), self._history_choices(browser), self._panel_reset(), \
            gr.update(visible=False), ""

    def open_conversation(self, conv: str | None, browser: str):
        if not conv or not self.history.owns(browser, conv):
            return (gr.update(),) * 4 + (gr.update(),)
        chat, ids, state = self._restore(browser, conv)
        return conv, chat, ids, state, self._panel_reset()

    def on_like(self, ids: list, browser: str, data: gr.LikeData):
        idx = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        mid = ids[idx] if isinstance(idx, int) and 0 <= idx < len(ids or []) else None
        if mid is None:
            return gr.update(visible=False), None, "这条消息不能评价。"
        liked = data.liked
        rating = "up" if liked is True or liked == "Like" else "down" if liked is False or liked == "Dislike" else None
        if not self.history.rate(browser, mid, rating):
            return gr.update(visible=False), None, "评价没有保存，请刷新页面后重试。"
        if rating == "down":
            return gr.update(visible=True), mid, "已记录 👎。可以在下面写明哪里不对，帮助我们改进。"
        if rating == "up":
            return gr.update(visible=False), None, "已记录 👍，谢谢！"
        return gr.update(visible=False), None, "已撤销评价。"

    def send_comment(self, text: str, mid, browser: str):
        if mid is None:
            return gr.update(visible=False), "", "请先点击回答下方的 👎。"
        if not (text or "").strip():
            return gr.update(visible=True), text, "请写下意见后再提交（也可以不写）。"
        ok = self.history.comment(browser, mid, text)
        return gr.update(visible=not ok), "" if ok else text, \
            "意见已提交，谢谢！" if ok else "意见没有保存，请刷新页面后重试。"

    def export(self, browser: str, conv: str):
        rows = self.history.messages(browser, conv) if valid_id(conv) else []
        if not rows:
            return gr.update(value=None, visible=False), "这个对话还没有可以导出的内容。"
        md = conversation_markdown(rows)
        title = re.sub(r"[^\w-]+", "_", rows[0]["text"])[:30].strip("_") or "对话"
        out = Path(tempfile.mkdtemp(prefix="zhengce-chat-")) / f"政策问答_{title}.md"
        out.write_text(md, encoding="utf-8")
        return gr.update(value=str(out), visible=True), ""

    # ------------------------------------------------------------------ wiring
    def wire(self, demo: gr.Blocks) -> None:
        ui = dict(api_visibility="private")
        answer_io = dict(fn=self.respond,
                         inputs=[self.pending, self.chatbot, self.msg_ids, self.chat_state, self.region_dd,
                                 self.script_radio, self.browser, self.conv],
                         outputs=[self.chatbot, self.msg_ids, self.chat_state, self.history_radio, self.browser,
                                  self.conv],
                         show_progress_on=[self.chatbot], **ui)
        sub = dict(fn=self.submit, inputs=[self.box, self.chatbot, self.msg_ids],
                   outputs=[self.box, self.pending, self.chatbot, self.msg_ids], queue=False, **ui)
        for trigger in (self.box.submit, self.send.click):
            trigger(**sub).then(**answer_io)
        for b in self.example_btns:
            b.click(lambda q=b.value: q, None, self.box, queue=False, **ui).then(**sub).then(**answer_io)
        fresh = [self.conv, self.chatbot, self.msg_ids, self.chat_state, self.history_radio, self.panel,
                 self.export_file, self.fb_msg]
        self.new_btn.click(self.new_chat, self.browser, fresh, queue=False, **ui)
        self.chatbot.clear(self.new_chat, self.browser, fresh, queue=False, **ui)  # the chat's own 🗑 button
        self.history_radio.input(self.open_conversation, [self.history_radio, self.browser],
                                 [self.conv, self.chatbot, self.msg_ids, self.chat_state, self.panel], **ui)
        self.chatbot.like(self.on_like, [self.msg_ids, self.browser], [self.fb_box, self.fb_target, self.fb_msg],
                          queue=False, **ui)
        self.fb_send.click(self.send_comment, [self.fb_text, self.fb_target, self.browser],
                           [self.fb_box, self.fb_text, self.fb_msg], queue=False, **ui)
        self.export_btn.click(self.export, [self.browser, self.conv], [self.export_file, self.fb_msg], **ui)
        demo.load(self.init, self.browser,
                  [self.browser, self.conv, self.chatbot, self.msg_ids, self.chat_state, self.history_radio,
                   self.panel], **ui)


def conversation_markdown(rows: list[dict]) -> str:
    """A saved conversation as Markdown: each question with its answer and numbered sources."""
    import json
    from types import SimpleNamespace

    from ingest.types import Answer, Citation, ToolCall

    out = ["# 政策问答 对话记录", f"导出时间：{time.strftime('%Y-%m-%d %H:%M')}"]
    question = None
    for m in rows:
        if m["role"] == "user":
            question = m["text"]
            continue
        try:
            d = json.loads(m["answer_json"] or "{}")
            cites = tuple(Citation(c["doc_id"], c["title"], c["region"], c["clause"], c["quote"],
                                   c.get("clause_id", "")) for c in d.get("citations") or [])
            calls = tuple(ToolCall(t["name"], t.get("args") or {}, t.get("result") or {})
                          for t in d.get("tool_calls") or [])
            a = Answer(d.get("answer", m["text"]), bool(d.get("found")), cites, calls, note=d.get("note") or "")
        except (ValueError, KeyError, TypeError):
            a = SimpleNamespace(answer=m["text"], note="", citations=(), tool_calls=())
        out.append(answer_markdown(a, question))
        question = None
    return "\n\n".join(out) + "\n"

