"""Clause-sized chunks for retrieval.

A chunk is one clause's own text (a long one split by sentence), so a hit
always names exactly one clause path. What the retriever sees (`index_text`)
also carries the parent headings, so a terse clause such as
"1.完善教研队伍建设 …" is still found by a question about 教研.
"""
from __future__ import annotations

import hashlib
import re

from .textnorm import SENTENCE_ENDS, normalize
from .types import Chunk, Clause, DocMeta

MAX_CHARS = 320
_SENTENCE_END = re.compile(rf"(?<=[{SENTENCE_ENDS}\n])")


def _split(text: str, limit: int = MAX_CHARS) -> list[tuple[int, int]]:
    """Greedy sentence packing; returns (start, end) spans of `text`."""
    spans, start, cur_end = [], 0, 0
    pos = 0
    for piece in _SENTENCE_END.split(text):
        if not piece:
            continue
        nxt = pos + len(piece)
        if nxt - start > limit and cur_end > start:
            spans.append((start, cur_end))
            start = cur_end
        cur_end = pos = nxt
    if cur_end > start:
        spans.append((start, cur_end))
    # A single sentence longer than the limit is cut hard; embedders truncate anyway.
    out = []
    for a, b in spans:
        while b - a > limit * 2:
            out.append((a, a + limit))
            a += limit
        out.append((a, b))
    return out


def chunk_clauses(doc_id: str, meta: DocMeta, clauses: list[Clause]) -> list[Chunk]:
    by_path = {c.path: c for c in clauses}
    has_child = {c.parent_id for c in clauses if c.parent_id}
    chunks: list[Chunk] = []
    for c in clauses:
        own = c.own_text.strip()
        if c.clause_id in has_child and len(own) <= len(c.heading) + 8:
            continue  # a bare heading such as 三、具體工作措施: its children carry it
        context = " ".join(by_path[p].heading for p in c.parents if p in by_path)
        lead = len(c.own_text) - len(c.own_text.lstrip())
        for a, b in _split(c.own_text.strip()):
            piece = c.own_text[lead + a : lead + b].strip()
            if not piece:
                continue
            start = c.start + c.own_text.index(piece, lead + a)
            index_text = normalize(f"{context} {c.heading} {piece}")
            cid = hashlib.sha1(f"{c.clause_id}|{start}|{piece}".encode()).hexdigest()[:16]
            chunks.append(
                Chunk(
                    chunk_id=cid,
                    clause_id=c.clause_id,
                    doc_id=doc_id,
                    region=meta.region,
                    title=meta.title,
                    path=c.path,
                    heading=c.heading,
                    text=piece,
                    index_text=index_text,
                    script=meta.script,
                    start=start,
                    end=start + len(piece),
                )
            )
    return chunks
