"""Who a number is about: the subject phrase of a sentence or segment, in the document's script."""
from __future__ import annotations

import re
from typing import Iterable

from ingest.types import Clause

from .quantity import _Q
from .text import (
    _ATTRS, _COND_SEG, _COND_START, _CONTINUES, _LEAD, _WHO_STOP, _compact, _Seg, _segments,
    _sentences, _unbracket,
)

# ---- subject ------------------------------------------------------------------


def _who(s: str) -> str:
    a = 0
    m = _LEAD.match(s)
    if m:
        a = m.end()
    stop = _WHO_STOP.search(s, a)
    b = stop.start() if stop else len(s)
    phrase = s[a:b].strip("、,， ")
    if b - a > 30 and "(" in phrase:
        phrase = phrase[: phrase.index("(")]
    phrase = re.sub(r"^(的|和|与|及(?!格)|或|对|将|各级|所有)", lambda x: "" if x.group(0) in ("的", "和", "与", "及", "或", "对", "将") else x.group(0), phrase)
    if len(phrase) < 2 or len(phrase) > 30 or not re.match(r"[\u4e00-\u9fffA-Za-z“\"]", phrase) \
            or not re.search(r"[\u4e00-\u9fff]{2}|^[A-Za-z][等级类]", phrase):
        return ""
    if re.match(r"(其中|包括|含|如|即|具体|计分|时间|网址|第|半天|全天|当年|当月|下学期|上学期|处|由|责令|没收|依法|并处)", phrase) \
            or phrase in _ATTRS:
        return ""
    if re.search(r"(后|时|前|期间|以来|起)$", phrase) or re.match(r"(自|从)", phrase):
        return ""  # 自发现之日起 / 查实后: when, not who
    return phrase


def _head_noun(s: str) -> str:
    """The head of a long noun phrase: what follows its last 的 (…的全日制应届硕士研究生)."""
    if "的" not in s:
        return ""
    tail = re.sub(r"[(（][^)）]*[)）]", "", s).rsplit("的", 1)[-1]
    if 2 <= len(tail) <= 15 and not _WHO_STOP.search(tail) and re.fullmatch(r"[\u4e00-\u9fff、]+", tail):
        return tail
    return ""


def _vocab(text: str, words: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for w in words:
        if w in text and not any(w in f for f in found):
            found.append(w)
    return tuple(found)


# ---- per clause ------------------------------------------------------------------


def _orig(text: str, idx: list[int], a: int, b: int) -> str:
    """Original-script span of compact positions [a, b)."""
    if b <= a:
        return ""
    return text[idx[a]: idx[b - 1] + 1]


_DUI = re.compile(r"对([^,，]{2,30}?)(给予|予以|处以?|依法)")
_DUI_ALONE = re.compile(r"对([^,，]{2,30})$")
_ACTOR = re.compile(r"^(.{0,16}?(?:学校|幼儿园|机构|部门|人员|教师|学生|举办者|政府|儿童|家长|父母|监护人|单位|个人|组织|校长|考生|企业))")


def _dui(segs: list[_Seg], i: int) -> str:
    """The party a penalty names: 对X给予… / 对X，依法给予…; "" if segment i is not such."""
    m = _DUI.match(segs[i].s)
    if m:
        return m.group(1)
    m = _DUI_ALONE.match(segs[i].s)
    if m and i + 1 < len(segs) and re.match(r"(依法)?(给予|予以|处)", segs[i + 1].s):
        return m.group(1)
    return ""
_ZHE = re.compile(r"(?:在[^,，]{1,8}期间)?([^,，;；]{2,40}?者)(?=[加扣减得可应须享按每]|$)")


def _subject(simp: str, segs: list[_Seg], si: int, q: _Q, qs: list[_Q], parens: list[tuple[int, int]],
             per: str | None, conditions: list[str],
             prev_who: tuple[str, _Seg] | None = None) -> tuple[str, _Seg | None]:
    """Who a number is about, as (simplified phrase, segment holding it); ("", None) if none.

    In order: a role in brackets right after the number (12节（行政教辅后勤人员）); the head noun
    the number qualifies (不到三年的老教师, 年满六周岁的儿童); the phrase before the number in its
    own segment (after any earlier number: 中层正职7节、副职8节); inside brackets, the phrase
    opening the bracket; 对X给予/处 (penalties); 每名X (distributive); an explicit …者 phrase
    before it; the sentence's opening phrase; the nearest earlier segment with a subject.
    Condition segments (凡…的, 根据…, …的前提下) met on the way are collected in `conditions`."""
    seg = segs[si]
    after = simp[q.end:seg.b]
    m = re.match(r"[(（]([\u4e00-\u9fff、]{2,12})[)）]", after)
    if m and re.search(r"(人员|教师|者|学生|职工|干部|校长|家长|儿童)$", m.group(1)):
        return m.group(1), seg
    m = re.match(r"的([\u4e00-\u9fff、]{2,12}?)(?=可以|可|应当|应|须|必须|不得|要|享受|按|$)", _unbracket(after))
    if m and re.search(r"(人员|教师|者|学生|儿童|少年|子女|职工|干部|校长|学校|幼儿园|机构)$", m.group(1)):
        return m.group(1), seg
    m = re.match(r"(?:以上|以下)?([\u4e00-\u9fff]{2,8}?(?:人员|代表|教师|学生|职工|干部))", after)
    if m and q.unit == "分数":
        return m.group(1), seg  # 经1/3以上组成人员提议
    la = max([seg.a] + [p.end for p in qs if seg.a <= p.end <= q.start])
    inside = next(((a, b) for a, b in parens if a < q.start < b), None)
    if inside and inside[0] >= la:
        inner = simp[inside[0] + 1:q.start]
        cand = _who(inner)
        if cand:
            return cand, _Seg(inside[0], seg.b, simp[inside[0]:seg.b], False)
        if per and re.match(r"每一?[名位个所]", per) and per in inner:
            cand = re.sub(r"^每一?[名位个所]", "", per)
            if len(cand) >= 2:
                return cand, _Seg(inside[0], seg.b, simp[inside[0]:seg.b], False)
        la_text = _unbracket(simp[la:inside[0]])
    else:
        la_text = _unbracket(simp[la:q.start])
    lstart = la_text.lstrip("、和及与或,，")
    zhe = _ZHE.match(lstart)
    if zhe:
        return _unbracket(zhe.group(1)), seg
    if la > seg.a and not la_text.strip("、，,和及与或 ") and prev_who:
        return prev_who  # 分别控制在46.8%、67.51%: the same subject
    listed = la == seg.a or re.match(r"[、;；,，]", la_text)  # 中层正职7节、副职8节 (not 1名X和2名Y)
    if listed and not re.match(_COND_START, seg.s) and not _CONTINUES.match(_LEAD.sub("", lstart)):
        cand = _who(lstart)
        if cand:
            return cand, (seg if la == seg.a else _Seg(la, seg.b, simp[la:seg.b], False))
    if not listed and prev_who:
        return prev_who
    if not listed:  # a second number in a coordinated object: the segment's own opening subject
        first_q = min(p.start for p in qs if seg.a <= p.start < seg.b)
        cand = _who(_unbracket(simp[seg.a:first_q]))
        if cand and not _CONTINUES.match(seg.s):
            return cand, seg
    for i in range(si, -1, -1):
        sg = segs[i]
        d = _dui(segs, i)
        if d and not (sg.a <= q.start < sg.b):
            return d, sg
    if per and re.match(r"每一?[名位个所]", per):
        cand = re.sub(r"^每一?[名位个所]", "", per)
        if len(cand) >= 2:
            return cand, next((sg for sg in segs if per in sg.s), seg)
    # walk back: an explicit …者 wins, then the opening phrase, then the nearest subject
    earlier = segs[:si]
    for sg in reversed(earlier):
        if re.search(r"者$", sg.s) and not re.match(_COND_START, sg.s) and not _CONTINUES.match(sg.s):
            return _unbracket(sg.s), sg
    for sg in earlier:
        if _COND_SEG.search(sg.s):
            conditions.append(sg.s)
    first = next((sg for sg in earlier if not _COND_SEG.search(sg.s)), None)
    if first is not None and not _CONTINUES.match(first.s):
        m = _ACTOR.match(_LEAD.sub("", first.s))
        cand = _who(first.s) or _head_noun(first.s) or (m.group(1) if m else "")
        if cand:
            return cand, first
    for sg in reversed(earlier):
        if _COND_SEG.search(sg.s) or _CONTINUES.match(sg.s):
            continue
        cand = _who(sg.s) or _head_noun(sg.s)
        if cand:
            return cand, sg
    for sg in earlier:  # "民办学校自己要求终止的，应当提前6个月…": the actor of the condition
        m = _ACTOR.match(sg.s)
        if m and re.search(r"的$", sg.s) and not re.match(_COND_START, sg.s):
            return m.group(1), sg
    return "", None


def _sentence_subject(simp: str, prefer_dui: bool = False) -> str:
    """The subject a sentence opens with (simplified), or the party a penalty names (对X给予…)."""
    mk = re.match(r"^(?:第[^条章]{1,6}[条章]|[(（]?[一二三四五六七八九十\d]{1,3}[)）、.．]|[①-⑳])", simp)
    segs = _segments(simp[mk.end():] if mk else simp)
    if prefer_dui:
        for i, sg in enumerate(segs):
            d = _dui(segs, i)
            if d and not re.search(r"\d", sg.s):
                return d
    for i, sg in enumerate(segs):
        if re.match(_COND_START, sg.s) and not sg.s.startswith("对"):
            continue
        who = _dui(segs, i) or _who(sg.s)
        if who and not who.endswith("的"):
            return who
        if re.search(r"的$", sg.s):
            m = _ACTOR.match(sg.s)
            if m and not re.match(_COND_START, m.group(1)):
                return m.group(1)
            continue
        break
    return ""


def opening_subject(clause: Clause) -> str:
    """The subject that opens a clause (an article's actor: 学校或者其他教育机构违反…的 → 学校或者其他教育机构)."""
    sents = _sentences(clause.own_text)
    for sa, sb in sents[:1]:
        simp, idx = _compact(clause.own_text, sa, sb)
        who = _sentence_subject(simp)
        if who:
            pos = simp.find(who)
            return _orig(clause.own_text, idx, pos, pos + len(who)) if pos >= 0 else who
    return ""

