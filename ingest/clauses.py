"""Parse the numbered clause tree of a Chinese policy document or law.

Levels are recognised by the *shape* of the marker, not by position:
第X编/第X部分 > 第X章 > 第X节 > 第X条 are ranked (a higher rank closes lower ones);
under them 一、 / （一） / 1. / （1） / 1) / ① nest by a stack: a marker whose
shape is already open closes everything below it (a sibling), any other shape
opens a child. This copes with documents that skip levels (一 → 1.) or mix them
(第四条 holding 一、（一）).

Paths join the markers: 三(二)4, 二(三)1.2) (a dot separates two arabic levels);
a law article is 第二十五条 and its items 第二十五条(三) — chapters are context,
not part of an article's path, because a lawyer cites 第二十五条 alone. An annex
(附件1) or numbering that restarts under a part title opens a part whose label
prefixes its paths (附件1·一(二)), so every path is unique within a document.
"""
from __future__ import annotations

import hashlib
import re

from .markers import (  # noqa: F401  (SHAPES, cn_to_int: callers import the shapes and numerals from here)
    PART_LABEL_MAX, PREAMBLE, RANKED, SHAPES, WS, _line_markers, _Marker, _strip_marker, _trailing_paragraphs,
    cn_to_int, int_to_cn, join_path,
)
from .types import Clause


def _title_line_before(text: str, pos: int, floor: int) -> str:
    """The nearest short, sentence-free line before `pos` (and after `floor`): the title of a part
    whose numbering restarts (e.g. the 方案 printed after its 通知)."""
    lines = text[floor:pos].rstrip(WS + "\r\n").split("\n")
    for line in reversed(lines[-3:]):
        s = line.strip(WS + "\r")
        if s and len(s) <= PART_LABEL_MAX and not re.search(r"[。；;，,]$|[。；]", s) and not re.search(r"\d{4}|[〇○]", s):
            return re.split(r"[:：]", s, maxsplit=1)[0]
    return ""


def _heading(own: str) -> str:
    first = own.strip(WS + "\n").split("\n", 1)[0].strip(WS)
    if "。" in first:
        return first.split("。", 1)[0][:60]
    if len(first) <= 60:
        return first
    return re.split(r"[,，;；:：]", first, maxsplit=1)[0][:40]


def clause_id(doc_id: str, path: str, text: str) -> str:
    return hashlib.sha1(f"{doc_id}|{path}|{text}".encode()).hexdigest()[:16]


HEADINGS = ("PART", "ZHANG", "JIE")


def _tree(text: str, markers: list[_Marker]) -> list[tuple[_Marker, str, int, int]]:
    """(marker, path, depth, parent index) per marker, in document order."""
    nodes: list[tuple[_Marker, str, int, int]] = []
    stack: list[int] = []
    part, part_no, part_floor = "", 1, 0
    roots: set[tuple[str, int]] = set()  # (shape, number) of root nodes in the current part
    # Every "X" such that some path so far starts with "X·": asking that of all paths at each restart
    # was quadratic (1,000 concatenated laws: 30 M startswith calls, 40 s).
    part_prefixes: set[str] = set()
    for m in markers:
        def shape_of(k: int) -> str:
            return nodes[k][0].shape

        if m.shape == "ANNEX" or m.part:
            part, stack, roots, part_floor = m.part or part, [], set(), m.pos
        if m.shape in RANKED:
            rank = RANKED[m.shape][0]
            while stack and (shape_of(stack[-1]) not in RANKED or RANKED[shape_of(stack[-1])][0] >= rank):
                stack.pop()
        elif m.shape != "ANNEX":
            # Only the shapes opened below the innermost ranked heading/article compete.
            base = max((i + 1 for i, k in enumerate(stack) if shape_of(k) in RANKED or shape_of(k) == "ANNEX"),
                       default=0)
            shapes = [shape_of(k) for k in stack[base:]]
            if m.shape == "KUAN":  # a 款 is the article's, after its items
                stack = stack[:base]
            elif m.shape in shapes:
                stack = stack[: base + shapes.index(m.shape)]
        # A root that repeats (一、 again after 五、, a second 第一章) starts a new part: the numbering restarted.
        at_root = not any(shape_of(k) != "ANNEX" for k in stack)
        if at_root and m.shape != "ANNEX" and (m.shape, m.number) in roots and not m.part:
            part_no += 1
            label = _title_line_before(text, m.pos, part_floor) or f"第{int_to_cn(part_no)}部分"
            if label == part or label in part_prefixes:
                label = f"{label}{part_no}"
            part, stack, roots, part_floor = label, [], set(), m.pos
        if at_root and m.shape != "ANNEX":
            roots.add((m.shape, m.number))
        parent = stack[-1] if stack else -1
        if m.shape == "ANNEX":
            path = m.token
        else:
            # Headings and articles are context, not path, for what they contain: 第二十五条(三), not 第三章第二十五条(三).
            chain = [nodes[k][0] for k in stack if shape_of(k) not in HEADINGS and shape_of(k) != "ANNEX"]
            if m.shape in RANKED:
                chain = []
                if m.shape == "JIE":
                    chain = [nodes[k][0] for k in stack if shape_of(k) == "ZHANG"]
            tokens = [c.token for c in chain] + [m.token]
            path = (f"{part}·" if part else "") + join_path(tokens)
        depth = len(stack) + 1
        stack.append(len(nodes))
        nodes.append((m, path, depth, parent))
        part_prefixes.update(path[:i] for i, ch in enumerate(path) if ch == "·")
    return nodes


def parse_clauses(doc_id: str, text: str) -> list[Clause]:
    """The clause tree of `text` as a flat list in document order (parents first)."""
    markers = _trailing_paragraphs(text, _line_markers(text))
    if not markers:
        return _paragraph_clauses(doc_id, text)

    # Part restarts cut the label fragment out of the previous clause.
    ends_at: dict[int, int] = {}
    for m in markers:
        if m.part and m.shape != "ANNEX":
            ends_at[m.pos] = text.rfind(m.part, 0, m.pos)

    nodes = _tree(text, markers)
    clauses: list[Clause] = []
    preamble = text[: markers[0].pos]
    if preamble.strip(WS + "\n"):
        clauses.append(_make(doc_id, PREAMBLE, preamble, preamble, 0, markers[0].pos, None, (), 1))

    ids: list[str] = []
    seen: dict[str, int] = {}
    for i, (m, path, depth, parent) in enumerate(nodes):
        end = len(text)
        # By index, not over nodes[i + 1:]: copying the tail for every node was quadratic. The scan
        # itself stops at the next node as shallow as this one, so it stays within the subtree.
        for j in range(i + 1, len(nodes)):
            m2, _, d2, _ = nodes[j]
            if m2.part and m2.shape != "ANNEX" and ends_at.get(m2.pos, -1) > m.pos:
                end = ends_at[m2.pos]
                break
            if d2 <= depth or m2.shape == "ANNEX":
                end = m2.pos
                break
        has_child = i + 1 < len(nodes) and nodes[i + 1][3] == i
        own_end = nodes[i + 1][0].pos if has_child else end
        chain = []
        k = parent
        while k >= 0:
            chain.append(nodes[k][1])
            k = nodes[k][3]
        # Belt and braces: a path must name one clause (the store indexes clauses by path).
        seen[path] = seen.get(path, 0) + 1
        if seen[path] > 1:
            path = f"{path}〔{seen[path]}〕"
        full = text[m.pos : end].rstrip(WS + "\n")
        own = text[m.pos : own_end].rstrip(WS + "\n")
        c = _make(doc_id, path, full, own, m.pos, m.pos + len(full),
                  ids[parent] if parent >= 0 else None, tuple(reversed(chain)), depth, m)
        clauses.append(c)
        ids.append(c.clause_id)
    return clauses


def _make(doc_id, path, full, own, start, end, parent_id, parents, level, marker=None) -> Clause:
    body = _strip_marker(own, marker) if marker else own
    return Clause(
        clause_id=clause_id(doc_id, path, full),
        doc_id=doc_id,
        path=path,
        heading=_heading(body) if marker else PREAMBLE,
        text=full,
        own_text=own,
        start=start,
        end=end,
        parent_id=parent_id,
        parents=parents,
        level=level,
    )


def _paragraph_clauses(doc_id: str, text: str) -> list[Clause]:
    """A document without numbering: one clause per non-empty paragraph (第1段, 第2段 …)."""
    out: list[Clause] = []
    pos = 0
    for para in text.splitlines(keepends=True):
        body = para.strip(WS + "\r\n")
        if body:
            start = pos + para.index(body)
            path = f"第{len(out) + 1}段"
            out.append(
                Clause(clause_id(doc_id, path, body), doc_id, path, _heading(body), body, body,
                       start, start + len(body), None, (), 1)
            )
        pos += len(para)
    return out
