"""Domain types shared by ingestion, retrieval, tools and the web app.

Everything here is a frozen dataclass: values flow from the index to an answer
and must not be mutated on the way (a citation is only trustworthy if nothing
after the index could have edited it).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SIMPLIFIED = "simplified"
TRADITIONAL = "traditional"
GENERIC_REGION = "通用"
NATIONAL_REGION = "全国"


@dataclass(frozen=True)
class DocMeta:
    """What the sidecar (or the loader) says about a document."""

    title: str
    region: str = GENERIC_REGION
    issuer: str | None = None
    date: str | None = None
    doc_number: str | None = None
    status: str | None = None
    script: str = SIMPLIFIED
    encoding: str = "utf-8"
    title_inferred: bool = False
    level: str = ""  # 全国 / 省 / 市 / 县区 / 学校; "" when the text does not say
    parents: tuple[str, ...] = ()  # enclosing divisions of `region`, nearest first (河源市, 广东省)
    effective_date: str | None = None  # 施行 date
    school: str | None = None

    def __post_init__(self):
        # Loaded back from JSON the tuple arrives as a list; a frozen value must stay hashable.
        object.__setattr__(self, "parents", tuple(self.parents))


@dataclass(frozen=True)
class Document:
    doc_id: str
    source_path: str
    content_hash: str
    meta: DocMeta
    raw_text: str  # decoded file text, before cleaning
    text: str  # cleaned text, original script (quotes are spans of this)
    offsets: tuple[int, ...]  # offsets[i] = index in raw_text of text[i]
    dropped: tuple[str, ...] = ()  # human-readable log of what cleaning removed


@dataclass(frozen=True)
class Clause:
    clause_id: str
    doc_id: str
    path: str  # e.g. 三(二)4
    heading: str
    text: str  # full clause text in the original script, own text plus children
    own_text: str  # text before the first child clause
    start: int  # span of own+children in Document.text
    end: int
    parent_id: str | None
    parents: tuple[str, ...] = ()  # paths from root to parent
    level: int = 1


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    clause_id: str
    doc_id: str
    region: str
    title: str
    path: str
    heading: str
    text: str  # original script, verbatim span(s) of the clause
    index_text: str  # simplified + normalised, what BM25 and the embedder see
    script: str
    start: int  # span in Document.text
    end: int


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    region: str
    clause: str  # clause path
    quote: str  # verbatim span of the document (original script)
    clause_id: str = ""

    def public(self) -> dict[str, str]:
        """The stable JSON contract: other tools read exactly these keys."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "region": self.region,
            "clause": self.clause,
            "quote": self.quote,
        }


@dataclass(frozen=True)
class ToolResult:
    name: str
    ok: bool
    value: Any = None
    unit: str = ""
    conditions: dict[str, Any] = field(default_factory=dict)
    explanation: str = ""  # one line of Chinese
    citations: tuple[Citation, ...] = ()
    options: tuple[dict[str, Any], ...] = ()  # filled when a slot is missing

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["citations"] = [c.public() for c in self.citations]
        d["options"] = list(self.options)
        return d


@dataclass(frozen=True)
class Hit:
    """A retrieved clause with its fused score and the chunk that matched."""

    chunk: Chunk
    score: float
    dense: float = 0.0
    sparse: float = 0.0
    agreed: bool = False  # the clause is both BM25's and the dense search's first


@dataclass(frozen=True)
class ToolCall:
    name: str
    args: dict[str, Any]
    result: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """What the assistant returns; `to_json()` is the stable CLI/API contract."""

    answer: str
    found: bool
    citations: tuple[Citation, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    script: str = SIMPLIFIED
    note: str = ""  # e.g. "LLM unavailable, answered in retrieval mode"
    table: tuple[dict[str, str], ...] = ()  # comparison rows, when the question compared regions
    mode: str = "retrieval"  # "retrieval" | "llm" | "llm-fallback": how the answer was produced

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "found": self.found,
            "citations": [c.public() for c in self.citations],
            "tool_calls": [{"name": t.name, "args": t.args, "result": t.result} for t in self.tool_calls],
            "script": self.script,
            "mode": self.mode,
            "note": self.note,
        }


_FULLWIDTH = str.maketrans("０１２３４５６７８９％．：／－～，；", "0123456789%.:/-~,;")


@dataclass(frozen=True)
class ExtractedRule:
    """One quantitative rule read from a clause: one record per number (ingest.rules)."""

    doc_id: str
    clause: str  # clause path, e.g. 三(二)4 or 第二十五条(三)
    subject: str  # who, document script ("" if none)
    action: str  # what, document script
    value: float
    value_max: float | None  # ranges: value … value_max
    unit: str  # canonical, simplified: 节, %, 元, 年, 周岁, 分数 (fractions), 比 (ratios 1:N)
    comparator: str  # 不少于/不超过/达到/以上/以下/以内/范围/每/"" (exact), simplified
    op: str  # ge, le, gt, lt, eq, range, every
    period: str | None  # 每学期, 每5年, 每月
    per: str | None  # 每人, 每所实验校, 每节
    item: str  # what is counted, when named right after the number
    conditions: tuple[str, ...]
    deadline: str | None
    roles: tuple[str, ...]
    ranks: tuple[str, ...]
    school_types: tuple[str, ...]
    number_text: str  # the quantity as written (original script)
    quote: str  # verbatim span of the clause text (original script)
    heading: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["conditions"] = list(self.conditions)
        for k in ("roles", "ranks", "school_types"):
            d[k] = list(d[k])
        return d

    @property
    def quantity(self) -> str:
        """Normalised simplified text: 不少于30节, 2至3所, 3年以上, 5‰."""
        n = fmt(self.value) + (f"至{fmt(self.value_max)}" if self.value_max is not None else "")
        if self.unit == "分数":
            nt = self.number_text_simplified.translate(_FULLWIDTH)
            if not self.comparator or self.comparator in nt:
                return nt
            return nt + self.comparator if self.comparator in ("以上", "以下", "以内") else self.comparator + nt
        if self.unit == "比":
            return f"1:{fmt(self.value)}"
        if self.op == "every":
            return f"每{n}{self.unit}"
        if self.comparator in ("以上", "以下", "以内", "及以上", "及以下", "及以内", "左右", "内", "之内"):
            return f"{n}{self.unit}{self.comparator}"
        pre = "" if self.op == "range" else self.comparator
        return f"{pre}{n}{self.unit}"

    @property
    def number_text_simplified(self) -> str:
        from .textnorm import t2s  # textnorm imports this module

        return t2s(self.number_text)


def fmt(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{round(v, 4):g}"
