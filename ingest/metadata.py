"""What a librarian records about a document, read from its own text.

Title, issuing body, date (issue/adoption and 施行), 文号, level (全国 / 省 / 市 /
县区 / 学校) and region. Everything is taken from the document's head (title,
letterhead, promulgation lines), its signature (organisation + date lines) and
its 施行 clause: a 文号 or date quoted in the body belongs to another document.
A sidecar (.meta.yaml) overrides any field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .places import NATIONAL, Place, find_places
from .textnorm import t2s

HEAD_LINES = 15
TITLE_MAX = 80
TITLE_END = re.compile(
    r"(法|条例|规定|办法|细则|通知|意见|方案|规划|计划|决定|纲要|标准|制度|措施|公告|通告|批复|函|报告|要点|规则|章程|"
    r"指引|指南|清单|目录|守则|规范|准则|条件|安排|实施意见|行动|工程)"
    r"([(（][^()（）]{2,12}[)）])?$"
)
QUALIFIER = re.compile(r"^[(（](征求意见稿|试行|修订|草案|修正|暂行|送审稿|讨论稿)[)）]$")
LETTERHEAD = re.compile(r"^.{2,30}(文件|公报|简报|通讯)$")
ADDRESSEE = re.compile(r"[：:]$")
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[［【(（]\s*(19|20)\d\d\s*[〕\]］】)）]\s*第?\s*\d{1,4}\s*号"
                        r"|(?:[\u4e00-\u9fff]{0,12}?)令\s*第\s*\d{1,4}\s*号")
ARABIC_DATE = re.compile(r"((?:19|20)\d\d)\s*[年\-./]\s*(\d{1,2})\s*[月\-./]\s*(\d{1,2})\s*日?")
CN_DIGIT = "〇○零一二三四五六七八九"
CN_DATE = re.compile(rf"([{CN_DIGIT}]{{4}})年([一二三四五六七八九十]{{1,3}})月([一二三四五六七八九十]{{1,3}})日")
EFFECTIVE = re.compile(r"自\s*((?:19|20)\d\d年\d{1,2}月\d{1,2}日|[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,3}月[一二三四五六七八九十]{1,3}日)\s*起\s*(施行|实施|执行|生效)")
ADOPTION = re.compile(r"(通过|修正|修订|公布|发布|印发|施行)")
NATIONAL_BODIES = re.compile(r"全国人民代表大会|国务院|中共中央|教育部|国家[\u4e00-\u9fff]{1,8}(部|委|局|署)|人力资源社会保障部|财政部")
LAW_BODY = re.compile(r"(第[一二三四五六七八九十]+届)?([\u4e00-\u9fff]{2,20}?人民代表大会(常务委员会)?)第[一二三四五六七八九十百]+次会议")
ORG_END = re.compile(r"(人民政府|教育局|教育厅|教育委员会|教育体育局|教体局|文教局|委员会|办公室|办公厅|政府|局|厅|委|"
                     r"中学|小学|学校|幼儿园|学院|大学|中心|协会)$")
SCHOOL = re.compile(r"^([\u4e00-\u9fff]{2,24}?(?:第[一二三四五六七八九十\d]+)?"
                    r"(?:中学|小学|幼儿园|学院|大学|[一二三四五六七八九十]中|(?:实验|外国语|职业|技工|特殊教育|民族|寄宿制)学校))")
SHORT_DATE = re.compile(r"^\d{1,2}月\d{1,2}日$")


@dataclass(frozen=True)
class Extracted:
    title: str
    issuer: str | None
    date: str | None
    effective_date: str | None
    doc_number: str | None
    level: str
    region: str | None
    parents: tuple[str, ...]
    school: str | None


def _cn_small(s: str) -> int:
    import cn2an

    return int(cn2an.cn2an(s, "normal"))


def dates_in(text: str) -> list[tuple[int, str]]:
    """(position, ISO date) for every date written out in `text`, in arabic or Chinese numerals."""
    out = []
    for m in ARABIC_DATE.finditer(text):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            out.append((m.start(), f"{y:04d}-{mo:02d}-{d:02d}"))
    for m in CN_DATE.finditer(text):
        digits = "".join("0" if c in "〇○零" else str(CN_DIGIT.index(c) - 2) for c in m.group(1))
        try:
            mo, d = _cn_small(m.group(2)), _cn_small(m.group(3))
        except ValueError:
            continue
        if 1 <= mo <= 12 and 1 <= d <= 31:
            out.append((m.start(), f"{int(digits):04d}-{mo:02d}-{d:02d}"))
    return sorted(out)


def _lines(text: str) -> list[str]:
    return [ln.strip(" \t\u3000\u00a0\r") for ln in text.splitlines() if ln.strip(" \t\u3000\u00a0\r")]


def find_title(head: str) -> str | None:
    """The first title-shaped line of the head (joined with its continuation or qualifier line)."""
    lines = _lines(head)[:HEAD_LINES]
    for i, line in enumerate(lines):
        s = t2s(line).strip("《》 ")
        if LETTERHEAD.match(s) or ADDRESSEE.search(s) or SHORT_DATE.match(s) or DOC_NUMBER.fullmatch(s) or dates_in(s) and len(s) < 20:
            continue
        if len(s) > TITLE_MAX or re.search(r"[。；]", s):
            continue
        title = line.strip("《》 ")
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if not TITLE_END.search(s) and nxt and len(s + nxt) <= TITLE_MAX and TITLE_END.search(t2s(nxt)) \
                and not re.search(r"[。；，]", nxt):
            title, s, nxt = title + nxt, s + t2s(nxt), lines[i + 2].strip() if i + 2 < len(lines) else ""
        if TITLE_END.search(s) or "关于" in s:
            if QUALIFIER.match(t2s(nxt)) and not QUALIFIER.search(s):
                title += nxt
            return title
    return None


def _issuer(title: str, head: str, tail: str) -> str | None:
    m = LAW_BODY.search(t2s(head))
    if m:
        bodies = [x.group(2) for x in LAW_BODY.finditer(t2s(head))]
        # The latest promulgation line names who last amended it; 第十三届 is the session, not the body.
        return re.sub(r"第[一二三四五六七八九十]+届", "", bodies[-1])
    if re.search(r"国务院令", t2s(head)):
        return "国务院"
    s = t2s(title)
    m = re.match(r"^(.{2,40}?)关于", s)
    if m:
        return m.group(1)
    # A signature: an organisation's name on its own line just before the closing date.
    for line in reversed(_lines(tail)[-6:]):
        line = t2s(line)
        if ORG_END.search(line) and len(line) <= 30 and not dates_in(line):
            return line
    m = SCHOOL.match(s)
    return m.group(1) if m else None


def _date(head: str, tail: str, text: str) -> str | None:
    head = t2s(head)  # 通過 is 通过: the adoption words are matched in simplified script
    promulgation = [(p, d) for p, d in dates_in(head)
                    if ADOPTION.search(head[p : head.find("\n", p) if "\n" in head[p:] else len(head)])]
    if promulgation:
        return max(d for _, d in promulgation)  # the latest amendment is the text in force
    for line in _lines(text):
        found = dates_in(line)
        if found and len(re.sub(r"\s", "", line)) <= 16:  # a date standing alone: the signature date
            return found[0][1]
    return None  # a date inside the prose is some cited document's, not this one's


def _doc_number(head: str) -> str | None:
    found = []
    for line in _lines(head)[:HEAD_LINES]:
        s = t2s(line)
        m = DOC_NUMBER.search(s)
        # A 文号 quoted after a document's name (《…》（教基二〔2010〕3号）) belongs to that document.
        if m and "》" not in s[: m.start()]:
            dated = dates_in(s)
            found.append((dated[0][1] if dated else "", re.sub(r"^中华人民共和国|\s", "", m.group())))
    # Promulgation lines list every 令 that touched the text; the latest one is the text in force.
    return max(found)[1] if found else None


def _region(title: str, issuer: str | None, head: str) -> tuple[str, str | None, tuple[str, ...]]:
    s = t2s(title)
    if s.startswith("中华人民共和国") or NATIONAL_BODIES.match(issuer or "") or NATIONAL_BODIES.match(s):
        return NATIONAL, NATIONAL, ()
    for source in (s, t2s(issuer or ""), t2s(head[:400])):
        places = find_places(source)
        if places:
            # The most specific place named first in the title: 绍兴市第一中学 → 绍兴市, 山东省… → 山东省.
            first = places[0]
            deeper = [p for p in places[1:] if first.name in p.parents]
            place: Place = deeper[0] if deeper and source is s else first
            return place.level, place.name, place.parents
    return "", None, ()


def extract(text: str, first_clause_at: int) -> Extracted:
    """Metadata of a cleaned document whose first numbered clause starts at `first_clause_at`."""
    head = text[: max(first_clause_at, 0)] or text[:600]
    head = head if head.strip() else text[:600]
    tail = text[-600:]
    title = find_title(head) or find_title(text[:1500]) or (_lines(text) or ["无标题"])[0][:TITLE_MAX]
    issuer = _issuer(title, head, tail)
    level, region, parents = _region(title, issuer, head)
    school = None
    m = SCHOOL.match(t2s(title))
    if m and level != NATIONAL and not re.search(r"关于", m.group(1)):
        school, level = m.group(1), "学校"
    eff = EFFECTIVE.search(text)
    effective = dates_in(eff.group(1))[0][1] if eff and dates_in(eff.group(1)) else None
    return Extracted(title, issuer, _date(head, tail, text), effective, _doc_number(head), level, region,
                     parents, school)
