"""Side-by-side comparison of one topic across regions, one cited row per region."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.textnorm import normalize
from ingest.types import Answer, Citation, Hit

from .compose import clause_ref, display, in_script, pick_sentences
from .query import Query, strip_regions
from .retrieve import Retriever

TOPICS = ("教师培训经费", "教研员配备", "集团化办学", "名师工作室", "质量监测", "课后服务", "校外培训",
          "听课", "编制", "督导考核")
NOT_SET = "未规定"
# Words that frame a comparison request rather than name its topic.
_FRAME = re.compile(
    r"比较|对比|相比|一下|请|分别|各自|有什么|有哪些|哪些|哪个|哪几个|城市|地区|地方|文件|提到了?|提及|涉及|说到|讲到|谈到|"
    r"规定|要求|都|各市|各地|各份|各个|"
    r"区别|异同|是什么|怎么|如何|方面|作了|做了|有关|关于|[的和与及对在、,，。?？!！:：]"
)
# A requirement usually carries an amount, in digits or in Chinese numerals (三个月内, 十五日)
AMOUNT = r"\d|[一二两三四五六七八九十百千]+\s*个?(日|天|月|年|周|名|人|次|元|倍|周岁|岁|学时|课时|小时)"
MIN_COVERAGE = 0.6  # a row must contain most of the topic: "未规定" is a claim too
# Up to this many regions each gets its own hybrid search; beyond it one BM25 pass serves all
# (whether a document mentions a topic is decided on its words anyway: see MIN_COVERAGE).
HYBRID_REGIONS = 8


@dataclass(frozen=True)
class Row:
    region: str
    found: bool
    requirement: str  # verbatim sentence(s), original script, or 未规定
    citation: Citation | None
    more: tuple[Citation, ...] = ()  # further spans of the same clause, each its own citation

    @property
    def citations(self) -> tuple[Citation, ...]:
        return ((self.citation,) if self.citation else ()) + self.more

    def as_dict(self) -> dict[str, str]:
        c = self.citation
        return {"地区": self.region, "规定": self.requirement, "条款": c.clause if c else "",
                "文件": c.title if c else "", "原文": c.quote if c else ""}


WHICH_REGIONS = re.compile(r"哪些(城市|地区|地方|市|县|区|省)|哪(个|几个)(城市|地区|地方|市|县|区|省)")


def topic_of(question: str, regions: list[str]) -> str:
    """The question without its framing words. A frame word is cut only where it is a whole word (or words):
    the 请 of 申请 and the 的 of 目的 are part of the topic."""
    from ingest.segment import word_ends

    s = strip_regions(normalize(question), regions)
    ends = word_ends(s)
    bounds = sorted(ends)
    whole = re.compile(f"(?:{_FRAME.pattern})+")
    # positions inside a word made of frame words only (哪些地方)
    framed = {i for a, b in zip(bounds, bounds[1:]) if whole.fullmatch(s[a:b]) for i in range(a, b)}
    s = _FRAME.sub(lambda m: " " if (m.start() in ends and m.end() in ends) or m.start() in framed
                   else m.group(), s)
    return " ".join(s.split()) or question


def compare(retriever: Retriever, topic: str, regions: list[str] | None = None,
            min_coverage: float = MIN_COVERAGE, answers: Callable[[Hit, tuple[str, ...]], bool] | None = None,
            pattern: str | None = None) -> list[Row]:
    """One row per region: the best clause covering the topic, or 未规定. `answers(hit, terms)`: the assistant's
    own evidence check for one answer; a region's first hit that passes it is that region's row when no clause
    holds most of the topic's words (宁波 says 当事人…调解, not 学生…家长: it is not silent on 调解).
    `pattern`: the kind of span the question asks for, quoted first (else an amount)."""
    store = retriever.store
    regions = regions or store.regions
    # Words the corpus never uses cannot be compared on; they are leftovers of phrasing.
    terms = tuple(t for t in retriever.content_terms(topic) if retriever.known(t)) or \
        retriever.content_terms(topic)
    searched = None
    if len(regions) <= HYBRID_REGIONS:
        searched = {r: retriever.search(topic, [r], k=5) for r in regions}
        candidates = {r: s.hits for r, s in searched.items()}
    else:
        candidates = retriever.sparse_by_region(topic, regions, k=5)
    rows = []
    for region in regions:
        best = None
        for h in candidates[region]:
            cov = retriever.coverage(h, terms, partial=False)  # "mentions X" means the words, not their parts
            # ties go to the higher BM25 score, which both candidate sources share, so the row does not
            # depend on the order either source lists its hits in
            if cov >= min_coverage and (best is None or cov > best[0] + 1e-9
                                        or (abs(cov - best[0]) <= 1e-9 and h.sparse > best[1].sparse)):
                best = (cov, h)
        if best is None and answers is not None and searched is not None:
            h = next((h for h in searched[region].hits if answers(h, searched[region].query_terms)), None)
            best = (0.0, h) if h is not None else None
        if best is None:
            rows.append(Row(region, False, NOT_SET, None))
            continue
        clause = store.clauses[best[1].chunk.clause_id]
        quotes = pick_sentences(clause, terms, topic, weight=retriever.idf, pattern=pattern or AMOUNT,
                                alts=retriever.alternatives)
        spans = tuple(store.citation(clause, x) for x in quotes)
        rows.append(Row(region, True, "……".join(quotes), spans[0], spans[1:]))
    return rows


def to_csv(rows: list[Row]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["地区", "规定", "条款", "文件", "原文"])
    w.writeheader()
    for r in rows:
        w.writerow(r.as_dict())
    return buf.getvalue()


def regions_answer(retriever: Retriever, q: Query, regions: list[str] | None,
                   answers: Callable[[Hit, tuple[str, ...]], bool] | None = None) -> Answer:
    """One row per region, each citing its clause, or 未规定; "哪些城市提到…" lists the regions that do first.
    `answers`: see compare; "哪些城市提到X" is about the words, so it keeps to the words."""
    topic = topic_of(q.simplified, retriever.store.regions)
    which = WHICH_REGIONS.search(q.simplified)
    # The answer's own evidence check gives a row to a place the question names; across every indexed place
    # ("各地…") a row must hold the topic's words, or weak rows crowd the table (measured on the seed index)
    rows = compare(retriever, topic, regions, answers=answers if regions and not which else None,
                   pattern=q.answer_pattern)
    # "哪些城市提到…" is answered by the list of names first, and lists only the regions that do
    lines, citations = [], []
    for row in rows:
        if row.found:
            parts = []
            for c in row.citations:
                citations.append(c)
                parts.append(f"“{display(c.quote)}”[{len(citations)}]")
            ref = clause_ref(row.citation.clause)
            lines.append(f"- {row.region}（{ref}）：{'……'.join(parts)}")
        elif not which:
            lines.append(f"- {row.region}：{NOT_SET}（该地区文件未提及）")
    found = any(r.found for r in rows)
    head = f"关于“{topic}”的各地规定：" if found else f"所选地区的文件都没有关于“{topic}”的规定。"
    if found and which:
        named = [r.region for r in rows if r.found]
        rest = "" if len(named) == len(rows) else "，其余地区的文件未提及"
        head = f"提到“{topic}”的有：{'、'.join(named)}（共{len(named)}个地区）{rest}。各地原文："
    text = head + "\n" + "\n".join(lines)
    return Answer(in_script(text, q.script, [display(c.quote) for c in citations]), found,
                  tuple(citations),
                  script=q.script, table=tuple(r.as_dict() for r in rows))
