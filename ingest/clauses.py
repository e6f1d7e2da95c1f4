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
from dataclasses import dataclass

from .types import Clause

CN_DIGITS = "零一二三四五六七八九"
# A well-formed numeral up to 九十九 only: '三五、' or '一一、' is prose, and cn_to_int
# cannot read it (it used to raise ValueError and abort the whole ingest batch).
CN = "(?:[一二三四五六七八九]?十[一二三四五六七八九]?|[一二三四五六七八九])"
# Article and chapter numbers run into the hundreds (第二百零一条).
CN_BIG = "(?:[一二三四五六七八九十百千零〇两]{1,8}|[0-9]{1,4})"
WS = " \t\u00a0\u3000\u2002\u2003\u2009\ufeff"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
# Ranked headings: a lower rank number is a higher level. 第X条 is the clause unit of a law.
RANKED = {
    "PART": (0, re.compile(rf"第({CN_BIG})\s?(编|編|部分)(?![\u4e00-\u9fff]{{0,3}}[的规定])")),
    "ZHANG": (1, re.compile(rf"第({CN_BIG})\s?(章)")),
    "JIE": (2, re.compile(rf"第({CN_BIG})\s?([节節])(?![日])")),
    # A stray space (第一百二十八 条) occurs in real law texts.
    "ART": (3, re.compile(rf"第({CN_BIG})\s?([条條])(之[一二三四五六七八九十])?(?![的规定中款项])")),
}
HEADING_MAX = 40
SKIP = 3  # an article number may jump by this much (a source's typo) and still be the next article
# Articles run into one paragraph in some sources ("…制定本规则。 第二条 凡…"): the next article number
# after a sentence end starts a new article.
INLINE_ART = re.compile(rf"(?<=[。；！？：])[ \u3000]*(第({CN_BIG})\s?[条條])")  # 第一章 总则 is a heading line; a long line starting with 第三章 is prose
SHAPES = {  # shape -> regex anchored at the marker start; group(1) is the number
    "L1": re.compile(rf"({CN})[、．.](?![\d])"),
    "L2": re.compile(rf"[(（]({CN})[)）]"),
    "L3": re.compile(r"(\d{1,2})[.．、](?![\d%％])"),
    "L4": re.compile(r"[(（](\d{1,2})[)）]"),
    "L5": re.compile(r"(\d{1,2})[)）]"),
    "L6": re.compile(rf"([{CIRCLED}])"),
    "L7": re.compile(r"【[^】\d]{0,8}(\d{1,3})】"),  # 【重点任务3】 items of a plan
}
ANNEX = re.compile(r"附件\s*([0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})?\s*[:：]?")
ANNEX_MAX = 60
LOST_L1 = re.compile(r"[.．]\s*(?=[\u4e00-\u9fff])")  # ". 实施步骤": the numeral fell off
# In one very long line (a page flattened to a paragraph) only the two Chinese
# levels are trusted, and only as the expected next number.
INLINE = re.compile(rf"(?P<L1>{CN}、)|(?P<L2>[(（]{CN}[)）])")
LONG_LINE = 800
PART_LABEL_MAX = 40
PREAMBLE = "前言"


def cn_to_int(s: str) -> int:
    """A Chinese (or arabic) numeral as an int: 十 → 10, 二十五 → 25, 二百零一 → 201."""
    if s in CIRCLED:  # before isdigit(): '①'.isdigit() is True
        return CIRCLED.index(s) + 1
    if s.isascii() and s.isdigit():
        return int(s)
    if False:
        return CIRCLED.index(s) + 1
    import cn2an

    return int(cn2an.cn2an(s.replace("〇", "零").replace("两", "二"), "normal"))


def int_to_cn(n: int) -> str:
    if n < 10:
        return CN_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")
    import cn2an

    return cn2an.an2cn(n)


def marker_token(shape: str, number: str) -> str:
    return {"L1": "{}", "L2": "({})", "L3": "{}", "L4": "({})", "L5": "{})", "L6": "{}"}[shape].format(number)


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
    part: str = ""  # a part opened by this marker (a restart or an annex)
    body_end: int = 0  # where the marker ends (for headings)


def _number(shape: str, raw: str) -> int:
    return cn_to_int(raw) if shape in ("L1", "L2", "L6") else int(raw)


def _ranked_marker(body: str, pos: int, last: dict[str, int]) -> _Marker | None:
    line = body.split("\n", 1)[0].rstrip(WS + "\r")
    for shape, (_, rx) in RANKED.items():
        m = rx.match(body)
        if not m:
            continue
        try:
            n = cn_to_int(m.group(1))
        except (ValueError, KeyError, IndexError):
            return None
        if shape != "ART" and (len(line) > HEADING_MAX or "。" in line):
            return None  # prose that happens to begin with 第三章
        prev = last.get(shape, 0)
        sub = (m.group(3) or "") if shape == "ART" else ""  # 之一
        # Numbers run forward (a source may skip one); a cross-reference wrapped onto a new line does not.
        if prev and not (prev < n <= prev + SKIP) and not (n == 1 and prev >= 1) and not sub:
            if shape == "ART" or n <= prev:
                return None
        kind = {"ART": "条", "ZHANG": "章", "JIE": "节"}.get(shape) or m.group(2).replace("編", "编")
        return _Marker(pos, shape, n, f"第{int_to_cn(n)}{kind}{sub}", body_end=pos + m.end())
    return None


def _line_markers(text: str) -> list[_Marker]:
    markers: list[_Marker] = []
    last: dict[str, int] = {"L1": 0, "L2": 0}
    pos = 0
    for line in text.splitlines(keepends=True):
        body_start = pos + (len(line) - len(line.lstrip(WS)))
        body = line.lstrip(WS)
        if len(body) > LONG_LINE and not RANKED["ART"][1].match(body):
            markers.extend(_inline_markers(text, body_start, body, last))
        else:
            found = _ranked_marker(body, body_start, last)
            stripped = body.rstrip(WS + "\r\n")
            if found is None and ANNEX.match(body) and len(stripped) <= ANNEX_MAX and "。" not in stripped:
                num = ANNEX.match(body).group(1) or ""
                label = f"附件{num}"
                found = _Marker(body_start, "ANNEX", 0, label, part=label)
            if found is None:
                for shape, rx in SHAPES.items():
                    m = rx.match(body)
                    if m:
                        n = _number(shape, m.group(1))
                        token = m.group(0) if shape == "L7" else marker_token(shape, m.group(1))
                        found = _Marker(body_start, shape, n, token)
                        break
            if found is None and LOST_L1.match(body) and last["L1"]:
                n = last["L1"] + 1
                found = _Marker(body_start, "L1", n, int_to_cn(n))
            if found:
                markers.append(found)
                if found.shape == "ANNEX":
                    last = {"L1": 0, "L2": 0}
                elif found.shape in RANKED:
                    rank = RANKED[found.shape][0]
                    for s2, (r2, _) in RANKED.items():
                        if r2 > rank and s2 != "ART":
                            last[s2] = 0
                if found.shape == "L1":
                    last["L2"] = 0
                if found.shape != "ANNEX":
                    last[found.shape] = found.number
                if found.shape == "ART":
                    markers.extend(_inline_articles(line, pos, last))
        pos += len(line)
    return markers


def _inline_articles(line: str, line_start: int, last: dict[str, int]) -> list[_Marker]:
    out = []
    for m in INLINE_ART.finditer(line):
        try:
            n = cn_to_int(m.group(2))
        except (ValueError, KeyError, IndexError):
            continue
        if n == last["ART"] + 1:
            start = line_start + m.start(1)
            out.append(_Marker(start, "ART", n, f"第{int_to_cn(n)}条", body_end=line_start + m.end(1)))
            last["ART"] = n
    return out


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
    stop = _last_of(text, "。！？\n", pos)
    frag = text[stop + 1 : pos].strip(WS)
    if not frag or len(frag) > PART_LABEL_MAX:
        return ""
    return re.split(r"[:：,，]", frag, maxsplit=1)[0]


def _last_of(text: str, chars: str, pos: int, window: int = 4096) -> int:
    """max(text.rfind(c, 0, pos) for c in chars), looking back a window at a time: a character
    that never occurs would otherwise send rfind back to the start of the text on every call."""
    hi = pos
    while hi > 0:
        lo = max(0, hi - window)
        found = max(text.rfind(c, lo, hi) for c in chars)
        if found >= 0:
            return found
        hi = lo
        window *= 2
    return -1


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


def _strip_marker(s: str, m: _Marker) -> str:
    body = s.lstrip(WS)
    if m.shape in RANKED:
        return body[m.body_end - m.pos :].lstrip(WS)
    if m.shape in ("ANNEX", "KUAN"):  # a 款 has no marker of its own
        return body
    for rx in (SHAPES[m.shape], LOST_L1):
        hit = rx.match(body)
        if hit:
            return body[hit.end() :]
    return body


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


def _trailing_paragraphs(text: str, markers: list[_Marker]) -> list[_Marker]:
    """A paragraph after an article's last （N） item is the article's next 款, not part of that item:
    "第二十九条 学校行使下列权利：（一）…（九）…其他权利。\n国家保护学校…" is 第二十九条第二款. Only in
    articles whose items are all （一）-shaped (a law's 项); a plan's items may run over several paragraphs."""
    out: list[_Marker] = []
    i = 0
    while i < len(markers):
        m = markers[i]
        j = i + 1
        while m.shape == "ART" and j < len(markers) and markers[j].shape not in RANKED and markers[j].shape != "ANNEX":
            j += 1
        items = markers[i + 1 : j]
        out.append(m)
        out.extend(items)
        i = j
        if not items or any(x.shape != "L2" for x in items):
            continue
        end = markers[j].pos if j < len(markers) else len(text)
        last = items[-1]
        line_end = text.find("\n", last.pos, end)
        if line_end < 0 or not text[last.pos : line_end].rstrip(WS + "\r").endswith("。"):
            continue
        paragraph = text[m.pos : items[0].pos].strip(WS + "\n").count("\n") + 1  # the lead's 款
        pos = line_end + 1
        for line in text[line_end + 1 : end].splitlines(keepends=True):
            if line.strip(WS + "\r\n"):
                paragraph += 1
                out.append(_Marker(pos + len(line) - len(line.lstrip(WS)), "KUAN", paragraph,
                                   f"第{int_to_cn(paragraph)}款"))
            pos += len(line)
    return out


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
