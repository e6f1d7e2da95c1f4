"""The words of a clause that answer-checking compares a question with, as the retriever defines them.

One definition for both sides: ingest writes them per clause into the generation's lookup
database (ingest/lookup.py), and the retriever computes them only for an index written
before that (assistant/retrieve.py). At 1,000 laws computing them at query time (jieba and
OpenCC on each candidate clause) cost 1.0-1.5 s of the slowest comparisons (profiled 2026-12-03).
"""
from __future__ import annotations

import re

from .segment import tokens
from .textnorm import SENTENCE_ENDS, normalize
from .validate import without_instructions

_SENTENCE = re.compile(rf"[{SENTENCE_ENDS}\n]+")


def clause_terms(heads: str, text: str) -> frozenset[str]:
    """Words of a clause's full text and its parent headings; instruction-like sentences are data,
    not coverage, so they are blanked first."""
    body = without_instructions(text, " ")
    return frozenset(tokens(normalize(f"{heads} {body}")))


def sentence_terms(heads: str, own_text: str, text: str) -> tuple[frozenset[str], tuple[frozenset[str], ...]]:
    """(words of the headings, words of each of the clause's own sentences)."""
    body = without_instructions(own_text or text, " ")
    sents = tuple(frozenset(tokens(normalize(x))) for x in _SENTENCE.split(body) if x.strip())
    return frozenset(tokens(normalize(heads))), sents or (frozenset(),)


class Segmenter:
    """The same two functions for many clauses of the same documents, each line segmented once.

    A parent clause's text is its children's sentences again, and `sentence_terms` segments the
    sentences `clause_terms` just did, so at 1,000 laws most sentences were segmented several times
    (378 s to write lookup.sqlite). Neither OpenCC's phrases, NFKC nor a jieba word crosses a
    sentence end, a line break or a space (jieba cuts at every character outside its Han/alphanumeric
    class), so the words of a text are the union of its sentences' words: the same sets, checked
    clause by clause against the functions above in tests/test_store_lookup.py."""

    def __init__(self) -> None:
        self._memo: dict[str, frozenset[str]] = {}

    def words(self, text: str) -> frozenset[str]:
        out: set[str] = set()
        for piece in _SENTENCE.split(text):
            hit = self._memo.get(piece)
            if hit is None:
                hit = self._memo[piece] = frozenset(tokens(normalize(piece)))
            out |= hit
        return frozenset(out)

    def clause_terms(self, heads: str, text: str) -> frozenset[str]:
        return self.words(heads) | self.words(without_instructions(text, " "))

    def sentence_terms(self, heads: str, own_text: str, text: str):
        body = without_instructions(own_text or text, " ")
        sents = tuple(self.words(x) for x in _SENTENCE.split(body) if x.strip())
        return self.words(heads), sents or (frozenset(),)
