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
# Zero in a Chinese-numeral year is typed many ways: 〇, ○ (a circle), 零, and on old pages an ASCII 0,
# a full-width ０ or a letter O (二0一一年, 二O一一年). The year starts with 一 or 二, so a letter O
# among numerals is never read out of ordinary text.
CN_ZERO = "〇○零0０OＯ"
CN_YEAR = rf"[一二][{CN_ZERO}一二三四五六七八九]{{3}}"
CN_DATE = re.compile(rf"({CN_YEAR})年([一二三四五六七八九十]{{1,3}})月([一二三四五六七八九十]{{1,3}})日")
EFFECTIVE = re.compile(rf"自\s*((?:19|20)\d\d年\d{{1,2}}月\d{{1,2}}日|{CN_YEAR}年[一二三四五六七八九十]{{1,3}}月[一二三四五六七八九十]{{1,3}}日)\s*起\s*(施行|实施|执行|生效)")
ADOPTION = re.compile(r"(通过|修正|修订|公布|发布|印发|施行)")
NATIONAL_BODIES = re.compile(r"全国人民代表大会|国务院|中共中央|教育部|国家[\u4e00-\u9fff]{1,8}(部|委|局|署)|人力资源社会保障部|财政部")
LAW_BODY = re.compile(r"(第[一二三四五六七八九十]+届)?([\u4e00-\u9fff]{2,20}?人民代表大会(常务委员会)?)第[一二三四五六七八九十百\d]+次会议")
ORG_END = re.compile(r"(人民政府|教育局|教育厅|教育委员会|教育体育局|教体局|文教局|委员会|办公室|办公厅|政府|局|厅|委|"
                     r"中学|小学|学校|幼儿园|学院|大学|中心|协会)$")
SCHOOL = re.compile(r"^([\u4e00-\u9fff]{2,24}?(?:第[一二三四五六七八九十\d]+)?"
                    r"(?:中学|小学|幼儿园|学院|大学|[一二三四五六七八九十]中|(?:实验|外国语|职业|技工|特殊教育|民族|寄宿制)学校))")
# A title in the form of legislation or rules (…条例, …暂行规定, …办法（试行）).
LAW_FORM = re.compile(r"(法|条例|规定|办法|细则|规则|决定)([(（](试行|暂行|修订|修正)[)）])?$")
GENERIC_SCHOOL = re.compile(r"(城市|农村|普通|各级各类|公办|民办|城乡)?(中小学校?|中学|小学|幼儿园|中小学校幼儿园|高等学校|"
                            r"高等院校|学校|大学|学院|职业学校|特殊教育学校)")
# A page's byline: "文章来源： 作者： 发布时间：…". A label names a field, not an organisation; only a
# source label that has a value (来源：某某局) says who published the text.
PAGE_LABEL = re.compile(r"(文章来源|信息来源|来源|作者|发布者|发布人|发布机构|发布单位|发布时间|发布日期|编辑|责任编辑|"
                        r"审核|供稿|撰稿|点击数|浏览次数|阅读次数)\s*[:：]")
SOURCE_LABEL = re.compile(r"^(文章来源|信息来源|来源|发布者|发布机构|发布单位)$")
# A body that signs only right above the date: 小组 or 工作组 ending a line elsewhere is prose
# (（一）成立工作领导小组), under the closing date it is the signature.
SIGNING_GROUP = re.compile(r"(小组|工作组|组委会)$")
ARTICLE = re.compile(r"(?m)^[ \t\u3000#]*第[一二三四五六七八九十百零〇]+[条條]")
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
        try:
            # cn2an reads a digit-by-digit year (二零一一 → 2011) but knows only 零 (and 〇) as zero
            year = _cn_small(re.sub(f"[{CN_ZERO}]", "零", m.group(1)))
            mo, d = _cn_small(m.group(2)), _cn_small(m.group(3))
        except ValueError:
            continue
        if 1 <= mo <= 12 and 1 <= d <= 31:
            out.append((m.start(), f"{year:04d}-{mo:02d}-{d:02d}"))
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
            # a title set on two centred lines keeps the spaces that centred it (教坛新秀、  市直…): not part of it
            return re.sub(r"(?<=[\u4e00-\u9fff、，“”])[\s\u3000]+(?=[\u4e00-\u9fff“”])", "", title)
    return None


def _promulgation_lines(head: str) -> list[str]:
    """The head's dated lines (2020年11月27日 …通过 / …令第56号公布): prose before the first article
    also names congresses (为了贯彻执行全国人民代表大会…), and those are not the issuer."""
    simplified = (t2s(line) for line in _lines(head)[:HEAD_LINES])
    return [line for line in simplified if dates_in(line)]


def _legislature(lines: list[str]) -> str | None:
    """The congress that adopted or last amended the text. A city's regulation is adopted by the city's
    congress and only approved (批准) by the province's, so an approval-only line is not the issuer."""
    bodies = []
    for line in lines:
        for m in LAW_BODY.finditer(line):
            rest = line[m.end():]
            if "批准" in rest[:12] and not re.search(r"通过|修正|修订", rest[:12]):
                continue
            body = m.group(2)
            # "…5月12日第八届全国人民代表大会": the lazy name may start at the 日 of the date before it
            if body.startswith("日") and m.start(2) > 0 and line[m.start(2) - 1].isdigit():
                body = body[1:]
            bodies.append(re.sub(r"^经|第?[一二三四五六七八九十]+届", "", body))
    return bodies[-1] if bodies else None  # the latest promulgation line names who last amended it


def _publisher(lines: list[str]) -> str | None:
    """Who 发布/公布/印发 a regulation (国家教育委员会令第4号发布; 中共中央、国务院发布), else who 批准 it."""
    for verbs in ("发布|公布|印发", "批准"):
        for line in lines:
            m = re.search(rf"^(?:.*?日)?\s*(.+?)\s*(?:审议)?(?:{verbs})", line)
            if not m:
                continue
            name = re.sub(r"(令|公告)\s*第\s*[\d一二三四五六七八九十百]+\s*号", "", m.group(1))
            name = _unlabelled(re.sub(r"^中华人民共和国|\s", "", name).strip("、，,"))
            if not name:
                continue  # a byline's labels (文章来源：作者：发布时间：…) name nobody
            # a congress's own line is _legislature's to read (人大常委会第十四次会议批准 names no place)
            if 2 <= len(name) <= 40 and not re.search(r"[\d。；]|会议|人大|^经", name):
                return name
    return None


def school_name(title: str) -> str | None:
    """A particular school at the head of a title (绍兴市第一中学…); None for a title about schools in
    general (广州市幼儿园条例, 上海市中小学校学生伤害事故处理条例): a school does not enact 条例."""
    s = t2s(title)
    m = SCHOOL.match(s)
    if not m or re.search(r"关于", m.group(1)) or re.search(r"(条例|(?<!办)法)$", s):
        return None
    name = m.group(1)
    rest = name
    for place in find_places(name):
        if rest.startswith(place.name):
            rest = rest[len(place.name):]
    return None if GENERIC_SCHOOL.fullmatch(rest) else name


def _unlabelled(name: str) -> str | None:
    """`name` with a page byline's labels taken off: the value of its source label (来源：某某局 →
    某某局), None when it is only labels (文章来源：作者：), `name` itself when it has none."""
    if not PAGE_LABEL.search(name):
        return name
    parts = PAGE_LABEL.split(name)  # [before, label, value, label, value, …]
    if parts[0].strip():
        return None  # text, then a label: not a byline and not a name either
    for label, value in zip(parts[1::2], parts[2::2]):
        value = value.strip(" \t\u3000\u00a0")
        if value and SOURCE_LABEL.match(label):
            return value
    return None


def _signature(tail: str) -> str | None:
    """An organisation's name on its own line near the end, preferably just above the closing date."""
    lines = [t2s(line) for line in _lines(tail)[-6:]]
    for i in range(len(lines) - 1, -1, -1):
        line = _unlabelled(lines[i])
        if not line or len(line) > 30 or dates_in(line):
            continue
        above_date = i + 1 < len(lines) and _standalone_date(lines[i + 1]) is not None
        if ORG_END.search(line) or above_date and SIGNING_GROUP.search(line) and not re.search(r"[，。；：、]", line):
            return line
    return None


def _standalone_date(line: str) -> str | None:
    """The date of a line that is only a date (the signature's), else None."""
    found = dates_in(line)
    return found[0][1] if found and len(re.sub(r"\s", "", line)) <= 16 else None


def _issuer(title: str, head: str, tail: str) -> str | None:
    lines = _promulgation_lines(head)
    body = _legislature(lines)
    if body:
        return body
    if re.search(r"国务院令", t2s(head)):
        return "国务院"
    s = t2s(title)
    m = re.match(r"^(.{2,40}?)关于", s)
    if m:
        return m.group(1)
    publisher = _publisher(lines)
    if publisher:
        return publisher
    return _signature(tail) or school_name(title)


def _date(head: str, tail: str, text: str, issuer: str | None = None) -> str | None:
    head = t2s(head)  # 通過 is 通过: the adoption words are matched in simplified script
    promulgation = [(p, d) for p, d in dates_in(head)
                    if ADOPTION.search(head[p : head.find("\n", p) if "\n" in head[p:] else len(head)])]
    if promulgation:
        return max(d for _, d in promulgation)  # the latest amendment is the text in force
    lines = [t2s(line) for line in _lines(text)]
    dated = [(i, d) for i, line in enumerate(lines) if (d := _standalone_date(line))]
    # A notice forwarded with a cover note carries two signatures: the forwarder's (党政办 2024年6月5日)
    # and the issuer's own. The date signed under the issuer's name is the document's.
    name = re.sub(r"\s", "", issuer or "")
    for i, d in dated:
        if name and i and re.sub(r"\s", "", lines[i - 1]).startswith(name):
            return d
    # else the first date standing alone: the signature date
    return dated[0][1] if dated else None  # a date inside the prose is some cited document's, not this one's


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


def _national_issuer(issuer: str | None) -> bool:
    """国务院, 教育部, 国家市场监督管理总局, 公安部: a central body, named without a place."""
    if not issuer:
        return False
    first = re.split(r"[、，,]", issuer)[0]
    return bool(NATIONAL_BODIES.match(first)) or (
        bool(re.search(r"(部|总局|署)$", first)) and not find_places(first))


def _region(title: str, issuer: str | None, head: str, articles: int) -> tuple[str, str | None, tuple[str, ...]]:
    s = t2s(title)
    if s.startswith("中华人民共和国") or _national_issuer(issuer) or NATIONAL_BODIES.match(s):
        return NATIONAL, NATIONAL, ()
    # "上海市人大常委会关于促进和保障浦东新区…的决定": the place is the issuer's, before 关于, not the subject's.
    by = s.split("关于", 1)[0] if "关于" in s[2:] else ""
    for source in (by, s, t2s(issuer or ""), t2s(head[:400])):
        places = find_places(source) if source else []
        if places:
            # The most specific place named first in the title: 绍兴市第一中学 → 绍兴市, 山东省… → 山东省.
            first = places[0]
            deeper = [p for p in places[1:] if first.name in p.parents]
            place: Place = deeper[0] if deeper and source is s else first
            return place.level, place.name, place.parents
    # Local legislation always names its place in the title (山东省…条例, 青岛市…办法); a 条例 or 规定 in
    # articles that names none is a national one (学校体育工作条例, 幼儿园管理条例). A plan without a
    # place stays without a region: it may be anybody's template.
    if articles >= 3 and LAW_FORM.search(s):
        return NATIONAL, NATIONAL, ()
    return "", None, ()


def extract(text: str, first_clause_at: int) -> Extracted:
    """Metadata of a cleaned document whose first numbered clause starts at `first_clause_at`."""
    head = text[: max(first_clause_at, 0)] or text[:600]
    head = head if head.strip() else text[:600]
    tail = text[-600:]
    title = find_title(head) or find_title(text[:1500]) or (_lines(text) or ["无标题"])[0][:TITLE_MAX]
    issuer = _issuer(title, head, tail)
    articles = len(ARTICLE.findall(text, max(first_clause_at, 0)))
    level, region, parents = _region(title, issuer, head, articles)
    # A particular school heads the title (某某中学绩效考核办法) or issues it (a notice signed by the school or
    # one of its bodies: 某某一中评选工作领导小组 → 某某一中): the school's own document, not its city's.
    school = (school_name(title) or (school_name(issuer) if issuer else None)) if level != NATIONAL else None
    if school:
        level = "学校"
    eff = EFFECTIVE.search(text)
    effective = dates_in(eff.group(1))[0][1] if eff and dates_in(eff.group(1)) else None
    return Extracted(title, issuer, _date(head, tail, text, issuer), effective, _doc_number(head), level, region,
                     parents, school)
