"""Word segmentation for BM25: our own jieba Tokenizer with the policy dictionary.

A private `jieba.Tokenizer` (not the global one) so that the policy words never
leak into, or get overridden by, other code in the same process.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

POLICY_DICT = Path(__file__).with_name("policy_dict.txt")
# Function words that carry no retrieval signal in policy prose.
STOPWORDS = frozenset(
    "的 了 和 与 及 等 在 是 为 对 将 把 要 以 并 或 其 之 于 由 从 也 都 而 被 有 个 各 该 此 这 那 "
    "我 你 他 们 吗 呢 吧 啊 么 什么 多少 哪些 哪个 怎么 如何 是否 几 请问 请".split()
)
_WORD = re.compile(r"[\w\u4e00-\u9fff‰%]")


@lru_cache(maxsize=1)
def tokenizer():
    import logging
    import warnings

    with warnings.catch_warnings():  # jieba 0.42 imports pkg_resources, which newer setuptools warns about
        warnings.simplefilter("ignore", UserWarning)
        import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.load_userdict(str(POLICY_DICT))
    return tk


def tokens(text: str) -> list[str]:
    """Search-mode tokens of already-normalised (simplified) text, minus stopwords and punctuation."""
    return [
        t for t in tokenizer().cut_for_search(text)
        if t.strip() and _WORD.search(t) and t not in STOPWORDS
    ]


def policy_words() -> list[str]:
    return [line.split()[0] for line in POLICY_DICT.read_text(encoding="utf-8").splitlines() if line.strip()]
