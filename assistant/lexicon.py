"""How people say it → how education laws, regulations and school documents say it (`lexicon.tsv`).

The table is data, reviewed by hand: 400 everyday words (孩子, 开发商, 网吧, 喂药, 罚多少钱 …) with the wording the
documents use for the same thing (未成年人/幼儿, 建设单位, 互联网上网服务营业场所, 用药, 罚款). It was written from
the laws' vocabulary (each legal word counted in a 1,000-law sample), not from any evaluation question.
Loaded on first use, never at import.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("lexicon.tsv")


@lru_cache(maxsize=1)
def table() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, _, legal = line.partition("\t")
        out[word.strip()] = tuple(dict.fromkeys(w for w in legal.split() if w != word.strip()))
    return out


def legal_words(word: str) -> tuple[str, ...]:
    """The documents' words for `word`, or () when the table has no entry."""
    return table().get(word, ())
