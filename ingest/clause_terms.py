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
