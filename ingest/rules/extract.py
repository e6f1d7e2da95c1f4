"""Any document → typed quantitative rules, one record per number, each with a verbatim quote.

Works on `ingest.types.Clause` objects only (their `path`, `own_text`, `heading`),
so it runs the same on a stored index (`assistant.obligations`), on a freshly
parsed file (`ingest.pipeline.process_file`) and on an upload.

How a clause is read:
- its own text is cut into sentences (。！？；and line ends) and segments (，：、 where
  a comma-like mark separates clauses; brackets are segments of their own);
- each sentence is matched on a *compact* form: whitespace removed (HTML and PDF
  text put spaces inside "28 周岁"), full-width digits made ASCII, traditional
  characters made simplified, character by character, with a map back to the
  original positions, so every quote is a verbatim span of the clause;
- a quantity is a number (arabic, Chinese numerals via cn2an, 百分之五, 1/3,
  三分之一, 1:3) with a unit from a closed list, with its comparator (不少于 …,
  以上/以下/以内, ranges 12-15节, 一年以上三年以下);
- dates (2010年3月2日, 二〇一〇年), ordinals (第三条, 第十一届), 文号 (〔2010〕3号),
  clock times, phone numbers and grade names (高三, 初一) are never quantities;
- 每学期 / 每5年 / 按月 / 100元/天 give the period, 每人 / 每所学校 / 每节 the
  distributive scope; a period whose number is the only one in its segment
  ("每3年重新核定") is itself the rule's value;
- a quantity directly followed by another ("12小时60元") is a condition of it;
- the subject is the noun phrase that opens the sentence (or the segment that
  holds the number), skipping conditions (凡…的, 对…的, …者) and leading
  adverbials; with none, the clause heading.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from ingest.textnorm import t2s
from ingest.types import Clause, ExtractedRule

from .quantity import _Q, _deadline, _period_text, _quantities
from .subject import _orig, _sentence_subject, _subject, _vocab, opening_subject
from .text import (
    _BUILD_VERB, _CMP_PRE, _LEAD, _PER, _PERIOD, _ROLES, _RANKS, _SCHOOLS, QUOTE_MAX, _compact, _paren_spans,
    _Seg, _segments, _sentences, parse_number,
)


def extract_clause(clause: Clause, parent_subject: str = "", parent_heading: str = "") -> list[ExtractedRule]:
    text = clause.own_text
    opening = opening_subject(clause) or parent_subject
    out: list[ExtractedRule] = []
    seen: set[tuple] = set()
    heading = clause.heading.strip() if clause.heading else ""
    prev_subject = ""  # the subject the previous sentence opened with (original script)
    title_keys: set[int] = set()
    sents = _sentences(text)
    first_sa = sents[0][0] if sents else -1
    for sa, sb in sents:
        simp, idx = _compact(text, sa, sb)
        if not simp or not idx:
            continue
        fallback, prev_subject = prev_subject, ""
        ps = _sentence_subject(simp, prefer_dui=True)
        if ps:
            pos = simp.find(ps)
            prev_subject = _orig(text, idx, pos, pos + len(ps)) if pos >= 0 else ps
        # the marker at the start of a clause (一、 （三） 1．) is no quantity
        mk = re.match(r"^(?:第[^条章]{1,6}[条章]|[(（]?[一二三四五六七八九十\d]{1,3}[)）、.．]|[①-⑳])", simp)
        skip_to = mk.end() if mk else 0
        segs = _segments(simp)
        parens = _paren_spans(simp)
        if not segs:
            continue
        if skip_to and segs[0].a < skip_to < segs[0].b:
            segs[0] = _Seg(skip_to, segs[0].b, simp[skip_to:segs[0].b], False)
        elif skip_to and segs[0].b <= skip_to:
            segs = [sg for sg in segs if sg.a >= skip_to] or segs
        deadline = _deadline(simp)
        qs = [q for q in _quantities(simp) if q.start >= skip_to]
        periods = list(_PERIOD.finditer(simp))
        pers = list(_PER.finditer(simp))
        # "每3年重新核定" with no other quantity in its segment: the period is the rule's value
        extra: list[tuple[_Q, str]] = []
        for pm in periods:
            if not (pm.group("n") or pm.group("n2")):
                continue
            seg = next((sg for sg in segs if sg.a <= pm.start() < sg.b), None)
            if seg is None or any(seg.a <= q.start < seg.b for q in qs):
                continue
            v = parse_number(pm.group("n") or pm.group("n2"))
            unit = pm.group("u") or "年"
            unit = {"学年度": "学年", "季": "季度", "星期": "周", "日": "天", "月": "个月"}.get(unit, unit)
            if v is not None:
                extra.append((_Q(pm.start(), pm.end(), v, None, unit, "每", "every", False), _period_text(pm)))
        all_q = [(q, None) for q in qs] + extra
        all_q.sort(key=lambda t: t[0].start)
        # a quantity directly followed by another one is that one's condition (12小时60元, 半天50元)
        cond_of: dict[int, str] = {}
        for k in range(len(all_q) - 1):
            q1, q2 = all_q[k][0], all_q[k + 1][0]
            if q2.start == q1.end and (q1.unit != q2.unit or q1.op != "eq") and q2.unit in (
                    "元", "万元", "分", "%", "课时", "节", "人", "名"):
                cond_of[k + 1] = simp[q1.start:q1.end]
        def sg_start(q: _Q) -> int:
            return next((sg.a for sg in segs if sg.a <= q.start < sg.b), -1)

        # …in the same segment, "一次获得…者加1分": the first number is part of the condition
        for k in range(len(all_q) - 1):
            q1, q2 = all_q[k][0], all_q[k + 1][0]
            between = re.sub(r"[(（][^)）]*[)）]", "", simp[q1.end:q2.start])
            if k + 1 not in cond_of and not re.search(r"[,，;；:：、]", between) and (
                    re.search(r"(者|的)[加扣减得按为]?$", between) or between in ("计", "为", "按")
                    or (q1.comparator in ("内", "以内", "之内") and re.search(r"(前|最后|在)$", simp[:q1.start]))
                    or (q1.comparator in ("内", "以内") and q1.start == sg_start(q1))):
                cond_of[k + 1] = simp[q1.start:q2.start].rstrip("加扣减得按为")
        # a number in a condition segment ("违法所得不足一万元的，按一万元计算") conditions the next number
        for k in range(len(all_q) - 1):
            q1 = all_q[k][0]
            sg1 = next((sg for sg in segs if sg.a <= q1.start < sg.b), None)
            nxt = all_q[k + 1][0]
            if (k + 1 not in cond_of and sg1 is not None and nxt.start >= sg1.b and (q1.value, q1.unit) == (nxt.value, nxt.unit)
                    and re.search(r"的$", sg1.s) and not re.search(r"[应须要]", sg1.s)):
                cond_of[k + 1] = sg1.s
        conds_skip = {k for k in range(len(all_q)) if k + 1 in cond_of}
        # "（含30天）" repeats a number of the range before it
        for k, (q, _) in enumerate(all_q):
            if k and re.search(r"[(（]含$", simp[:q.start]) and any(
                    p.value_max == q.value or p.value == q.value for p, _ in all_q[:k]):
                conds_skip.add(k)
        last_who: dict[int, tuple[str, _Seg]] = {}
        for k, (q, fixed_period) in enumerate(all_q):
            if k in conds_skip:
                continue
            si = next((i for i, sg in enumerate(segs) if sg.a <= q.start < sg.b), len(segs) - 1)
            seg = segs[si]
            # period: the nearest one before the number in the same sentence, or right after it (/月)
            period = fixed_period
            if period is None:
                after = [pm for pm in periods if q.end <= pm.start() <= q.end + 1 and pm.group("u4")]
                before = [pm for pm in periods if pm.end() <= q.start and pm.start() >= segs[max(0, si - 2)].a]
                pm = after[0] if after else (before[-1] if before else None)
                period = (_period_text(pm) or None) if pm else None
                if period is None and re.search(r"周$", simp[:q.start]) and q.unit in ("节", "课时"):
                    period = "每周"
            per = None
            pb = [pm for pm in pers if pm.end() <= q.start and pm.start() >= seg.a]
            pa = [pm for pm in periods if pm.group("u4") in ("人", "节", "次") and q.end <= pm.start() <= q.end + 1]
            if pb:
                per = pb[-1].group(0)
                if per in ("每次", "每例") and period and fixed_period is None:
                    period = None  # "每学年…，每次不少于一小时": 每次 replaces the period
            elif pa:
                per = "每" + pa[0].group("u4")
            if per == "人均":
                per = "每人"
            # subject (see _subject), conditions
            conditions: list[str] = []
            if k in cond_of:
                conditions.append(cond_of[k])
            prev = last_who.get(si)
            who, subject_seg = _subject(simp, segs, si, q, [p for p, _ in all_q], parens, per, conditions, prev)
            if who:
                last_who[si] = (who, subject_seg)
            for pa_, pb_ in parens:
                ptxt = simp[pa_ + 1:pb_ - 1]
                if re.match(r"(含|不含|包括|除|见)", ptxt) and (pb_ <= q.start and pa_ >= seg.a or pa_ == q.end):
                    conditions.append(ptxt)
            conditions = list(dict.fromkeys(conditions))
            who_orig = ""
            if not who and fallback:
                who_orig = fallback
            elif not who and opening:
                who_orig = opening
            elif not who and heading and not re.search(r"\d", heading) and len(t2s(heading)) <= 20:
                who_orig = heading
            elif not who and parent_heading:
                who_orig = parent_heading
            # map the subject to the original script
            if who and subject_seg is not None:
                pos = simp.find(who, subject_seg.a)
                who_orig = _orig(text, idx, pos, pos + len(who)) if pos >= 0 else who
            # action: from after the subject (or segment start) to the number
            a_start = seg.a
            if subject_seg is seg and who:
                a_start = simp.find(who, seg.a) + len(who)
            act = simp[a_start:q.start]
            act = re.sub(rf"^({_LEAD.pattern[1:]})", "", act)
            act = re.sub(rf"({_CMP_PRE}|每人|每(?:学期|学年|年|月|周|天)|按|的|为|应|要|须|必须)+$", "", act)
            act_end = q.end
            item_m = re.match(r"[^\s,，、;；。和与及(（)）的]{1,12}", simp[q.end:])
            item = ""
            if item_m and q.unit not in ("%", "‰", "个百分点", "分数", "比"):
                item = re.split(r"安排|的比例|预算|配足|(?<![或及])以上|(?<![或及])以下|以内|计|,", item_m.group(0))[0]
                if not re.search(r"[\u4e00-\u9fff]", item) or re.match(r"^(以|内|计|起|后|前|左右)", item):
                    item = ""
                act_end = q.end + len(item)
            action_simp = (act + "…" if act else "") + (item or "")
            action = action_simp.strip("…") if action_simp else ""
            # quote: the sentence if short, else from the subject's segment to the number's segment
            qa, qb = 0, len(simp)
            if len(simp) > QUOTE_MAX:
                qa = subject_seg.a if subject_seg is not None and subject_seg.a <= seg.a else seg.a
                qb = seg.b
                if qb - qa > QUOTE_MAX:
                    qa = seg.a
            if qa < skip_to <= q.start:
                qa = skip_to  # quote the sentence, not the clause marker (第十七条 / 3.)
            quote = _orig(text, idx, qa, qb).strip()
            number_text = _orig(text, idx, q.start, q.end)
            key = (clause.path, quote, q.value, q.value_max, q.unit, q.op, item, period, per, who_orig)
            if key in seen:
                continue
            seen.add(key)
            if sa == first_sa and len(simp) <= 30 and not re.search(r"[,，;；]", simp):
                title_keys.add(len(out))  # a title line (【重点任务28】…改扩建154个学校项目)
            if item and re.fullmatch(_BUILD_VERB, t2s(who_orig)):
                who_orig = _orig(text, idx, q.end, q.end + len(item)) or item  # 建成2个示范区: the 示范区
            scope = t2s(who_orig) + " " + " ".join(conditions)
            out.append(ExtractedRule(
                doc_id=clause.doc_id, clause=clause.path, subject=who_orig, action=action,
                value=round(q.value, 6), value_max=q.value_max, unit=q.unit, comparator=q.comparator, op=q.op,
                period=period, per=per, item=item, conditions=tuple(conditions), deadline=deadline,
                roles=_vocab(scope, _ROLES), ranks=_vocab(scope, _RANKS), school_types=_vocab(scope, _SCHOOLS),
                number_text=number_text, quote=quote, heading=heading))
    if title_keys:  # a title that restates a number of its paragraph is not a second rule
        body = {(r.value, r.unit, r.item, r.period) for i, r in enumerate(out) if i not in title_keys}
        out = [r for i, r in enumerate(out) if i not in title_keys or (r.value, r.unit, r.item, r.period) not in body]
    return out


def extract_clauses(clauses: Iterable[Clause]) -> list[ExtractedRule]:
    """Rules of a document's clauses, in order; 前言 only when the document has no other clause."""
    clauses = list(clauses)
    body = [c for c in clauses if c.path != "前言"] or clauses
    by_path = {c.path: c for c in clauses}
    out: list[ExtractedRule] = []
    for c in body:
        parent = by_path.get(c.parents[-1]) if c.parents else None
        ph = parent.heading.strip() if parent is not None and parent.heading else ""
        ph = ph if ph and len(t2s(ph)) <= 20 and not re.search(r"\d", ph) else ""
        out.extend(extract_clause(c, opening_subject(parent) if parent is not None else "", ph))
    return out


def extract_file(path) -> tuple[Any, list[ExtractedRule]]:
    """Parse one file with the ingest pipeline and extract its rules: (Document, rules)."""
    from pathlib import Path

    from ingest.pipeline import process_file

    parsed = process_file(Path(path))
    return parsed.document, extract_clauses(parsed.clauses)
