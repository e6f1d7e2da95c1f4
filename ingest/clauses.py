"""Parse the numbered clause tree of a Chinese policy document.

Levels are recognised by the *shape* of the marker, not by position:
一、 / （一） / 1. / （1） / 1). Depth comes from a stack: a marker whose shape
is already open closes everything below it (a sibling), any other shape opens a
child. This copes with documents that skip levels (一 → 1.) or mix them.

Paths join the markers: 三(二)4, 二(三)1.2) (a dot separates two arabic levels).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .types import Clause

CN_DIGITS = "零一二三四五六七八九"
# A well-formed numeral up to 九十九 only: '三五、' or '一一、' is prose, and cn_to_int
# cannot read it (it used to raise ValueError and abort the whole ingest batch).
CN = "(?:[一二三四五六七八九]?十[一二三四五六七八九]?|[一二三四五六七八九])"
WS = " \t\u00a0\u3000\u2002\u2003\u2009\ufeff"
SHAPES = {  # shape -> regex anchored at the marker start; group(1) is the number
    "L1": re.compile(rf"({CN})[、．.](?![\d])"),
    "L2": re.compile(rf"[(（]({CN})[)）]"),
    "L3": re.compile(r"(\d{1,2})[.．、](?![\d%％])"),
    "L4": re.compile(r"[(（](\d{1,2})[)）]"),
    "L5": re.compile(r"(\d{1,2})[)）]"),
}
LOST_L1 = re.compile(r"[.．]\s*(?=[\u4e00-\u9fff])")  # ". 实施步骤": the numeral fell off
# In one very long line (a page flattened to a paragraph) only the two Chinese
# levels are trusted, and only as the expected next number.
INLINE = re.compile(rf"(?P<L1>{CN}、)|(?P<L2>[(（]{CN}[)）])")
LONG_LINE = 800
PART_LABEL_MAX = 40
PREAMBLE = "前言"


def cn_to_int(s: str) -> int:
    if s == "十":
        return 10
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (CN_DIGITS.index(tens) if tens else 1) * 10 + (CN_DIGITS.index(ones) if ones else 0)
    return CN_DIGITS.index(s)


def int_to_cn(n: int) -> str:
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def marker_token(shape: str, number: str) -> str:
    return {"L1": "{}", "L2": "({})", "L3": "{}", "L4": "({})", "L5": "{})"}[shape].format(number)


def join_path(tokens: list[str]) -> str:
    out = ""
    for tok in tokens:
        if out and out[-1].isdigit() and tok[0].isdigit():
            out += "."
        out += tok
    return out


@dataclass
class _Marker:
    pos: int  # where the clause starts (the marker itself)
    shape: str
    number: int
    token: str
    part: str = ""


def _number(shape: str, raw: str) -> int:
    return cn_to_int(raw) if shape in ("L1", "L2") else int(raw)


def _line_markers(text: str) -> list[_Marker]:
    markers: list[_Marker] = []
    last = {"L1": 0, "L2": 0}
    pos = 0
    for line in text.splitlines(keepends=True):
        body_start = pos + (len(line) - len(line.lstrip(WS)))
        body = line.lstrip(WS)
        if len(body) > LONG_LINE:
            markers.extend(_inline_markers(text, body_start, body, last))
        else:
            found = None
            for shape, rx in SHAPES.items():
                m = rx.match(body)
                if m:
                    n = _number(shape, m.group(1))
                    found = _Marker(body_start, shape, n, marker_token(shape, m.group(1)))
                    break
            if found is None and LOST_L1.match(body) and last["L1"]:
                n = last["L1"] + 1
                found = _Marker(body_start, "L1", n, int_to_cn(n))
            if found:
                markers.append(found)
                if found.shape == "L1":
                    last["L2"] = 0
                if found.shape in last:
                    last[found.shape] = found.number
        pos += len(line)
    return markers


def _inline_markers(text: str, offset: int, body: str, last: dict[str, int]) -> list[_Marker]:
    out: list[_Marker] = []
    for m in INLINE.finditer(body):
        shape = m.lastgroup
        raw = m.group().strip("、()（）")
        n = cn_to_int(raw)
        restart = shape == "L1" and n == 1 and last["L1"] > 1
        if n != last[shape] + 1 and not restart:
            continue
        pos = offset + m.start()
        part = _part_label(text, pos) if restart else ""
        out.append(_Marker(pos, shape, n, marker_token(shape, raw), part))
        last[shape] = n
        if shape == "L1":
            last["L2"] = 0
    return out


def _part_label(text: str, pos: int) -> str:
    """The short heading between the last full stop and a restarted 一、 (e.g. 保障措施:四維支撐…)."""
    stop = max(text.rfind(p, 0, pos) for p in "。！？\n")
    frag = text[stop + 1 : pos].strip(WS)
    if not frag or len(frag) > PART_LABEL_MAX:
        return ""
    return re.split(r"[:：,，]", frag, maxsplit=1)[0]


def _heading(own: str) -> str:
    first = own.strip(WS + "\n").split("\n", 1)[0].strip(WS)
    if "。" in first:
        return first.split("。", 1)[0][:60]
    if len(first) <= 60:
        return first
    return re.split(r"[,，;；:：]", first, maxsplit=1)[0][:40]


def _strip_marker(s: str, m: _Marker) -> str:
    body = s.lstrip(WS)
    for rx in (SHAPES[m.shape], LOST_L1):
        hit = rx.match(body)
        if hit:
            return body[hit.end() :]
    return body


def clause_id(doc_id: str, path: str, text: str) -> str:
    return hashlib.sha1(f"{doc_id}|{path}|{text}".encode()).hexdigest()[:16]


def parse_clauses(doc_id: str, text: str) -> list[Clause]:
    """The clause tree of `text` as a flat list in document order (parents first)."""
    markers = _line_markers(text)
    if not markers:
        return _paragraph_clauses(doc_id, text)

    # Part restarts cut the label fragment out of the previous clause.
    ends_at: dict[int, int] = {}
    for m in markers:
        if m.part:
            ends_at[m.pos] = text.rfind(m.part, 0, m.pos)

    # Each node: marker, path tokens, depth, index of its parent node (or -1).
    nodes: list[tuple[_Marker, list[str], int, int]] = []
    stack: list[int] = []
    part = ""
    for m in markers:
        if m.part:
            part, stack = m.part, []
        shapes = [nodes[k][0].shape for k in stack]
        if m.shape in shapes:
            stack = stack[: shapes.index(m.shape)]
        parent = stack[-1] if stack else -1
        stack.append(len(nodes))
        tokens = ([f"{part}·"] if part else []) + [nodes[k][0].token for k in stack[:-1]] + [m.token]
        nodes.append((m, tokens, len(stack), parent))

    clauses: list[Clause] = []
    preamble = text[: markers[0].pos]
    if preamble.strip(WS + "\n"):
        clauses.append(_make(doc_id, PREAMBLE, preamble, preamble, 0, markers[0].pos, None, (), 1))

    ids: list[str] = []
    for i, (m, tokens, depth, parent) in enumerate(nodes):
        end = len(text)
        for m2, _, d2, _ in nodes[i + 1 :]:
            if m2.part:
                end = ends_at[m2.pos]
                break
            if d2 <= depth:
                end = m2.pos
                break
        has_child = i + 1 < len(nodes) and nodes[i + 1][3] == i
        own_end = nodes[i + 1][0].pos if has_child else end
        chain = []
        k = parent
        while k >= 0:
            chain.append(join_path(nodes[k][1]))
            k = nodes[k][3]
        full = text[m.pos : end].rstrip(WS + "\n")
        own = text[m.pos : own_end].rstrip(WS + "\n")
        c = _make(doc_id, join_path(tokens), full, own, m.pos, m.pos + len(full),
                  ids[parent] if parent >= 0 else None, tuple(reversed(chain)), depth, m)
        clauses.append(c)
        ids.append(c.clause_id)
    return clauses


def markers_of(nodes, k: int) -> _Marker:
    return nodes[k][0] if k < len(nodes) else None


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
