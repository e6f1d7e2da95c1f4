"""Whether a clause's span of the asked kind (a number, a date, a duration) is about what the question asks.

A clause may hold 每3年 and still not say how many years a 定向师范生 must serve; a 比例 of money is no 比例 of
男教师. The span must sit in a sentence (or under a heading) that names what the number is asked of: the words
right before the ask and right after it ("教师的住房补贴每月多少钱" asks it of 住房补贴; "多长时间回一次家" of 回家).
"""
from __future__ import annotations

import re

from ingest.segment import in_dictionary
from ingest.textnorm import normalize

from . import compose
from .query import ask_span

# Words that name the kind of answer asked (男老师占多少比例): they say nothing about which sentence is on the topic
ASKED_KIND = re.compile(r"比例|比重|占比|标准|数量|人数|时间|期限|年限|金额|次数|频率")
# how often, how much, and who: 孩子每天户外活动几个小时 asks the number of 户外活动, of whoever the document names
NOT_ASKED_OF = re.compile(rf"^(?:{ASKED_KIND.pattern}|每.{{0,2}}|钱|元|万元|至少|最多|不少于|不超过"
                          r"|孩子|小孩|学生|老师|教师|家长|父母|幼儿|儿童|未成年人|毕业生|员工|职工)$")
_PART = r"[，,。；;？?！!]"


def asked_about(retriever, question: str) -> list[str]:
    """What the number is asked of: the two content words before the ask and the first after it, in the same part
    of the sentence; [] where no kind is asked or the ask is for names (哪些部门, 哪几种: the list is the answer)."""
    asked = [x for x in re.split(r"(?<=[？?])", question) if x.strip()]  # a follow-up asks in its own part
    text = next((x for x in reversed(asked) if ask_span(x)), question)
    span = ask_span(text)
    if span is None or text[span[0]] == "哪":
        return []
    before = re.split(_PART, text[:span[0]])[-1]
    after = re.split(_PART, text[span[1]:])[0]
    # a word neither the documents nor the dictionary know is a fragment segmentation glued to the ask's
    # neighbour (活动周定在每年的什么时候 → 活动/周定): the nearest real words are what is asked of
    words = [[t for t in retriever.content_terms(part) if not NOT_ASKED_OF.search(t)
              and (retriever.known(t) or in_dictionary(t))] for part in (before, after)]
    # two before, one after: measured against one before (lost 周定/内得-style answers) and two after (let a
    # neighbouring rule answer) on the calibrate and dev splits, 2026-12-04
    return words[0][-2:] + words[1][:1]


def typed_sentence(retriever, clause, text: str, pattern: str, question: str, terms) -> bool:
    """`text` (the clause's, normalised) has a sentence matching `pattern` that names what `question` asks of."""
    heads = normalize(f"{retriever.headings(clause)} {clause.heading}")
    about = asked_about(retriever, question) or [t for t in terms if not ASKED_KIND.fullmatch(t)]
    # a compound is named by any of its parts too: the document says 服务期 where the question says 服务年限
    about = [*about, *(p for t in about for p in retriever.parts(t))]
    return any(re.search(pattern, x) and any(retriever.mentions(t, f"{heads} {x}") for t in about)
               for x in compose.sentences(compose.without_names(text)))
