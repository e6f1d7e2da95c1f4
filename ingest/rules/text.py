"""Vocabulary and the text machinery of rule extraction: numbers, compact simplified views, sentences, segments.

A sentence is matched on a *compact* form (whitespace removed, full-width digits made ASCII,
traditional characters made simplified, character by character) with a map back to the
original positions, so that every quote the extractor emits is a verbatim span of the clause.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ingest.textnorm import t2s

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

