"""Where each numbered clause of a Chinese policy text or law starts: the marker shapes (第X章/第X条,
一、（一）1.（1）①, 附件N), Chinese numerals, and the 款 after an article's items (ingest.clauses builds the tree)."""
from __future__ import annotations

import re
from dataclasses import dataclass

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
# 附件1 / 附件：1.… / 附：1.… (a school's notice lists its attachments under a bare 附：, the colon required
# so that 附则 or 附近 never opens one)
ANNEX = re.compile(r"附(?:件\s*([0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})?\s*[:：]?|\s*[:：])")
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


def _closed_list(text: str, items: list[_Marker], end: int) -> bool:
    """Items of one shape punctuated as a law's list: each ends its line with "；" but the last, which ends with "。"
    (①…；②…；⑤…。): a paragraph after the last one is no longer the list's."""
    if len({x.shape for x in items}) != 1 or len(items) < 2:
        return False
    for x, nxt in zip(items, items[1:]):
        if not text[x.pos : nxt.pos].rstrip(WS + "\r\n").endswith(("；", ";")):
            return False
    return True


def _trailing_paragraphs(text: str, markers: list[_Marker]) -> list[_Marker]:
    """A paragraph after an article's last （N） item is the article's next 款, not part of that item:
    "第二十九条 学校行使下列权利：（一）…（九）…其他权利。\n国家保护学校…" is 第二十九条第二款. Only in
    articles whose items are all （一）-shaped (a law's 项) or punctuated as a closed list (_closed_list); a plan's
    items may run over several paragraphs."""
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
        end = markers[j].pos if j < len(markers) else len(text)
        if not items or not (all(x.shape == "L2" for x in items) or _closed_list(text, items, end)):
            continue
        last = items[-1]
        line_end = text.find("\n", last.pos, end)
        if line_end < 0 or not text[last.pos : line_end].rstrip(WS + "\r").endswith("。"):
            continue
        lead = [x for x in text[m.pos : items[0].pos].split("\n") if x.strip(WS + "\r")]
        # the lead's 款: its lines that are sentences (第六条 年终结算的年度绩效考核奖 on a line of its own is a heading)
        paragraph = max(1, sum(x.rstrip(WS + "\r").endswith(tuple("。；：;:")) for x in lead))
        pos = line_end + 1
        for line in text[line_end + 1 : end].splitlines(keepends=True):
            if line.strip(WS + "\r\n"):
                paragraph += 1
                out.append(_Marker(pos + len(line) - len(line.lstrip(WS)), "KUAN", paragraph,
                                   f"第{int_to_cn(paragraph)}款"))
            pos += len(line)
    return out
