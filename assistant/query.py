"""Read a question: script, regions (known and unknown), numbers, rank, role, intent.

Everything works on the simplified form; the original script is remembered so
the answer can be written back in it. Follow-ups ("那中学高级呢？", "随州呢？")
inherit the previous question's intent and slots.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ingest.errors import UsageError
from ingest.textnorm import normalize, t2s
from ingest.types import GENERIC_REGION, SIMPLIFIED, TRADITIONAL
from .contrasts import replaced

MAX_QUESTION_CHARS = 2000
_NUM = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十半]+)"
RANKS = ("中学一级以下", "中学二级", "中学三级", "中学一级", "中学高级", "小学高级", "小学一级", "小学二级",
         "小学三级", "正高级", "二级教师", "三级教师", "一级教师", "高级教师")
ROLE_PATTERNS = (
    ("分管教学教研工作的处室干部", r"分管教学|教研.{0,4}处室|处室干部|中层干部|教务主任"),
    ("学校领导", r"学校领导|校领导|校长|副校长|书记"),
)
# People a clause may be addressed to. A question about one of them is not answered by a clause that
# names others and not them (学校领导…听课30节 does not tell what 教研员 must do).
ROLE_WORDS = ("班主任", "教研组长", "备课组长", "年级组长", "教研员", "专任教师", "新教师", "青年教师", "体育教师",
              "艺术教师", "辅导员", "保育员", "学校领导", "校领导", "校长", "处室干部", "中层干部")
COMPARE = re.compile(r"比较|对比|相比|区别|异同|哪些(城市|地方|地区|文件|市)|各(市|地|城市)|分别|都有|和.{1,8}(的|各自)?(规定|要求)")
DEICTIC = re.compile(r"我们学校|我校|本校|我们市|我市|本市|我县|本县|我们县|咱们|我们这")
FOLLOWUP = re.compile(r"^(那|那么|还有|再问|如果是|换成|要是)|呢[?？]?$")
GENERIC_PLACES = frozenset("中国 全国 全市 我市 本市 市县 县域 乡村 城乡 农村 城市 地方 地区 各地 各市 本地 当地 县区 城区 "
                           "乡镇 街道 社区 市区 省市 区县 国家 区域 国际 国外 疆内外 中亚".split())


_N = r"[\d一二两三四五六七八九十百千半]+(?:\.\d+)?"
UNITS = "个班|节|次|项|名|人|所|篇|天|日|周|个月|学时|课时|小时|学分|分|周岁|岁|层次|阶段|级|位|年|平方米|米|公里"
PERIODS = frozenset("天 日 周 个月 年 学期 学年 小时 学时 课时".split())
# The same quantity written two ways: a question's 几天 is answered by a law's 三十日.
SAME_UNIT = {"天": "(?:天|日|工作日)", "日": "(?:天|日|工作日)", "岁": "周?岁", "周岁": "周?岁",
             "课时": "(?:课时|学时)", "位": "(?:位|名|人)", "名": "(?:名|位|人)", "学时": "(?:学时|课时)",
             # 多少人 is answered by 五千居民 or 三十名幼儿 as well as by 五十人
             "人": "(?:人|名|位|居民|户|学生|幼儿|儿童|教师|职工)"}
DATE = (r"(19|20)\d\d|[〇○零一二三四五六七八九]{4}年|年底|年前|之日起|[\d一二三四五六七八九十]{1,3}月|每年|每学年|学期"
        r"|[\d一二三四五六七八九十]+\s*(个)?(日|天|年|月)(内|以内|后|前)"
        # a time fixed by an event, as laws write it (年度财务结算后, 期满前, 批准之日)
        r"|(结算|结束|届满|期满|审计|毕业|批准|核准|登记|注册|公布|发布|收到|完成)(后|以后|之后|前|之前|时|之日)")
# What kind of span would answer the question. A clause that lacks such a span
# cannot answer it, however similar its words (the basis of found: false).
ANSWER_TYPES = (
    # "从多少减到了多少" asks for a change: both numbers, as the document states the change
    (r"(从|由)(多少|几).{0,12}(到|至)了?(多少|几)", rf"(从|由)[^。；;]{{0,16}}{_N}[^。；;]{{0,16}}(到|至)[^。；;]{{0,8}}{_N}"),
    # "哪些部门负责…" asks for the departments named together (教育、民政、市场监管部门)
    (r"哪(些|几个)(部门|单位|机构)", r"(?:[\u4e00-\u9fff]{1,6}、){2,}[\u4e00-\u9fff]{1,6}(部门|局|委|厅|单位|机构)"),
    # "分成哪几类" asks for the division itself (分为…四类), not for one of its parts
    (r"(分为|分成|划分为|分|有)哪(几|些)?(类|种)|几类|几种|哪几类|哪几种", r"(分为|分成|划分为|包括)[^。；;]{2,}|[两二三四五六七八九十\d]+(类|种)"
     r"|[^、，。；;+]{1,12}[、+][^、，。；;+]{1,12}[、+]"),  # or an enumeration of three or more (甲、乙、丙 / 甲+乙+丙)
    (r"几分之几|几分之一", r"\d+\s*[/／]\s*\d+|[一二两三四五六七八九十]+分之[一二三四五六七八九十]+"),
    (r"百分之几|多少%|比例|比重|占比|几成|占[^，。？?]{0,16}多少(?![钱元万亿])|(不少于|不低于|不超过|不高于|达到)[^，。？?]{1,16}的多少", r"\d+(?:\.\d+)?\s*[%‰]|百分之|\d+\s*[/／]\s*\d+|[一二两三四五六七八九十]+分之"
     r"|[(（][%‰][)）][^。；;\n]{0,16}\d"),  # a table row headed "比例(%)" holds its percentages as bare numbers
    (r"(多少|几)(钱|元|万元|亿元)|工资.{0,6}多少|津贴.{0,6}多少|补贴.{0,6}多少|经费.{0,4}多少钱|规模.{0,4}多少|收费标准"
     r"|多少(经费|资金|补助|补贴|津贴|奖金|费用|学费)|(经费|资金|补助|奖金|费用|学费).{0,4}多少",
     rf"{_N}\s*(万|亿|千)?元"),  # in Chinese numerals too: a law writes 十万元以上二十万元以下
    (rf"(多少|几)\s*个?\s*({UNITS})", None),  # filled from the matched unit (几个小时 asks in 小时)
    # 多少个孩子 / 推几个？ count people or things the document counts in 个/名/人
    (r"(多少|几)\s*(个|名|位)?\s*(孩子|学生|幼儿|儿童|老师|教师|成员|名额|人选)", rf"{_N}\s*(?:个|名|位)?\s*{SAME_UNIT['人']}"),
    (r"(多少|几)\s*(个|名|位)(?=[？?，,。！!]|$|吗|呢|啊)", rf"{_N}\s*(?:个|名|位|人)"),
    (r"哪一年|哪年|何时|什么时候|几月|哪天|截止|期限|起施行|生效", DATE),
    (r"几岁|多少岁|年龄|年纪|多大(?=岁|年纪|了|的孩子|[?？]?$)", rf"{_N}\s*周?岁"),
    # "多久组织一次演练" asks how often: 每学期, 三年一次, or 定期 where the document leaves it open; never 立即
    (r"(多久|多长时间|几年|几个月|几天)[^，。？?]{0,12}一次|频率|隔多久",
     rf"每.{{0,4}}(年|学期|学年|月|周|天)|{_N}\s*(个)?(年|月|周|天|学期|学年)[^，。；]{{0,3}}(一次|一轮)|一次|一轮|定期"),
    (r"多久|多长时间|多少年", rf"每.{{0,4}}(年|学期|学年|月|周|天)|{_N}\s*(?:[-~—至到]\s*{_N})?\s*(个)?"
     r"(年|月|日|天|周|小时|工作日|分钟)|一次|一轮|立即"),
)


def _telling(s: str) -> str:
    # "当了好几年讲师", "这几年一直没招到学生" tell, they do not ask (same length: ask_span's offsets hold)
    return re.sub(r"好几|这几|那几|前几", "多多", s)


def ask_span(s: str) -> tuple[int, int] | None:
    """Where in `s` the question asks for its kind of answer (多少钱, 几个小时, 什么时候), as (start, end)."""
    s = _telling(s)
    return next((m.span() for asks, _ in ANSWER_TYPES for m in [re.search(asks, s)] if m), None)


def answer_pattern(s: str) -> str | None:
    s = _telling(s)
    for asks, pattern in ANSWER_TYPES:
        m = re.search(asks, s)
        if m:
            if pattern is None:
                unit = m.group(2)
                num = r"\d+" if unit == "分" else _N  # 十分/充分 are adverbs, not scores
                verb = s[m.start() - 1] if m.start() and s[m.start() - 1] in "加扣减补增涨降奖罚" else ""
                if verb:  # 加多少分 asks for a bonus: the number must come with the same verb
                    return rf"{verb}[^。;]{{0,6}}{num}\s*{unit}"
                unit = SAME_UNIT.get(unit, unit)
                # 每周/每年 answers how many (times) a period; 每所学校 is no amount of 所
                per = rf"|每{unit}" if m.group(2) in PERIODS else ""
                pattern = rf"{num}\s*(?:个|名)?\s*{unit}{per}"
            if pattern is not None and ASKS_UPPER.search(s) and (_N in pattern or r"\d+" in pattern):
                return not_a_floor(pattern)  # an amount is asked for
            return pattern
    return None


ASKS_ENACTMENT = re.compile(r"通过|修正|修订|修改|公布|施行|实施|生效|颁布|出台|发布|印发|批准|制定")
# "最多能有几名" asks for a ceiling: "三名以上" / "不少于三名" is a floor and does not answer it
ASKS_UPPER = re.compile(r"最多|至多|最长|最高|上限|封顶|不超过(多少|几)")


def not_a_floor(pattern: str) -> str:
    """`pattern`, matched only where its number is not stated as a floor (X以上, 不少于X, 至少X)."""
    return (rf"(?<![\d一二两三四五六七八九十百千半.])(?<!不少于)(?<!至少)(?<!不低于)(?<!不小于)(?<!以上)"
            rf"(?:{pattern})(?!\s*(?:以上|及以上|或以上|起))")


def strip_regions(text: str, regions, sep: str = " ") -> str:
    """`text` without the names of `regions`, full (清远市) or short (清远)."""
    for r in sorted(regions, key=len, reverse=True):
        short = re.sub(r"(维吾尔自治区|壮族自治区|回族自治区|自治区|省|市)$", "", r)
        text = text.replace(r, sep)
        if len(short) >= 2:
            text = text.replace(short, sep)
    return text


def cn_number(s: str) -> float | None:
    """12, 二十, 两, 半 → a number (cn2an reads the Chinese numerals); None for anything else."""
    if not s:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    if s == "半":
        return 0.5
    import cn2an

    try:
        return float(cn2an.cn2an(s.replace("两", "二").replace("俩", "二").replace("〇", "零"), "normal"))
    except (ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Query:
    text: str  # the user's words, as typed
    simplified: str  # normalised simplified text used for search
    script: str = SIMPLIFIED
    regions: tuple[str, ...] = ()
    unknown_places: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()  # documents the question names (教师法 → its doc_id)
    missing_docs: tuple[str, ...] = ()  # names of documents the library does not hold
    article: str | None = None  # 第二十五条
    asks_article: bool = False  # "第几条"
    rank: str | None = None
    role: str | None = None
    years: float | None = None
    semesters: float | None = None
    school_years: float | None = None
    classes: int | None = None
    teachers: int | None = None
    people: int | None = None
    schools: int | None = None
    public_funds: float | None = None  # yuan
    wage_total: float | None = None  # yuan
    base_year: int | None = None
    answer_pattern: str | None = None  # regex a clause must match to answer (see ANSWER_TYPES)
    asks_enactment: bool = False  # about when or how the document was passed, amended or put in force
    compare: bool = False
    followup: bool = False
    slots_from: tuple[str, ...] = field(default=())  # earlier questions whose slots were reused

    @property
    def asked_roles(self) -> tuple[str, ...]:
        """The people the question names, and the role they are read as (校长 is one of the 学校领导)."""
        return tuple(r for r in ROLE_WORDS if r in self.simplified) + ((self.role,) if self.role else ())

    def merged_with(self, prev: "Query | None") -> "Query":
        """Fill this (follow-up) question's missing slots from the previous question.

        A self-contained question starts fresh: a city asked about earlier must not silently
        scope an unrelated later question (the scope in effect is always the one shown)."""
        if prev is None:
            return self
        if not self.followup:
            # "我们学校…" after a question about 随州 is still about 随州; anything else starts fresh.
            if DEICTIC.search(self.simplified) and prev.regions and not (self.regions or self.unknown_places
                                                                          or self.doc_ids or self.compare):
                return replace(self, regions=prev.regions, slots_from=prev.slots_from + (prev.text,))
            return self
        keep = {k: getattr(self, k) for k in ("answer_pattern", "rank", "role", "years", "semesters", "school_years", "classes",
                                                "teachers", "people", "schools", "public_funds", "wage_total",
                                                "base_year")}
        merged = replace(prev, **{k: v for k, v in keep.items() if v is not None})
        if self.doc_ids or self.article:
            merged = replace(merged, doc_ids=self.doc_ids or prev.doc_ids, article=self.article)
        regions = self.regions or prev.regions
        rest = FOLLOWUP.sub("", self.simplified)
        stripped = replaced(strip_regions(prev.simplified, prev.regions, sep=""), rest)
        return replace(merged, text=self.text, simplified=f"{stripped} {rest}".strip(), script=self.script,
                       regions=regions, unknown_places=self.unknown_places, compare=prev.compare or self.compare,
                       followup=True, slots_from=prev.slots_from + (prev.text,))


def validate_question(text: object) -> str:
    if not isinstance(text, str):
        raise UsageError("问题必须是文字")
    if "\x00" in text or sum(ord(c) < 32 and c not in "\n\t\r" for c in text) > 3:
        raise UsageError("问题里有二进制数据，请直接输入文字")
    text = "".join(c for c in text if c.isprintable() or c in "\n\t").strip()
    if not text:
        raise UsageError("问题是空的；可以这样问：学校领导一学年要听多少节课？")
    if len(text) > MAX_QUESTION_CHARS:
        raise UsageError(f"问题太长（{len(text)} 字；最多 {MAX_QUESTION_CHARS} 字）")
    if not re.search(r"[\u3400-\u9fff]", text):
        raise UsageError("请用中文提问（本库是中文政策文件）")
    return text


def _amount(s: str, words: str) -> float | None:
    m = re.search(rf"(?:{words})[^\d零一二两三四五六七八九十]{{0,12}}{_NUM}\s*(亿|万|千)?元", s) or \
        re.search(rf"{_NUM}\s*(亿|万|千)?元[^。；,，]{{0,8}}(?:{words})", s)
    if not m:
        return None
    n = cn_number(m.group(1))
    if n is None:
        return None
    return n * {"亿": 1e8, "万": 1e4, "千": 1e3, None: 1, "": 1}[m.group(2)]


def _int(rx: str, s: str) -> int | None:
    m = re.search(rx, s)
    raw = next((g for g in m.groups() if g), None) if m else None
    n = cn_number(raw) if raw else None
    return int(n) if n is not None else None


def _places(s: str, regions: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """(corpus regions the question names, places it names that the corpus has nothing for).

    Names come from the gazetteer, so 北京 is 北京市 and a county is itself (和平县); a province
    counts as known when the corpus holds it or a document inside it."""
    from ingest.places import enclosing, find_places

    held = set(regions) - {GENERIC_REGION}
    inside = {p for r in held for p in enclosing(r)}
    found, unknown = [], []
    for place in find_places(s):
        if place.name in GENERIC_PLACES:
            continue
        if place.name in held or place.name in inside:
            found.append(place.name)
        else:
            unknown.append(place.name)
    return found, tuple(unknown)


def parse(text: str, regions: list[str], names=None) -> Query:
    """`regions` are the corpus regions (e.g. 清远市); `names` resolves named documents (assistant.documents)."""
    text = validate_question(text)
    s = normalize(text)
    script = TRADITIONAL if any(a != b for a, b in zip(text, t2s(text))) else SIMPLIFIED
    named_docs = names.resolve(s) if names is not None else None
    # A place inside a document's name (山东省学校安全条例) names the document, not a scope.
    s_places = s
    if named_docs and named_docs.doc_ids:
        for doc_title in (names.titles[d] for d in named_docs.doc_ids):
            s_places = s_places.replace(doc_title, " ")
    found, unknown = _places(s_places, regions)
    if named_docs and named_docs.doc_ids:
        found, unknown = [], ()
    rank = next((r for r in RANKS if r in s), None)
    role = next((name for name, rx in ROLE_PATTERNS if re.search(rx, s)), None)
    # 1–2 digit counts only: 2021年 is a date, not a duration.
    m = re.search(r"(?<![\d.])(\d{1,2}(?:\.\d+)?|[一二两三四五六七八九十半]+)\s*年(?!级|底|前|度)", s)
    years = cn_number(m.group(1)) if m else None
    m = re.search(rf"{_NUM}\s*个?学期", s)
    semesters = cn_number(m.group(1)) if m else None
    m = re.search(rf"{_NUM}\s*个?学年", s)
    school_years = cn_number(m.group(1)) if m else None
    if school_years is None and re.search(r"一学年|每学年|一年(?!级)", s) and semesters is None and "听课" in s:
        school_years = 1
    base = re.search(r"(20\d\d)\s*年", s)
    return Query(
        text=text,
        simplified=s,
        script=script,
        regions=tuple(found),
        unknown_places=unknown,
        doc_ids=named_docs.doc_ids if named_docs else (),
        missing_docs=named_docs.missing if named_docs else (),
        article=named_docs.article if named_docs else None,
        asks_article=bool(named_docs and named_docs.asks_article),
        rank=rank,
        role=role,
        years=years,
        semesters=semesters,
        school_years=school_years,
        classes=_int(rf"{_NUM}\s*个?(?:教学)?班", s),
        teachers=_int(rf"(?:教师|老师)(?:总数|总量|人数)?(?:有|为|是|共)?\s*{_NUM}\s*(?:人|名)|{_NUM}\s*(?:名|个|位)?(?:教师|老师)", s),
        people=_int(rf"{_NUM}\s*(?:位|名|个)(?:校)?领导|{_NUM}\s*(?:位|名|个)(?:处室)?干部", s),
        schools=_int(rf"{_NUM}\s*所", s),
        public_funds=_amount(s, "公用经费"),
        wage_total=_amount(s, "工资总额|工资"),
        base_year=int(base.group(1)) if base else None,
        answer_pattern=answer_pattern(s),
        asks_enactment=bool(ASKS_ENACTMENT.search(s)),
        compare=bool(COMPARE.search(s)) or len(found) >= 2 or bool(
            named_docs and len(named_docs.doc_ids) >= 2 and re.search(r"不同|区别|异同|比较|对比|各自|分别|各是|各计划|都", s)),
        followup=bool(FOLLOWUP.search(s)) and len(s) <= 16,
    )
