"""LLM mode control flow, with LangChain's own fake chat models and real failing endpoints on loopback."""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from assistant.agent import Assistant
from assistant.llm import LLMAssistant, chat_model
from ingest.settings import Settings


@pytest.fixture(scope="module")
def base(store, embedder):
    return Assistant(store, embedder)


def clause_id(store, region: str, path: str) -> str:
    doc = store.docs_in(region)[0]
    return store.clause(doc.doc_id, path).clause_id


def scripted(*messages: AIMessage) -> FakeMessagesListChatModel:
    return FakeMessagesListChatModel(responses=list(messages))


def search_call(query: str, region: str | None = None, call_id: str = "c1") -> AIMessage:
    args = {"query": query} | ({"region": region} if region else {})
    return AIMessage(content="", tool_calls=[{"name": "search_policy", "args": args, "id": call_id}])


def test_tool_call_then_cited_final_answer(base, store):
    cid = clause_id(store, "清远市", "三(一)1")
    model = scripted(search_call("学校领导 每学期 听课 节数", "清远市"),
                     AIMessage(content=f"清远市规定学校领导每人每学期校内听课不少于30节。[#{cid}]"))
    ans = LLMAssistant(base, model).ask("学校领导每学期听课多少节？")
    assert ans.found
    assert "30节" in ans.answer and "[1]" in ans.answer and "#" not in ans.answer
    assert [(c.region, c.clause) for c in ans.citations] == [("清远市", "三(一)1")]
    assert store.quote_is_verbatim(ans.citations[0].doc_id, ans.citations[0].quote)
    assert "大模型" in ans.note


def test_citation_not_returned_by_a_tool_is_dropped(base, store):
    real = clause_id(store, "清远市", "三(一)1")
    never_retrieved = clause_id(store, "克拉玛依市", "四1")  # exists in the index, but no tool returned it
    model = scripted(search_call("学校领导 听课", "清远市"),
                     AIMessage(content=f"每学期30节[#{real}]，另见[#{never_retrieved}]和[#0123456789abcdef]。"))
    ans = LLMAssistant(base, model).ask("学校领导每学期听课多少节？")
    assert [c.clause for c in ans.citations] == ["三(一)1"]
    assert never_retrieved not in ans.answer and "0123456789abcdef" not in ans.answer


def test_answer_without_verifiable_citation_falls_back(base):
    model = scripted(AIMessage(content="学校领导每学期听课100节。"))  # from "memory": no tool, no citation
    ans = LLMAssistant(base, model).ask("学校领导每学期听课多少节？")
    assert "100" not in ans.answer
    assert "检索模式" in ans.note
    assert any(c.clause == "三(一)1" for c in ans.citations)


def test_policy_tool_call_is_recorded_and_citable(base, store):
    cid = clause_id(store, "清远市", "三(二)4")
    model = scripted(
        AIMessage(content="", tool_calls=[{"name": "calculate", "args": {"topic": "课题", "rank": "中学一级", "years": 10},
                                           "id": "t1"}]),
        AIMessage(content=f"10年内至少主持或参与2项校级或以上课题研究。[#{cid}]"),
    )
    ans = LLMAssistant(base, model).ask("我是中学一级教师，10年内要做几项课题？")
    assert ans.found and ans.tool_calls and ans.tool_calls[0].name == "calculate"
    assert ans.tool_calls[0].result["value"] == 2
    assert ans.citations[0].clause == "三(二)4"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _llm(base, url: str, timeout: float = 2.0) -> LLMAssistant:
    settings = Settings(llm_base_url=url, llm_model="test-model", llm_api_key="x", llm_timeout=timeout)
    return LLMAssistant(base, chat_model(settings))


def test_refused_endpoint_falls_back_with_note(base):
    ans = _llm(base, f"http://127.0.0.1:{_free_port()}/v1").ask("学校领导每学期听课多少节？")
    assert ans.found and "30" in ans.answer
    assert "检索模式" in ans.note


class _Server:
    def __init__(self, handler):
        self.httpd = HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_garbage_and_slow_endpoints_fall_back(base):
    class Garbage(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{not json at all")

        def log_message(self, *a):
            pass

    class Slow(Garbage):
        def do_POST(self):
            threading.Event().wait(5)

    for handler in (Garbage, Slow):
        server = _Server(handler)
        try:
            ans = _llm(base, server.url, timeout=1.0).ask("清远市教研员配备比例是多少？")
        finally:
            server.close()
        assert "检索模式" in ans.note, handler.__name__
        assert ans.found and "5‰" in ans.answer
