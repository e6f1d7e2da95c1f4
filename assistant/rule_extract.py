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
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Iterable

from ingest.textnorm import t2s
from ingest.types import Clause

QUOTE_MAX = 150

# ---- vocabulary ---------------------------------------------------------------

CN_CHARS = "零〇一二两三四五六七八九十百千万亿"
_CN_RUN = f"[{CN_CHARS}]+"
_NUM = rf"(?:\d+(?:\.\d+)?|{_CN_RUN}(?:点[{CN_CHARS}]+)?)"

# unit → canonical unit (simplified); longest alternatives first in the regex
_UNITS = {
    "个百分点": "个百分点", "%": "%", "‰": "‰",
    "万元": "万元", "亿元": "亿元", "千元": "千元", "元": "元",
    "节课": "节", "节": "节", "课时": "课时", "学时": "学时", "学分": "学分",
    "项": "项", "名": "名", "人次": "人次", "人": "人", "位": "名", "所": "所", "个班": "个班", "班": "个班",
    "次": "次", "门": "门", "篇": "篇", "本": "本", "册": "册", "台": "台", "套": "套", "家": "家",
    "周岁": "周岁", "岁": "岁", "个工作日": "个工作日", "工作日": "个工作日", "个月": "个月",
    "小时": "小时", "分钟": "分钟", "天": "天", "日": "日", "周": "周", "年": "年",
    "倍": "倍", "分": "分", "平方米": "平方米", "公里": "公里", "米": "米", "亩": "亩", "公顷": "公顷",
    "个": "个",
}
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
# "个" alone only before these (个学校 is not a quantity unit): handled in _unit_ok
_GE = "不少于|不低于|不得少于|不得低于|至少|最少|最低|达到|满|年满|不小于"
_LE = "不超过|不高于|不多于|不得超过|不得高于|不得多于|最多|最高|至多|不大于"
_GT = "超过|高于|多于|大于"
_LT = "低于|少于|不足|不满|不到|小于"
_CMP_PRE = f"{_GE}|{_LE}|{_GT}|{_LT}|约|近"
_POST = "及以上|及以下|及以内|以上|以下|以内|之内|内|左右|以后|以前"

_QTY = re.compile(
    rf"(?P<pre>{_CMP_PRE})?"
    rf"(?:(?P<pct>百分之|千分之)(?P<pn>{_NUM})(?:(?:至|到|-|—|－|~|～)(?:百分之|千分之)?(?P<pn2>{_NUM}))?"
    rf"|(?P<fd>{_NUM})分之(?P<fn>{_NUM})"
    rf"|(?P<rl>1)[:：](?P<rr>\d+(?:\.\d+)?)(?![\d:：])"
    rf"|(?P<a>\d+(?:\.\d+)?)/(?P<b>\d+)(?![\d/年月日])(?P<slashunit>{_UNIT_RE})?"
    rf"|(?P<lo>{_NUM})(?P<lounit>{_UNIT_RE})?(?:至|到|-|—|－|~|～|——)(?P<hi>{_NUM})(?P<hiunit>{_UNIT_RE})"
    rf"|(?P<cf>\d+(?:\.\d+)?)的?系数"
    rf"|(?P<n>{_NUM})(?P<unit>{_UNIT_RE}))"
    rf"(?P<post>{_POST})?")

_DATE = re.compile(
    rf"(?:\d{{4}}|[〇○零一二三四五六七八九]{{4}})年(?:度|底|末|初)?(?:\d{{1,2}}|[{CN_CHARS}]{{1,3}})?(?:月(?:份|底|末|初)?)?"
    rf"(?:\d{{1,2}}|[{CN_CHARS}]{{1,3}})?(?:日|号)?"
    rf"|(?<![\d个])\d{{1,2}}月(?:\d{{1,2}}(?:日|号))?"
    rf"|(?<![{CN_CHARS}个])[一二三四五六七八九十]{{1,2}}月(?:[{CN_CHARS}]{{1,3}}日)?"
    r"|\d{1,2}[:：]\d{2}"  # clock time
    r"|[〔\[［(（]\d{4}[〕\]］)）]\s*\d+号?"  # 文号
    rf"|\d{{5,}}(?![\d.]*(?:{_UNIT_RE}|万|亿))"  # phone numbers, postcodes, long ids
    r"|www\.[A-Za-z0-9_.]+|[A-Za-z][A-Za-z0-9_.]*\d[A-Za-z0-9_.]*")
_ORDINAL = re.compile(rf"第\s*(?:{_NUM})\s*[条章节款项届次批个轮期年部编名]?|[高初](?:[一二三])(?=年|[^\u4e00-\u9fff]|$)|[高初][一二三](?=年级|年段|学生|教学|节假日|毕业)")

_PERIOD = re.compile(
    rf"每(?:(?P<n>\d+(?:\.\d+)?|{_CN_RUN})个?)?(?P<u>学年度|学年|学期|年度|年|季度|季|个月|月|周|星期|天|日|晚)"
    rf"|(?P<n2>\d+|{_CN_RUN})年一(?:轮|次|周期|考核|评)"
    rf"|按(?P<u3>学年|学期|年度|年|季度|季|月|周|天|日)(?:度)?(?=统计|发放|计发|考核|预发|核定|计算|,|，|$)"
    rf"|/(?P<u4>学期|学年|年|月|周|天|日|晚|人|节|次)")
_PER = re.compile(r"每一?(?:所|个|位|名|类|项)[\u4e00-\u9fff]{1,6}?(?=配备|选派|确定|建立|开展|设立|分别|要|应|须|只能|的|可|[\d一二两三四五六七八九十]|$)"
                  r"|每(?:人|科|节|课时|次|例|生|班|校|项|篇|门|小时)|人均")
_MODAL = re.compile(r"应|要|须|必须|确保|力争|达到|实现|不得|严禁|禁止|可以|可|按|为|占")
# a segment starting like this continues the previous one's subject
_CONTINUES = re.compile(r"^(每|按|应|要(?!求)|须|必须|不少于|不低于|至少|严格|确保|原则上|并|分别|力争|逐步|均|且|"
                        r"同时|用于|以|为|对其|\d|到20|至20|于20|可|不得|经|由|处|没收|责令|超出|超过|其余|余额|具体)")
_LEAD = re.compile(r"^(要求|原则上|同时|其中|并且|并|且|力争|争取|确保|全面|积极|加快|大力|持续|深入|进一步|切实|着力|努力|另外|此外|对此|另设|具体为|具体|如|若|凡|"
                   r"\d{4}年以来|(到|至|于)\d{4}年(底|末)?(前)?)+")
_WHO_STOP = re.compile(r"每|按|应(?!届|聘)|要|须|必须|不少于|不低于|不超过|不得|至少|原则上|严格|校内|(?<!存)在(?!编|岗|校|园|职|读)|"
                       r"(?<![作以成认])为|于|到(?=\d)|从|(?<!即)将|向|达到|配备|选派|召开|组织|开展|建立|实行|"
                       r"实施|落实|予以|可以|可(?!行)|只能|占|以(?![下上内])|由|计|加(?=\d)|扣(?=\d)|享受|满|年满|不满|违反|有下列|"
                       r"\d|百分之|累计|共|的比例|超过|不足|是指|是(?!否)|没收|责令|处以|给予|吊销|撤销|(?<![具拥享持没所])有(?![关效序权利力限])|各(?=\d|[一二两三四五六七八九十]|$)")
_COND_START = r"^(凡|对于?|如果?|若|在.{1,12}(期间|时|中)|经|因|当|除|根据|按照|依据|依照|为了|通过)"
_COND_SEG = re.compile(_COND_START + r"|(的|时|后|前提下|情况下|基础上)$")

_ROLES = ("学校领导", "校级领导", "校领导", "校长", "副校长", "书记", "支部书记", "班主任", "教研员", "教研组长",
          "备课组长", "年级组长", "年级长", "中层干部", "中层正职", "处室干部", "教职工", "教职员工", "职工", "教工",
          "专任教师", "新教师", "新招聘教师", "见习教师", "体育教师", "艺术教师", "教师", "辅导员", "保育员",
          "学生", "考生", "家长", "父母", "监护人", "举办者", "行政人员", "硕士研究生", "毕业生", "名师", "名校长",
          "指导专家", "财政部门", "教育行政部门", "人民政府")
_RANKS = ("正高级", "中学高级", "中学一级", "中学二级", "中学三级", "小学高级", "小学一级", "高级", "一级", "二级",
          "三级", "中级", "初级", "特级", "一级以下")
_SCHOOLS = ("幼儿园", "中小学校", "中小学", "小学", "初中", "高中", "普通高中", "中等职业学校", "职业学校", "高等学校",
            "民办学校", "特殊教育学校", "实验校", "学校")


_BUILD_VERB = r"(通过|拟)?(规划)?(新)?(建设|建成|创建|新增|实现|打造|培养|引进|改扩建|新建|设立)"
_ATTRS = {"年龄", "时间", "标准", "金额", "比例", "期限", "数量", "人数", "总数", "期间", "补贴标准", "年限"}


@dataclass(frozen=True)
class ExtractedRule:
    doc_id: str
    clause: str  # clause path, e.g. 三(二)4 or 第二十五条(三)
    subject: str  # who, document script ("" if none)
    action: str  # what, document script
    value: float
    value_max: float | None  # ranges: value … value_max
    unit: str  # canonical, simplified: 节, %, 元, 年, 周岁, 分数 (fractions), 比 (ratios 1:N)
    comparator: str  # 不少于/不超过/达到/以上/以下/以内/范围/每/"" (exact), simplified
    op: str  # ge, le, gt, lt, eq, range, every
    period: str | None  # 每学期, 每5年, 每月
    per: str | None  # 每人, 每所实验校, 每节
    item: str  # what is counted, when named right after the number
    conditions: tuple[str, ...]
    deadline: str | None
    roles: tuple[str, ...]
    ranks: tuple[str, ...]
    school_types: tuple[str, ...]
    number_text: str  # the quantity as written (original script)
    quote: str  # verbatim span of the clause text (original script)
    heading: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["conditions"] = list(self.conditions)
        for k in ("roles", "ranks", "school_types"):
            d[k] = list(d[k])
        return d

    @property
    def quantity(self) -> str:
        """Normalised simplified text: 不少于30节, 2至3所, 3年以上, 5‰."""
        n = fmt(self.value) + (f"至{fmt(self.value_max)}" if self.value_max is not None else "")
        if self.unit == "分数":
            nt = self.number_text_simplified.translate(_FW)
            if not self.comparator or self.comparator in nt:
                return nt
            return nt + self.comparator if self.comparator in ("以上", "以下", "以内") else self.comparator + nt
        if self.unit == "比":
            return f"1:{fmt(self.value)}"
        if self.op == "every":
            return f"每{n}{self.unit}"
        if self.comparator in ("以上", "以下", "以内", "及以上", "及以下", "及以内", "左右", "内", "之内"):
            return f"{n}{self.unit}{self.comparator}"
        pre = "" if self.op == "range" else self.comparator
        return f"{pre}{n}{self.unit}"

    @property
    def number_text_simplified(self) -> str:
        return t2s(self.number_text)


def fmt(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{round(v, 4):g}"


# ---- numbers ------------------------------------------------------------------

_CN_SMALL = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@lru_cache(maxsize=4096)
def parse_number(s: str) -> float | None:
    """'30', '1.5', '三十', '两', '一百五十', '五万', '三点五' → float; None if unreadable."""
    s = s.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    try:
        import cn2an

        return float(cn2an.cn2an(s, "smart"))
    except Exception:  # noqa: BLE001 - cn2an raises plain ValueError / KeyError on odd input
        pass
    if all(ch in _CN_SMALL for ch in s):  # 二〇一〇-style digit strings
        return float("".join(str(_CN_SMALL[ch]) for ch in s))
    return None


# ---- compact, simplified view of a sentence with a map back -----------------------

_FW = str.maketrans("０１２３４５６７８９％．：／－～，；", "0123456789%.:/-~,;")


def _compact(text: str, a: int, b: int) -> tuple[str, list[int]]:
    """Simplified, whitespace-free form of text[a:b] and, per character, its index in text."""
    idx = [i for i in range(a, b) if not text[i].isspace()]
    comp = "".join(text[i] for i in idx).translate(_FW)
    simp = t2s(comp)
    if len(simp) != len(comp):
        simp = "".join(c2 if len(c2 := t2s(c)) == 1 else c for c in comp)
    return simp, idx


# ---- splitting -------------------------------------------------------------------

_OPEN, _CLOSE = "(（《“‘[【", ")）》”’]】"


_LINE_START = re.compile(r"\s*(?:第[一二三四五六七八九十百零〇\d]+[条章节]|[(（]?[一二三四五六七八九十\d]{1,3}(?:[)）、]|[.．](?!\d))|[①-⑳]|[-—●·•])")


def _hard_break(text: str, i: int) -> bool:
    """A line end ends a sentence after a blank line, after end punctuation, or before a clause marker.

    A single line end inside a sentence (HTML spans, PDF line wrap) is only whitespace."""
    j = i + 1
    while j < len(text) and text[j] in " \t\u3000\r":
        j += 1
    if j >= len(text) or text[j] == "\n":
        return True
    k = i - 1
    while k >= 0 and text[k] in " \t\u3000\r":
        k -= 1
    if k < 0 or text[k] in "。!！?？;；:：\n":
        return True
    line = text[text.rfind("\n", 0, i) + 1: i].strip()
    if len(line) <= 24 and _LINE_START.match(line) and not re.search(r"[，。；,;]", line):
        return True  # a heading line: "（六）试用"
    return bool(_LINE_START.match(text, j))


def _sentences(text: str) -> list[tuple[int, int]]:
    out, a, depth = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(0, depth - 1)
        if ch in "。!！?？" or (ch == "\n" and _hard_break(text, i)) or (ch in ";；" and depth == 0):
            out.append((a, i))
            a = i + 1
            if ch == "\n":
                depth = 0
    out.append((a, len(text)))
    return [(x, y) for x, y in out if text[x:y].strip()]


@dataclass
class _Seg:
    a: int  # compact positions [a, b)
    b: int
    s: str
    paren: bool


def _segments(simp: str) -> list[_Seg]:
    """Segments of a compact sentence: cut at ，and ：outside brackets."""
    segs, a, depth = [], 0, 0
    for i, ch in enumerate(simp):
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ",，:：":
            if i > a:
                segs.append(_Seg(a, i, simp[a:i], False))
            a = i + 1
    if a < len(simp):
        segs.append(_Seg(a, len(simp), simp[a:], depth > 0))
    return [sg for sg in segs if sg.s.strip("()（）,，:：、 ")]


def _paren_spans(simp: str) -> list[tuple[int, int]]:
    out, stack = [], []
    for i, ch in enumerate(simp):
        if ch in "(（":
            stack.append(i)
        elif ch in ")）" and stack:
            a = stack.pop()
            if not stack:
                out.append((a, i + 1))
    return out


def _unbracket(s: str) -> str:
    return re.sub(r"[(（][^()（）]*[)）]", "", s)


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
    phrase = re.sub(r"^(的|和|与|及|或|对|将|各级|所有)", lambda x: "" if x.group(0) in ("的", "和", "与", "及", "或", "对", "将") else x.group(0), phrase)
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
