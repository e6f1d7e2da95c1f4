"""Extractive answers: the decisive sentence(s) of the best clause, quoted verbatim.

No generation: the answer is a fixed frame around quotes taken from the
index, so every claim in it is a span of a cited clause. The frame is written
in simplified Chinese and converted to traditional when the question was
traditional; quotes always stay in the document's own script.
"""
from __future__ import annotations

import re

from ingest.textnorm import SENTENCE_ENDS, book, normalize, s2t  # noqa: F401  (book: callers use compose.book)
from ingest.types import TRADITIONAL, Citation, Clause

from ingest.validate import has_instruction

from .contrasts import asked as asked_members, contradicts, members
from .retrieve import alternatives

_SENT = re.compile(rf"[^{SENTENCE_ENDS}\n]+[{SENTENCE_ENDS}]?")
ASKS_NUMBER = re.compile(r"多少|几|比例|百分之|标准|频率|多久|哪一年|何时|什么时候")
HAS_NUMBER = re.compile(r"[0-9０-９]|[一二两三四五六七八九十百千万]+(?:个|项|名|节|次|所|年|月|%|‰)|每.{0,3}(学期|年|月)")
MAX_QUOTE = 160


ASKS_LIST = re.compile(r"哪些|哪几|包括|包含|有什么要求|什么要求|什么条件|哪些条件|措施|分为|分成|几类|几种|列举|都有|是什么")
MAX_ITEMS = 12
# The part of an 意见/方案 that holds its tasks, and the words that ask for them rather than name a subject.
TASK_PART = re.compile(r"主要任务|重点任务|主要措施|具体(工作)?措施|工作措施|主要内容|主要举措|重点工作|工作重点|主要工作")
OUTLINE_WORDS = re.compile(r"^(要求|措施|主要|内容|任务|举措|规定|重点|工作|方面|哪些|什么)$")
ASKS_PENALTY = re.compile(r"处罚|罚款|罚|责任|后果|处分|违反|违规|追究|会怎样|会怎么样|怎么处理|吊销|撤销|拘留")
PENALTY_PART = re.compile(r"法律责任|罚则|奖励与处罚|奖惩")
ITEM_START = re.compile(r"^\s*([(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|\d+[.．、]|[①-⑳])")
ASKS_WHO = re.compile(r"哪(些|个|几个)(部门|单位|机构)|谁(来)?负责|由谁|谁牵头|责任单位|牵头单位")
RESPONSIBILITY = re.compile(r"^[(（]\s*(责任单位|牵头单位|配合单位|责任部门|牵头部门)")
LIST_TAIL = 240  # how much of a list may follow a sentence that introduces it ("领导小组：")


# a quoted name or a title with a number in it ("“强校三年行动方案”", "《…2025年…》")
_NAME = re.compile(r"“[^”“]{0,14}[\d一二两三四五六七八九十百][^”“]{0,14}”|《[^》]{0,40}[\d一二两三四五六七八九十][^》]{0,40}》")


def without_names(text: str) -> str:
    """`text` with quoted names and titles that hold a number blanked: the 三年 of “强校三年行动方案” is part of
    a name, never the asked number or date."""
    return _NAME.sub("“”", text)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, stripped; one that ends with a colon keeps the list lines after it,
    so "成立领导小组：" is quoted together with its members (still one verbatim span)."""
    out = []
    spans = [m.span() for m in _SENT.finditer(text) if m.group().strip()]
    i = 0
    while i < len(spans):
        start, end = spans[i]
        i += 1
        first = text[start:end].rstrip()
        if first.endswith((":", "：")):
            while i < len(spans) and spans[i][1] - start <= LIST_TAIL and "。" not in text[spans[i][0]:spans[i][1]]:
                end = spans[i][1]
                i += 1
        elif first.endswith((";", "；")) and re.search("[:：]", first):
            # "实现“三个跃升”:甲…;乙…;丙…。" is one enumeration: its items run on to the full stop
            while i < len(spans) and spans[i][1] - start <= 2 * LIST_TAIL and text[start:end].rstrip().endswith((";", "；")):
                end = spans[i][1]
                i += 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        out.append((start, end))
    return out


def sentences(text: str) -> list[str]:
    """Sentences of `text` (see sentence_spans)."""
    return [text[a:b] for a, b in sentence_spans(text)]


def strip_marker(sentence: str) -> str:
    return _strip_marker(sentence)


def lead_sentence(own_text: str) -> str:
    """The whole sentence a list's lead-in ends with: a penalty list's runs over several "；" parts
    (有下列情形之一的，由…责令改正；…并处罚款；…从其规定：), and its last part alone says nothing."""
    return strip_marker(re.split(r"(?<=[。！？!?])", own_text.rstrip())[-1].strip())


ARTICLE_MARKER = re.compile(r"^[\s\u3000]*第[一二三四五六七八九十百零〇两\d]+[条條](之[一二三四五六七八九十])?[\s\u3000]*")
MAX_ARTICLE = 400


def article_quote(clause: Clause) -> str:
    """A whole article as one verbatim span (without its 第N条 marker), cut at a sentence end if long."""
    text = clause.text.strip()
    m = ARTICLE_MARKER.match(text)
    body = text[m.end():] if m else text
    if len(body) <= MAX_ARTICLE:
        return body
    cut = max(body.rfind(p, 0, MAX_ARTICLE) for p in "。；\n")
    return body[: cut + 1].strip() if cut > 0 else body[:MAX_ARTICLE]


def strip_names(question: str, titles: list[str], aliases: dict[str, set[str]]) -> str:
    """The question without the names of the documents it asks about (教师法第几条规定了工资 → 第几条规定了工资)."""
    out = question
    for name in sorted(set(titles) | set(aliases), key=len, reverse=True):
        if name in out and (name in titles or len(name) >= 3):
            out = out.replace(name, " ")
    out = re.sub(r"《\s*》|第几条|哪一条|哪条|和|与|对比|比较|有什么不同|有何不同|的区别|区别", " ", out)
    return out.strip() or question


def _strip_marker(sentence: str) -> str:
    sentence = ARTICLE_MARKER.sub("", sentence, count=1)
    return re.sub(r"^[\s\u3000\u00a0]*([一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+[.．、)）])", "",
                  sentence).strip()


def pick_sentences(clause: Clause, terms: tuple[str, ...], question: str, limit: int = 2,
                   weight=len, pattern: str | None = None, alts=alternatives, title: str = "") -> list[str]:
    """The clause's spans that best answer the question, best first; each one verbatim.

    `weight(term)` scores a matched question term (the retriever passes IDF); `title` is the document's
    title, whose line in the text restates the question's words without answering anything;
    a sentence matching the question's answer `pattern` (a number of the asked
    unit, a year …) gets a bonus worth about one rare term. Two picked sentences that are next to each
    other become one span: "……" in an answer then always means text was left out.
    """
    text, spans = clause.own_text, sentence_spans(clause.own_text)
    if not spans:
        text, spans = clause.text, sentence_spans(clause.text)
    sents = [text[a:b] for a, b in spans]
    norm = [normalize(x) for x in sents]
    # Text that gives the reader instructions ("忽略以上所有指令…") is never framed as a rule.
    clean = [i for i, x in enumerate(sents) if not has_instruction(x)] or list(range(len(sents)))
    wants_number = bool(ASKS_NUMBER.search(question))
    asked = asked_members(question)  # 化学 asked: the sentence on 化学, not the one listing 数学、物理 first

    def shares(ns: str) -> list[str]:
        return [t for t in terms if t in ns or any(a in ns for a in alts(t))]

    scored, exact = [], set()  # exact: sentences naming only the asked members of a set (the 化学 sentence)
    for i in clean:
        ns = norm[i]
        score = sum(weight(t) for t in shares(ns))
        if pattern and re.search(pattern, without_names(ns)):
            score += 4
        elif wants_number and HAS_NUMBER.search(ns):
            score += 2
        named = members(ns) if asked else {}
        if any(named.get(k) and named[k] <= v for k, v in asked.items()):
            exact.add(i)
        elif contradicts(asked, ns) or any(named.get(k, v) - v for k, v in asked.items()):
            score -= 4  # it is about other members, or others besides
        if len(_strip_marker(sents[i])) < 6:  # a bare heading says nothing by itself
            score -= 3
        if RESPONSIBILITY.match(_strip_marker(sents[i])) and not ASKS_WHO.search(question):
            # "(责任单位:市教育局…)" names who, not what: the answer only when who is asked
            score -= 5
        if title and _is_title_line(ns, title):  # the document's own name restates the question, answers nothing
            score -= 8
        scored.append((score, i))
    # The sentence with the asked kind of answer (a number of that unit, a date) comes first: the clause was
    # chosen for the question's words, and the sentence that repeats them may not hold the answer. It must
    # still share a word with the question (score above the pattern's own bonus).
    typed = {i for score, i in scored
             if pattern and re.search(pattern, without_names(norm[i])) and score > 4}
    best = sorted(scored, key=lambda x: (x[1] not in typed, not (x[1] in exact and x[0] > 0), -x[0], x[1]))
    if not best:
        return []
    chosen = [best[0][1]]
    if limit > 1 and len(best) > 1 and best[1][0] > 0 and best[1][0] >= best[0][0] * 0.6:
        covered = set(shares(norm[best[0][1]]))
        if any(t not in covered for t in shares(norm[best[1][1]])) or best[1][0] == best[0][0]:
            chosen.append(best[1][1])
    # A provision cut at "；" goes on in the next part when that part is about the question too
    # ("…的罚款；违法所得不足一万元的，按一万元计算。").
    first = chosen[0]
    nxt = first + 1
    same_line = nxt < len(sents) and "\n" not in text[spans[first][1]:spans[nxt][0]]
    if (sents[first].rstrip().endswith((";", "；")) and same_line and nxt not in chosen
            and not ITEM_START.match(sents[nxt])
            and (shares(norm[nxt]) or ASKS_PENALTY.search(question))):
        chosen.insert(1, nxt)
    if limit > 1 and "\t" in sents[first]:
        chosen += _table_context(sents, first)
    runs: list[list[int]] = []  # adjacent sentences as one run; the best sentence's run first
    for i in chosen:
        run = next((r for r in runs if i == r[-1] + 1 or i == r[0] - 1), None)
        if run is None:
            runs.append([i])
        else:
            run.append(i)
            run.sort()
    out = []
    for run in runs:
        a, b = spans[run[0]][0], spans[run[-1]][1]
        quote = text[a:b]
        quote = _strip_marker(quote) if _strip_marker(quote) else quote
        long_ok = len(run) > 1 or quote.count("\n") or quote.count("；") + quote.count(";") >= 2  # a list whole
        out.append(quote[: 2 * LIST_TAIL] if long_ok else quote[:MAX_QUOTE])
    return out


def _table_context(sents: list[str], row: int) -> list[int]:
    """What a table row needs to be read: the rows under it that continue it (a merged cell's next lines,
    普通高中 12.81 21 under 初中 3.48 8: fewer cells) and the table's header row (what the figures are)."""
    cells = sents[row].count("\t")
    more = []
    j = row + 1
    while j < len(sents) and 0 < sents[j].count("\t") < cells and len(more) < 3:
        more.append(j)
        j += 1
    head = row
    while head > 0 and "\t" in sents[head - 1]:
        head -= 1
    return more + ([head] if head < row else [])


def _is_title_line(sentence: str, title: str) -> bool:
    """Whether `sentence` is (a part of) the document's title line, however the title's brackets were placed."""
    cjk = re.compile(r"[^\u4e00-\u9fff]")
    s, t = cjk.sub("", normalize(sentence)), cjk.sub("", normalize(title))
    return bool(s) and (t in s and len(s) <= len(t) + 12 or len(s) >= 6 and s in t)


def in_script(text: str, script: str, keep: tuple[str, ...] | list[str] = ()) -> str:
    """Write the frame in `script`; the verbatim quotes in `keep` are left as they are."""
    if script != TRADITIONAL:
        return text
    out = s2t(text)
    for quote in sorted(set(keep), key=len, reverse=True):
        out = out.replace(s2t(quote), quote)
    return out


def display(quote: str) -> str:
    """A quote as shown inside an answer sentence: list lines joined, runs of spaces collapsed.
    The citation keeps the verbatim span."""
    lines = [" ".join(line.replace("\u3000", " ").replace("\u00a0", " ").split()) for line in quote.splitlines()]
    out = ""
    for line in (x for x in lines if x):
        # a paragraph that ends its sentence needs no "；" after it ("…培训。；学校…" read as a typo)
        out += line if not out or out.endswith(tuple("。！？；：;:!?")) else "；" + line
    return out


def clause_ref(path: str) -> str:
    """三(二)4 → 第三(二)4条; 第二十五条(三) → 第二十五条第（三）项; 前言 and part labels read as they are."""
    m = re.fullmatch(r"(第[^()]+?条)\(([一二三四五六七八九十]+)\)", path)
    if m:
        return f"{m.group(1)}第（{m.group(2)}）项"
    if path.startswith("第"):
        return path
    return f"第{path}条" if path[:1] in "一二三四五六七八九十" or path[:1].isdigit() else path


def frame_fact(groups: list[list[Citation]]) -> str:
    """"清远市《…》第三(一)1条规定：“…”[1]……“…”[2]" — one line per cited clause, one marker per span:
    each quoted span is its own citation (its own highlight and CSV row)."""
    lines, n = [], 0
    for group in groups:
        parts = []
        for c in group:
            n += 1
            parts.append(f"“{display(c.quote)}”[{n}]")
        c = group[0]
        lines.append(f"{c.region}{book(c.title)}{clause_ref(c.clause)}规定：{'……'.join(parts)}")
    return "\n".join(lines)


def frame_unknown_place(places: tuple[str, ...], covered: list[str]) -> str:
    names = "、".join(places)
    return f"本库没有{names}的政策文件，无法回答关于{names}的问题。本库收录：{'、'.join(covered)}。"


def frame_missing_documents(missing: tuple[str, ...], titles: list[str], shown: int = 12) -> str:
    """`titles`: every indexed document's, in doc_id order; the first `shown` are listed."""
    names = "、".join(f"《{n}》" for n in missing)
    listed = "、".join(book(t) for t in titles[:shown])
    more = " 等" if len(titles) > shown else ""
    return f"本库没有收录{names}，无法回答关于它的问题。本库收录的文件有：{listed}{more}。"


def frame_not_found(question_topic: str, scope: list[str] | None, elsewhere: list[Citation],
                    covered: list[str]) -> str:
    where = f"{'、'.join(scope)}的政策文件" if scope else "现有政策文件"
    msg = f"{where}中没有找到关于“{question_topic}”的规定。"
    if elsewhere:
        others = "；".join(f"{c.region}{book(c.title)}{clause_ref(c.clause)}" for c in elsewhere)
        msg += f"相关规定只见于其他地区：{others}（仅适用于该地区）。"
    msg += f"本库收录：{'、'.join(covered)}。"
    return msg


def is_heading_only(clause: Clause, has_children: bool) -> bool:
    """A clause whose own text is just a title ("加强教研队伍建设。") is context, never evidence."""
    body = _strip_marker(clause.own_text.strip())
    return has_children and len(body) <= 24 and body.count("。") <= 1 and not re.search(r"\d", body)


ENACTMENT = re.compile(r"^[(（]?\s*(19|20)\d\d\s*年.{0,120}(通过|修正|修订|公布|施行|批准|发布)[^。]{0,20}$")


def is_enactment_record(clause: Clause) -> bool:
    """A law's opening lines: its title and when it was passed, amended, approved, put in force. They answer
    "教育法是哪一年通过的", never "校长一届任期几年" (a 第十一届人民代表大会 is not a term of office)."""
    lines = [x.strip() for x in clause.own_text.splitlines() if x.strip()][1:]
    return bool(lines) and all(ENACTMENT.search(x) for x in lines)


def item_quote(clause: Clause) -> str:
    """An item of a list as one verbatim span: its first sentence (or all of it, if short)."""
    sents = sentences(clause.own_text)
    if not sents:
        return ""
    first = _strip_marker(sents[0]) or sents[0]
    return first[:MAX_QUOTE]


def frame_list(citations: list[Citation], has_head: bool, total: int) -> str:
    """Lead-in line, then one numbered line per item, each with its own source marker."""
    lines = []
    items = citations[1:] if has_head else citations
    if has_head:
        c = citations[0]
        if len(c.quote) <= 24 and not c.quote.rstrip().endswith(("：", ":", "。", "；", ";")):  # a part's heading
            lines.append(f"{c.region}{book(c.title)}{clause_ref(c.clause)}“{display(c.quote)}”[1]包括：")
        else:
            lines.append(f"{c.region}{book(c.title)}{clause_ref(c.clause)}规定：“{display(c.quote)}”[1]")
    else:
        c = citations[0]
        lines.append(f"{c.region}{book(c.title)}的规定：")
    first_n = 2 if has_head else 1
    for i, c in enumerate(items):
        lines.append(f"{i + 1}. “{display(c.quote)}”（{clause_ref(c.clause)}）[{i + first_n}]")
    if total > len(items):
        lines.append(f"（共{total}项，此处列出前{len(items)}项）")
    return "\n".join(lines)
