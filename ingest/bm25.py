"""The BM25 index of a generation, built once at ingest and memory-mapped by each query process.

Building it from the chunks' tokens took 8.7 s of the first question at 1,000 laws (80k chunks,
profiled 2026-11-25); loading the saved arrays with mmap takes a fraction of a second. A
generation written before this file existed has no `bm25/`: the index is then built in memory,
as before. Document frequencies (the retriever's IDF) come from the same matrix, so they need
no pass over every chunk's tokens either.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

DIR = "bm25"
EMPTY = "∅"  # bm25s refuses an empty document; this token is never in a query


def build(chunk_tokens):
    import bm25s

    r = bm25s.BM25()
    r.index([t or [EMPTY] for t in chunk_tokens], show_progress=False)
    return r


def save(gen_dir: Path, chunk_tokens) -> None:
    if not chunk_tokens:  # a generation with no chunk (every file failed) has nothing to search; bm25s refuses it
        return
    tmp = Path(gen_dir) / (DIR + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    build(chunk_tokens).save(str(tmp), show_progress=False)
    os.replace(tmp, Path(gen_dir) / DIR)


def load_or_build(gen_dir: Path, chunk_tokens, n_chunks: int):
    """The saved index (memory-mapped), else one built from `chunk_tokens`."""
    from .errors import IndexMissingError

    d = Path(gen_dir) / DIR
    if d.is_dir():
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        try:
            r = bm25s.BM25.load(str(d), mmap=True, show_progress=False)
        except (OSError, ValueError, KeyError) as e:
            raise IndexMissingError(f"the BM25 index {d} is unreadable ({type(e).__name__}); "
                                    "fix: python -m ingest --rebuild corpus/") from None
        if r.scores["num_docs"] != n_chunks:
            raise IndexMissingError(f"the BM25 index {d} does not match the index's {n_chunks} chunks; "
                                    "fix: python -m ingest --rebuild corpus/")
        return r
    return build(chunk_tokens)


def doc_freqs(model) -> dict[str, int]:
    """Chunks containing each token: the non-zero entries of its column (a present term always scores > 0)."""
    import numpy as np

    counts = np.diff(np.asarray(model.scores["indptr"]))
    # bm25s also maps "" to an id past the last column: not a token of any chunk.
    return {tok: int(counts[i]) for tok, i in model.vocab_dict.items()
            if i < len(counts) and tok != EMPTY and counts[i]}
