"""Quantities in a compact sentence: number, unit, comparator, range; periods and deadlines.

Dates, ordinals, 文号, clock times and phone numbers are blocked before any number is read,
so that they are never mistaken for a rule's value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.types import fmt

from .text import (
    _DATE, _GE, _GT, _LE, _LT, _ORDINAL, _QTY, _UNITS, CN_CHARS, _paren_spans, parse_number,
)

# ---- quantities ----------------------------------------------------------------


def _cmp_op(pre: str, post: str) -> tuple[str, str]:
    if post in ("以上", "及以上"):
        return post, "ge"
    if post in ("以下", "及以下"):
        return post, "le"
    if post in ("以内", "之内", "内", "及以内"):
        return post, "le"
    if post == "左右":
        return "左右", "eq"
    for words, op in ((_GE, "ge"), (_LE, "le"), (_GT, "gt"), (_LT, "lt")):
        if pre and re.fullmatch(words, pre):
            return pre, op
    if pre in ("约", "近"):
        return pre, "eq"
    return "", "eq"


def _unit_ok(unit: str, simp: str, end: int, chinese: bool, start: int) -> bool:
    nxt = simp[end: end + 2]
    if unit == "个":
        if re.match(r"(及)?以[上下内]|班级", simp[end:end + 3]):
            return True
        if any(a < start < b for a, b in _paren_spans(simp)):
            return False  # （7个街道、7个乡镇）: a description in brackets
        return not chinese and not re.match(r"[人性别体案例《]", simp[end:end + 1])
    if unit == "年":
        return not re.match(r"级|段|代|前|来|终|份|底|初|末|中", nxt)
    if unit in ("周", "天"):
        return not re.match(r"[一二三四五六日末年]", nxt) or nxt.startswith("内")
    if unit == "名":
        return not re.match(r"[争奖]|名次", nxt)
    if unit == "分":
        return not chinese and not nxt.startswith("之")
    if unit == "本":
        return not re.match(r"[科人单法条]", nxt)
    if unit == "家":
        return not re.match(r"[长庭属]", nxt)
    if unit == "日":
        return not re.match(r"[前起止]", nxt) and not re.search(r"月$", simp[max(0, start - 1):start])
    if unit == "门":
        return not re.match(r"[户类槛]", nxt)
    if unit == "节":
        return not re.match(r"[假日约能点]|内容", nxt) and not re.search(r"章$", simp[max(0, start - 1):start])
    if unit == "次":
        return not re.match(r"[性序数要]|开发|世界|元", nxt)
    if unit == "人":
        return not re.match(r"[民员才事格口文身]", nxt)
    if unit in ("位", "所"):
        return not re.match(r"[置于得属在有谓以]", nxt)
    if unit == "台":
        return not re.match(r"[湾阶账]", nxt)
    if unit == "套":
        return False if chinese else True
    if unit == "米":
        return True
    return True


_CN_BAD_BEFORE = re.compile(r"[第统进唯万之同任其逐专单划均周星礼初高]$")
_CN_BAD_AFTER = re.compile(r"^(?:定|般|切|些|律|致|体|并|起|道|旦|经|线|流|贯|方面|是|则|直|度)")


@dataclass
class _Q:
    start: int
    end: int
    value: float
    value_max: float | None
    unit: str
    comparator: str
    op: str
    chinese: bool


def _quantities(simp: str) -> list[_Q]:
    blocked = [m.span() for m in _DATE.finditer(simp)] + [m.span() for m in _ORDINAL.finditer(simp)]
    blocked += [m.span() for m in re.finditer(r"《[^》]*》|“[^”]{1,8}”", simp)]  # titles, slogans
    out: list[_Q] = []
    for m in _QTY.finditer(simp):
        s, e = m.span()
        if m.group("pre"):
            s0 = m.start("pre")
        else:
            s0 = s
        core = m.end("pre") if m.group("pre") else s
        if any(a < e and core < b for a, b in blocked):
            continue  # the number overlaps a date / ordinal / 文号: not a quantity
        g = m.groupdict()
        pre, post = g["pre"] or "", g["post"] or ""
        chinese = False
        vmax = None
        if g["pct"]:
            v = parse_number(g["pn"])
            vmax = parse_number(g["pn2"]) if g["pn2"] else None
            unit = "%" if g["pct"] == "百分之" else "‰"
            chinese = True
        elif g["fd"]:
            d, n = parse_number(g["fd"]), parse_number(g["fn"])
            if not d or n is None:
                continue
            v, unit = n / d, "分数"
        elif g["cf"]:
            v, unit = float(g["cf"]), "系数"
        elif g["rl"]:
            if re.search(r"[午时]$", simp[:s]) or re.search(r"\d$", simp[:s]):
                continue
            v, unit = float(g["rr"]), "比"
        elif g["a"]:
            d = float(g["b"])
            if not d:
                continue
            if g["slashunit"]:  # "1/3" never has a unit after it; "15节/周" is a period (handled later)
                continue
            v, unit = float(g["a"]) / d, "分数"
        elif g["lo"]:
            v, vmax = parse_number(g["lo"]), parse_number(g["hi"])
            unit = _UNITS[g["hiunit"]]
            if g["lounit"] and _UNITS[g["lounit"]] != unit:
                continue
            chinese = not g["lo"][0].isdigit()
            if not _unit_ok(unit, simp, m.end("hiunit"), chinese, s):
                continue
        else:
            num = g["n"]
            chinese = not num[0].isdigit()
            unit = _UNITS[g["unit"]]
            v = parse_number(num)
            if not _unit_ok(unit, simp, m.end("unit"), chinese, m.start("n")):
                continue
            if chinese:
                ns = m.start("n")
                if unit in ("名", "元", "项", "次") and len(num) == 1 and not pre and (
                        re.match(r"[一体元化]|结构|系统", simp[m.end("unit"):m.end("unit") + 2])
                        or re.search(r"是$", simp[:ns])):
                    continue  # 五位一体, 二元结构, 是一项系统工程: idioms, not quantities
                if _CN_BAD_BEFORE.search(simp[:ns]) or (_CN_BAD_AFTER.match(simp[m.end("n"):]) and unit not in ("年",)):
                    continue
                if num == "一" and re.search(r"[上下]$", simp[:ns]):
                    continue  # 上一篇 / 下一步
                if re.match(r"一[\u4e00-\u9fff]", simp[m.end("unit"):]) and len(num) == 1 and not pre:
                    continue  # 一人一档, 九年一贯制: "X一Y" set phrases
                if num in ("万", "亿", "千", "百") and not pre:
                    continue
            if unit == "年" and v is not None and v >= 1900:
                continue
            if unit in ("周", "天", "日", "年", "个月") and re.search(r"每$", simp[:m.start("n")]):
                continue  # 每5年: a period, read by _PERIOD
        if v is None:
            continue
        if unit == "个" and re.match(r"(?:(?:及)?以[上下内])?班", simp[e:e + 4]):
            unit = "个班"
        if unit in ("%", "‰") and re.search(r"前$", simp[:s0]):
            continue  # 排名前30%: a ranking, not a quantity
        if unit in ("岁", "周岁") and re.match(r"(学生|儿童|少年|青年|以下的)", simp[e:e + 3]) and not pre:
            continue  # 15岁学生: who, not how much
        if post in ("内", "以内", "之内") and re.search(r"(前|最后)$", simp[:s0]):
            continue  # 在前两年内 / 最后一年内: a time window, not a quantity
        if re.search(r"每(?:一)?$", simp[:s0]) and unit not in ("%", "‰", "元", "万元"):
            continue  # 每5年 … (periods) / 每一名: not a quantity by itself
        comparator, op = _cmp_op(pre, post if post not in ("以后", "以前") else "")
        if vmax is not None:
            comparator, op = "范围", "range"
        out.append(_Q(s0, e, v, vmax, unit, comparator, op, chinese))
    # "一年以上三年以下", "20天以上、30天以下": one range
    merged: list[_Q] = []
    for q in out:
        if merged:
            p = merged[-1]
            gap = simp[p.end:q.start]
            if (p.op in ("ge", "gt") and q.op in ("le", "lt") and p.unit == q.unit and p.value_max is None
                    and q.value_max is None and len(gap) <= 1 and gap in ("", "、", ",", "，")):
                merged[-1] = _Q(p.start, q.end, p.value, q.value, p.unit, "范围", "range", p.chinese)
                continue
        merged.append(q)
    # a comparator earlier in the segment governs a bare number (不少于…总额的5%)
    for q in merged:
        if q.op == "eq" and not q.comparator:
            before = simp[:q.start]
            cut = max(before.rfind(c) for c in ",，;；:：")
            before = before[cut + 1:]
            last = None
            for last in re.finditer(f"{_GE}|{_LE}|{_GT}|{_LT}", before):
                pass
            if last and not re.search(rf"\d|[{CN_CHARS}](?:次|名|项|所|节|元|年)", before[last.end():]):
                q.comparator, q.op = _cmp_op(last.group(0), "")
    return merged


def _period_text(m: re.Match) -> str:
    if m.group("n2"):
        return f"每{fmt(parse_number(m.group('n2')))}年"
    u = m.group("u") or m.group("u3") or m.group("u4")
    u = {"学年度": "学年", "季": "季度", "星期": "周", "日": "天"}.get(u, u)
    if u in ("人", "节", "次"):
        return ""
    n = m.group("n") if m.group("u") else None
    if n:
        v = parse_number(n)
        return f"每{fmt(v) if v is not None else n}{'个月' if u == '月' and v and v > 1 else u}"
    return f"每{u}"


_DEADLINE = re.compile(r"(?P<pre>到|至|于|在|截至|截止)?(?P<y>20\d\d)年(?:(?P<m>\d{1,2})月)?(?:(?P<d>\d{1,2})日)?"
                       r"(?P<post>底前|底|末|前|以前)?")


def _deadline(simp: str) -> str | None:
    for m in _DEADLINE.finditer(simp):
        if m.group("pre") in ("到", "至", "截至", "截止") or m.group("post"):
            return m.group(0)
    return None

