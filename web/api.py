"""The app's API for programs (gradio_client): /ask, /compare, /documents, /checklist.

Every endpoint returns a typed object and never raises for an expected problem:
`error` is a Chinese sentence (None when the call worked) and `error_type` one of
bad_request, bad_input, bad_document, index_unavailable, not_ready, error, internal.
Expected errors are logged as one line; only a bug logs a traceback.
"""
# No `from __future__ import annotations`: Gradio reads the return annotations as objects for the typed schema.
import traceback
from typing import Any, Optional, TypedDict

from ingest import messages
from web.service import Service, log


class CitationOut(TypedDict):
    doc_id: str
    title: str
    region: str
    clause: str
    quote: str


class ToolCallOut(TypedDict):
    name: str
    args: dict[str, Any]
    result: dict[str, Any]


class AskResult(TypedDict):
    answer: str
    found: bool
    citations: list[CitationOut]
    tool_calls: list[ToolCallOut]
    script: str
    mode: str
    note: str
    error: Optional[str]
    error_type: Optional[str]


CompareRow = TypedDict("CompareRow", {"地区": str, "规定": str, "条款": str, "文件": str, "原文": str})


class CompareResult(TypedDict):
    topic: str
    rows: list[CompareRow]
    error: Optional[str]
    error_type: Optional[str]


class DocumentOut(TypedDict):
    doc_id: str
    title: str
    region: str
    issuer: Optional[str]
    date: Optional[str]
    doc_number: Optional[str]
    clauses: int
    status: Optional[str]  # 已被取代 for an earlier version of a changed file
    superseded_by: Optional[str]  # the doc_id that replaced it
    change: Optional[str]  # what the newer version changed


class DocumentsResult(TypedDict):
    documents: list[DocumentOut]
    error: Optional[str]
    error_type: Optional[str]


class ChecklistItem(TypedDict):  # the keys of `python -m assistant checklist --json`
    region: str
    title: str
    doc_id: str
    clause: str
    subject: str
    requirement: str
    period: str
    per_year: Optional[float]  # None: not a quantity that adds up over time (a share, an age)
    per_span: Optional[float]
    span_years: float
    unit: str
    conditions: str
    quote: str  # verbatim in the clause `clause` of document `doc_id`


class ChecklistProfile(TypedDict):
    region: Optional[str]
    stage: Optional[str]
    role: Optional[str]
    rank: Optional[str]
    years: float


class ChecklistResult(TypedDict):
    profile: Optional[ChecklistProfile]  # as understood (清遠 → 清远市); None when it was refused
    items: list[ChecklistItem]
    message: str  # how many rules apply, or that none does (and where such rules exist)
    error: Optional[str]
    error_type: Optional[str]


SCRIPTS = {"simplified", "traditional"}


def script_of(value: Optional[str]) -> Optional[str]:
    return value if value in SCRIPTS else None


def report(e: BaseException, where: str) -> str:
    """Log an error (one line if expected, a traceback if a bug) and return its Chinese sentence."""
    if messages.expected(e):
        log(f"{where}: refused ({messages.kind(e)}): {e}")
    else:
        log(f"{where}: internal error {type(e).__name__}: {e}")
        traceback.print_exc()
    return messages.zh(e)


def make_api(service: Service):
    """The three API functions, bound to the app's service (registered with gr.api in app.py)."""
    from assistant.compare import compare as run_compare

    def ask(question: str, regions: Optional[list[str]] = None, script: Optional[str] = None) -> AskResult:
        """回答一个问题。返回 answer、found、citations（doc_id/title/region/clause/quote）、tool_calls、script；
        请求无法处理时 found=false，error 为中文说明，error_type 为错误类型。"""
        try:
            out = service.get().ask(question, regions or None, script=script_of(script)).to_json()
            out.update(error=None, error_type=None)
            return out
        except Exception as e:
            msg = report(e, "/ask")
            return {"answer": msg, "found": False, "citations": [], "tool_calls": [],
                    "script": script_of(script) or "simplified", "mode": "retrieval", "note": "", "error": msg, "error_type": messages.kind(e)}

    def compare(topic: str, regions: Optional[list[str]] = None) -> CompareResult:
        """按地区对比一个主题：rows 每个地区一行（地区/规定/条款/文件/原文），文件未提及的记为“未规定”。"""
        topic = (topic or "").strip()
        try:
            if not topic:
                from ingest.errors import UsageError

                raise UsageError(messages.EMPTY_TOPIC)
            a = service.get()
            rows = run_compare(a.retriever, topic, a.store.check_regions(regions or None))
            return {"topic": topic, "rows": [r.as_dict() for r in rows], "error": None, "error_type": None}
        except Exception as e:
            return {"topic": topic, "rows": [], "error": report(e, "/compare"), "error_type": messages.kind(e)}

    def documents() -> DocumentsResult:
        """已收录的文件（标题、地区、发文机关、日期、文号、条款数）。"""
        try:
            docs = [{k: d[k] for k in ("doc_id", "title", "region", "issuer", "date", "doc_number", "clauses",
                                               "status", "superseded_by", "change")}
                    for d in service.get().store.summary()]
            return {"documents": docs, "error": None, "error_type": None}
        except Exception as e:
            return {"documents": [], "error": report(e, "/documents"), "error_type": messages.kind(e)}

    return ask, compare, documents


def make_checklist_api(service: Service):
    """/checklist (我的清单), registered with gr.api in app.py; kept apart so make_api keeps its three."""

    def checklist(region: Optional[str] = None, stage: Optional[str] = None, role: Optional[str] = None,
                  rank: Optional[str] = None, years: Optional[float] = 5) -> ChecklistResult:
        """我的清单：按地区、学段、身份、职称列出适用的每条量化规定，含每年合计、years 年合计、条款和原文；
        没有适用规定时 items 为空、message 说明；请求无法处理时 error 为中文说明，error_type 为错误类型。"""
        from web.checklist import run

        try:
            c = run(service, region, stage, role, rank, years)
            p = c.profile
            profile = {"region": p.region, "stage": p.stage, "role": p.role, "rank": p.rank, "years": c.years}
            return {"profile": profile, "items": c.items, "message": c.message, "error": None, "error_type": None}
        except Exception as e:
            msg = report(e, "/checklist")
            return {"profile": None, "items": [], "message": msg, "error": msg, "error_type": messages.kind(e)}

    return checklist
