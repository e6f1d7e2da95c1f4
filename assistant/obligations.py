"""Quantitative obligations found in any ingested document, with verbatim citations.

No per-document code: every clause of every document in the store is scanned
for patterns such as 不少于30节, 不低于1.5%, 5‰, 每5年, 每学期至少…一次,
每所…3名, 到2021年底. Matching runs on the simplified form (OpenCC t2s) of
each sentence segment; segments are cut at punctuation, which t2s never
changes, so every span found maps back to the original-script text. Inside a
segment t2s is character-for-character for these texts: when the lengths
agree, spans (who / what) are taken from the original at the same positions,
otherwise the position is found by searching prefixes. The quote is always an original-script span
of the clause (the whole sentence, or for very long sentences the segments
from the subject to the match) and goes through `store.citation`, so it is
verbatim by construction.

Structured fields (quantity, unit, period, per, deadline) are normalised
simplified strings; who / what / quote are in the document's own script.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from ingest.textnorm import t2s
from ingest.types import Citation, Clause

QUOTE_MAX = 150  # longer sentences are quoted from the subject segment to the match
_SENT_END = "。;；!！?？\n"
_SEG_CUT = ",，:："
_OPEN, _CLOSE = "(（《“‘[【", ")）》”’]】"
_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CN_NUM = "[一二两三四五六七八九十]+"

_CMP = r"不少于|不低于|不超过|不高于|不多于|不得少于|不得低于|至少|最少|最多|达到|超过|低于|高于"
_QTY = re.compile(
    rf"(?P<cmp>{_CMP})?(?P<lo>\d+(?:\.\d+)?)(?:(?:至|到|-|—|~|－)(?P<hi>\d+(?:\.\d+)?))?"
    r"(?P<unit>%|‰|个百分点|节课|节|项|名|所|个班|次|人次|人|万元|亿元|元|分|课时|学时|天|小时|年|周|个月)"
    r"(?P<post>以上|以下|以内)?")
_CN_QTY = re.compile(rf"(?<![第每统进唯万])(?P<cmp>{_CMP})?(?P<cn>{_CN_NUM})(?P<unit>次|名|项|所|节)(?!性)")
_PERIOD = re.compile(
    rf"每(?:(?P<n>\d+|{_CN_NUM})个?)?(?P<u>学年|学期|年度|年|季度|月|周|天|日)"
    rf"|(?P<n2>\d+|{_CN_NUM})年一(?:轮|次|周期)")
_PER = re.compile(r"每一?(?:所|个|位|名)[\u4e00-\u9fff]{1,6}?(?=配备|选派|确定|建立|开展|设立|分别|要|应|须|的|[\d一二两三四五六七八九十]|$)"
                  r"|每人")
_DEADLINE = re.compile(r"(?P<pre>到|至|于|在|截至|截止)?(?P<y>20\d\d)年(?:(?P<m>\d{1,2})月)?(?P<post>底前|底|末|前|以前)?")
_MODAL = re.compile(r"应|要|须|必须|确保|力争|达到|实现|全部|务必")
# A segment starting like this continues the previous one's subject.
_CONTINUES = re.compile(r"^(每|按|应|要|须|必须|不少于|不低于|至少|严格|确保|原则上(应|要)|并|其中|分别|力争|逐步|均|且|"
                        r"同时|用于|以|为|对|\d|到20|至20|于20)")
_LEAD = re.compile(r"^(要求|原则上|同时|其中|并且|并|另外|此外|对此|\d{4}年以来|(到|至|于)\d{4}年(底|末)?(前)?)+")
# Where the subject phrase ends: a modal, a quantity word, a preposition opening the predicate, a main verb.
_WHO_STOP = re.compile(r"每|按|应|要|须|必须|不少于|不低于|至少|原则上|严格|校内|(?<!存)在|对|(?<![作以成])为|于(?=\d)|"
                       r"到(?=\d)|从|(?<!即)将|向|达到|配备|选派|召开|组织|开展|建立|实行|实施|落实|予以")


@dataclass(frozen=True)
class Obligation:
    doc_id: str
    region: str
    title: str
    clause: str  # clause path
    who: str  # subject phrase (best effort), document script; "" when none was found
    what: str  # the requirement phrase, document script
    quantity: str | None  # normalised, simplified: 不少于30节, 5‰, 2至3所, 3年以上, 至少1次
    number: float | None
    unit: str
    item: str  # what is counted, when the text names it right after the number (家长会, 市级名校长 …)
    period: str | None  # 每学期, 每5年, 每月, 五年一轮
    per: str | None  # distributive scope: 每人, 每所实验校
    deadline: str | None  # 到2021年底, 于2023年前
    citation: Citation

    @property
    def quote(self) -> str:
        return self.citation.quote

    def as_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "region": self.region, "title": self.title, "clause": self.clause,
                "who": self.who, "what": self.what, "quantity": self.quantity, "number": self.number,
                "unit": self.unit, "item": self.item, "period": self.period, "per": self.per,
                "deadline": self.deadline, "citation": self.citation.public()}


# ---- text spans ------------------------------------------------------------


def _cut(text: str, cuts: str, start: int = 0, end: int | None = None, nest: bool = False) -> list[tuple[int, int]]:
    """Spans of text[start:end] cut after any char of `cuts` (outside brackets when `nest`); cut chars excluded."""
    end = len(text) if end is None else end
    spans, depth, a = [], 0, start
    for i in range(start, end):
        ch = text[i]
        if nest and ch in _OPEN:
            depth += 1
        elif nest and ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in cuts and depth == 0:
            spans.append((a, i))
            a = i + 1
    spans.append((a, end))
    out = []
    for a, b in spans:  # trim whitespace
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def _orig_pos(seg: "_Seg", k: int) -> int:
    """Position in seg.orig of simplified position k.

    Same position when t2s kept the segment's length (character-for-character,
    the normal case); otherwise search for the shortest original prefix whose
    simplified form is k characters long.
    """
    if len(seg.orig) == len(seg.simp):
        return k
    for m in range(len(seg.orig) + 1):
        if len(t2s(seg.orig[:m])) >= k:
            return m
    return len(seg.orig)


def _number(s: str) -> float:
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    total, cur = 0, 0
    for ch in s:
        if ch == "十":
            total += (cur or 1) * 10
            cur = 0
        else:
            cur = _CN[ch]
    return float(total + cur)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _who(simp: str) -> tuple[int, int]:
    """Span (simplified positions) of the subject phrase at the start of a segment; (0, 0) if none."""
    a = 0
    m = _LEAD.match(simp)
    if m:
        a = m.end()
    stop = _WHO_STOP.search(simp, a)
    b = stop.start() if stop else len(simp)
    if b - a > 30 and "(" in simp[a:b]:  # 教学业务费(包括……等) → 教学业务费
        b = simp.index("(", a)
    if b - a < 2 or b - a > 30:
        return (0, 0)
    return (a, b)


def _item(simp: str, pos: int) -> str:
    m = re.match(r"[^\s,，、;；。和与及(（的]{1,12}", simp[pos:])
    if not m:
        return ""
    s = m.group(0)
    s = re.split(r"安排|的比例|预算|配足", s)[0]
    return s if re.search(r"[\u4e00-\u9fff]", s) else ""


@dataclass
class _Seg:
    a: int  # span in the clause's own text (original script)
    b: int
    orig: str
    simp: str


# ---- extraction ------------------------------------------------------------


def _sentences(text: str) -> Iterable[tuple[list[_Seg], str | None]]:
    """Sub-sentences (cut at 。；…) as lists of segments, each with the deadline in force.

    A deadline (到2018年…) stated in a sentence also governs the following
    "；"-separated parts of the same "。" sentence.
    """
    for ba, bb in _cut(text, "。!！?？\n"):
        deadline = None
        for sa, sb in _cut(text, ";；", ba, bb):
            segs = []
            for a, b in _cut(text, _SEG_CUT, sa, sb, nest=True):
                orig = text[a:b]
                segs.append(_Seg(a, b, orig, t2s(orig)))
            if segs:
                deadline = _deadline("".join(sg.simp for sg in segs)) or deadline
                yield segs, deadline


def _find_quantities(simp: str, taken: list[tuple[int, int]]) -> list[dict[str, Any]]:
    out = []
    for m in _QTY.finditer(simp):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        lo = float(m.group("lo"))
        unit = m.group("unit")
        if unit == "年" and lo >= 1900:
            continue  # a date, not a quantity
        out.append({"start": m.start(), "end": m.end(), "cmp": m.group("cmp") or "", "lo": lo,
                    "hi": float(m.group("hi")) if m.group("hi") else None, "unit": unit,
                    "post": m.group("post") or "", "arabic": True})
    for m in _CN_QTY.finditer(simp):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        out.append({"start": m.start(), "end": m.end(), "cmp": m.group("cmp") or "", "lo": _number(m.group("cn")),
                    "hi": None, "unit": m.group("unit"), "post": "", "arabic": False})
    for q in out:
        if not q["cmp"]:  # a comparator earlier in the segment governs the number (不少于…总额的5%)
            before = simp[: q["start"]]
            m = None
            for m in re.finditer(_CMP, before):
                pass
            if m and not re.search(r"\d|[一二两三四五六七八九十](?:次|名|项|所|节)", before[m.end():]):
                q["cmp"] = m.group(0)
    return sorted(out, key=lambda q: q["start"])


def _quantity_text(q: dict[str, Any]) -> str:
    n = _fmt(q["lo"]) + (f"至{_fmt(q['hi'])}" if q["hi"] is not None else "")
    return f"{q['cmp']}{n}{q['unit']}{q['post']}"


def _period_text(m: re.Match) -> str:
    if m.group("n2"):
        return m.group(0)
    n = m.group("n")
    if n and not n.isdigit():
        n = _fmt(_number(n))
    return f"每{n or ''}{m.group('u')}"


def _deadline(simp: str) -> str | None:
    for m in _DEADLINE.finditer(simp):
        if m.group("pre") or m.group("post"):
            return m.group(0)
    return None


def _window(segs: list[_Seg], i: int) -> int:
    """Index of the segment holding the subject of segment i (walk back over continuations)."""
    j = i
    while j > 0 and _CONTINUES.match(segs[j].simp):
        j -= 1
    return j


def _obligations_in(clause: Clause, doc, store) -> list[Obligation]:
    text = clause.own_text
    found: list[Obligation] = []
    seen: set[tuple] = set()

    def add(segs: list[_Seg], i: int, q: dict[str, Any] | None, period: str | None, per: str | None,
            deadline: str | None) -> None:
        j = _window(segs, i)
        seg = segs[j]
        if j == i and deadline and _DEADLINE.fullmatch(seg.simp) and j + 1 < len(segs):
            seg = segs[j + 1]  # "到2021年底," opens the sentence: the subject is in the next segment
        wa, wb = _who(seg.simp)
        if seg is segs[i] and wb == len(seg.simp):
            wa = wb = 0  # the whole matched segment is no subject: it is the requirement itself
        a, b = _orig_pos(seg, wa), _orig_pos(seg, wb)
        who = seg.orig[a:b] if wb else ""
        # what: from after the subject to the end of the matched segment (document script)
        start = seg.a + (b if wb else 0)
        what = text[start: segs[i].b].lstrip(",，、 ")
        sent_a, sent_b = segs[0].a, segs[-1].b
        if sent_b - sent_a <= QUOTE_MAX:
            qa, qb = sent_a, sent_b
        else:
            qa, qb = segs[j].a, segs[i].b
            k = i + 1
            while k < len(segs) and not _MODAL.search(t2s(text[qa:qb])) and segs[k].b - qa <= QUOTE_MAX:
                qb = segs[k].b
                k += 1
        quote = text[qa:qb]
        quantity = _quantity_text(q) if q else None
        item = _item(segs[i].simp, q["end"]) if q and q["unit"] not in ("%", "‰", "个百分点") else ""
        key = (qa, qb, quantity, item, period, per, deadline)
        if key in seen:
            return
        seen.add(key)
        found.append(Obligation(
            doc_id=clause.doc_id, region=doc.meta.region, title=doc.meta.title, clause=clause.path,
            who=who, what=what, quantity=quantity, number=q["lo"] if q else None, unit=q["unit"] if q else "",
            item=item, period=period, per=per, deadline=deadline, citation=store.citation(clause, quote)))

    for segs, deadline in _sentences(text):
        sent_simp = "".join(s.simp for s in segs)
        hits = 0
        for i, seg in enumerate(segs):
            s = seg.simp
            periods = list(_PERIOD.finditer(s))
            pers = list(_PER.finditer(s))
            taken = [m.span() for m in periods] + [m.span() for m in pers]
            period = _period_text(periods[0]) if periods else None
            per = pers[0].group(0) if pers else None
            qs = _find_quantities(s, taken)
            accepted = [q for q in qs if q["unit"] in ("%", "‰", "个百分点") or q["cmp"] or q["post"]
                        or period or per or (deadline and q["arabic"])]
            for q in accepted:
                # the nearest period before the number governs it (每年…一次(…每学期一次))
                near = [m for m in periods if m.start() < q["start"]]
                add(segs, i, q, _period_text(near[-1]) if near else period, per, deadline)
                hits += 1
            if not accepted and period:
                add(segs, i, None, period, per, deadline)
                hits += 1
        if not hits and _deadline(sent_simp) and _MODAL.search(sent_simp):
            i = next(k for k, sg in enumerate(segs) if _deadline(sg.simp))
            if _DEADLINE.fullmatch(segs[i].simp) and i + 1 < len(segs):
                i += 1
            add(segs, i, None, None, None, deadline)
    return found


def extract_obligations(store, region: str | None = None) -> list[Obligation]:
    """Every quantitative obligation in the store's documents (of `region`, if given), in document order."""
    if region:
        (region,) = store.check_regions([region])
    out: list[Obligation] = []
    for doc_id in sorted(store.docs):
        doc = store.docs[doc_id]
        if region and doc.meta.region != region:
            continue
        for clause in store.clauses_of(doc_id):
            out.extend(_obligations_in(clause, doc, store))
    return out


# ---- output ------------------------------------------------------------------


def _cell(s: str | None, limit: int | None = None) -> str:
    s = (s or "—").replace("|", "\\|").replace("\n", " ")
    if limit and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def format_table(obligations: list[Obligation]) -> str:
    """A Markdown table for the CLI: one row per obligation, the quote verbatim in the last column."""
    if not obligations:
        return "没有找到量化要求。"
    head = "| 地区 | 条款 | 主体 | 要求 | 数量 | 周期/范围 | 期限 | 原文 |\n|---|---|---|---|---|---|---|---|"
    rows = []
    for o in obligations:
        qty = " ".join(x for x in (o.quantity, o.item) if x) or None
        scope = "，".join(x for x in (o.period, o.per) if x) or None
        rows.append(f"| {_cell(o.region)} | {_cell(o.clause)} | {_cell(o.who, 20)} | {_cell(o.what, 40)} | "
                    f"{_cell(qty)} | {_cell(scope)} | {_cell(o.deadline)} | {_cell(o.quote)} |")
    return head + "\n" + "\n".join(rows) + f"\n\n共{len(obligations)}条。"
