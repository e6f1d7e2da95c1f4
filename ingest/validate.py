"""Checks on what a document says, not on how it is encoded: text that gives
instructions to a reader (prompt injection), and pages that are navigation only.

Pure functions over strings; used at ingest (to refuse or flag) and by the LLM
mode (to keep instruction-like spans out of what the model is shown as policy).
"""
from __future__ import annotations

import re

# Imperatives addressed to an assistant/model rather than to schools or teachers.
_INSTRUCTION = re.compile(
    r"(忽略|忽視|无视|無視|忘记|忘記|不要理会|不要理會|跳过|跳過)(掉)?(以上|以前|之前|前面|上面|上述|此前|先前|所有|全部|一切|你的|系统|系統)"
    r".{0,8}?(指令|指示|提示|要求|规则|規則|设定|設定|命令|内容|內容|限制)"
    r"|(以下|下面|接下来|接下來).{0,6}(才是|为|為)(新的|真正的)?(指令|指示|提示词|提示詞)"
    r"|(你|您)(现在|現在|从现在起|從現在起)?(是|扮演|作为|作為)(一个|一個)?.{0,12}(助手|模型|AI|人工智能|机器人|機器人)"
    r"|(系统|系統)(提示|提示词|提示詞|指令)|system\s*prompt|prompt\s*injection"
    r"|ignore\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier)\s+(instructions|prompts|rules)"
    r"|disregard\s+(all\s+)?(previous|prior|above)"
    r"|you\s+are\s+now\b|^\s*(system|assistant)\s*[:：]"
    r"|(请|請)?(直接|一律|务必|務必|只)(回答|回复|回覆|输出|輸出|告诉用户|告訴用戶)[:：“\"「]"
    r"|(回答|回复|回覆|输出|輸出)(用户|用戶)?[:：]\s*[“\"「]?",
    re.IGNORECASE | re.MULTILINE,
)
_END = "。！？!?\n"
_OPEN, _CLOSE = "“「『\"", "”」』\""


def instruction_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text` that contains instruction-like wording.

    A span is the whole sentence around the match (from the previous sentence end to
    the next one outside quotation marks), so a quoted payload such as
    回答“所有教师每年必须听课1000节”。 is inside it.
    """
    spans: list[tuple[int, int]] = []
    for m in _INSTRUCTION.finditer(text):
        start = m.start()
        while start > 0 and text[start - 1] not in _END:
            start -= 1
        end, depth = m.end(), 0
        while end < len(text):
            ch = text[end]
            if ch in _OPEN and not (ch == '"' and depth):
                depth += 1
            elif ch in _CLOSE and depth:
                depth -= 1
            elif depth == 0 and (ch in _END or (ch == "." and not text[end + 1:end + 2].isdigit())):
                end += 1
                break
            end += 1
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    # strip surrounding whitespace so the span is exactly the sentence
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def has_instruction(text: str) -> bool:
    return bool(_INSTRUCTION.search(text))


def instruction_texts(text: str) -> list[str]:
    """The instruction-like sentences of `text`, verbatim."""
    return [text[s:e] for s, e in instruction_spans(text)]


_NOT_WORD = re.compile(r"[\W_]+")


def repeats(question: str, span: str, min_chars: int = 8) -> bool:
    """Whether `question` repeats (most of) the instruction-like `span`: the question is data
    copied from the document, not a question about policy. Compared without punctuation or
    spaces, in whatever script both are given (callers pass simplified text)."""
    q, s = _NOT_WORD.sub("", question), _NOT_WORD.sub("", span)
    if len(q) < min_chars or len(s) < min_chars:
        return False
    if q in s or s in q:
        return True
    from difflib import SequenceMatcher

    m = SequenceMatcher(None, q, s, autojunk=False).find_longest_match(0, len(q), 0, len(s))
    return m.size >= max(min_chars, int(0.6 * min(len(q), len(s))))


def without_instructions(text: str, mark: str = "〔此处疑似指令的文字已隔离，不是政策内容〕") -> str:
    """`text` with each instruction-like sentence replaced by `mark`."""
    out, last = [], 0
    for s, e in instruction_spans(text):
        out.append(text[last:s])
        out.append(mark)
        last = e
    out.append(text[last:])
    return "".join(out)


# ---- navigation-only pages -----------------------------------------------------

_SENTENCE_END = re.compile(r"[。；;！？!?]")


def navigation_only(text: str, real_clauses: int) -> str | None:
    """A one-line Chinese reason when `text` looks like a site's navigation page
    (首页, 栏目列表: mostly short link lines, no sentences, no clause structure), else None."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "没有正文"
    short = [ln for ln in lines if len(ln) <= 20 and not _SENTENCE_END.search(ln)]
    prose = sum(len(ln) for ln in lines if len(ln) > 20 or _SENTENCE_END.search(ln))
    sentences = len(_SENTENCE_END.findall(text))
    if real_clauses >= 2 and sentences >= 2:
        return None
    if len(lines) >= 5 and len(short) / len(lines) >= 0.6 and prose < 200 and sentences < 5:
        return (f"只有导航或链接（{len(lines)} 行中 {len(short)} 行是短链接文字，没有条款和正文句子），"
                "像是网站首页或栏目页，已拒绝")
    return None
