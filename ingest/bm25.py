"""The BM25 index of a generation, built once at ingest and memory-mapped by each query process.

Building it from the chunks' tokens took 8.7 s of the first question at 1,000 laws (80k chunks,
profiled 2026-11-25); loading the saved arrays with mmap takes a fraction of a second. A
generation written before this file existed has no `bm25/`: the index is then built in memory,
as before. Document frequencies (the retriever's IDF) come from the same matrix, so they need
no pass over every chunk's tokens either.
"""
from __future__ import annotations

import json
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
        try:
            r = Saved(d)
            if r.method in NONOCCURRENCE:  # not what save() writes; bm25s knows how to score it
                import bm25s

                logging.getLogger("bm25s").setLevel(logging.WARNING)
                r = bm25s.BM25.load(str(d), mmap=True, show_progress=False)
        except (OSError, ValueError, KeyError) as e:
            raise IndexMissingError(f"the BM25 index {d} is unreadable ({type(e).__name__}); "
                                    "fix: python -m ingest --rebuild corpus/") from None
        if r.scores["num_docs"] != n_chunks:
            raise IndexMissingError(f"the BM25 index {d} does not match the index's {n_chunks} chunks; "
                                    "fix: python -m ingest --rebuild corpus/")
        return r
    return build(chunk_tokens)


NONOCCURRENCE = ("bm25l", "bm25+")  # bm25s variants whose scores need a non-occurrence array


class Saved:
    """A saved bm25s index, memory-mapped, scored as bm25s scores it (`get_scores`, numpy backend, same
    operations in the same order, so the same float32 scores) without importing bm25s: its import
    (scipy.sparse, tqdm) took 1.3 s of every query process's start (python -X importtime, 2026-12-03)."""

    def __init__(self, d: Path):
        import numpy as np

        params = json.loads((d / "params.index.json").read_text(encoding="utf-8"))
        self.method = params.get("method", "lucene")
        self.dtype = np.dtype(params.get("dtype", "float32"))
        self.int_dtype = np.dtype(params.get("int_dtype", "int32"))
        self.vocab_dict: dict[str, int] = json.loads((d / "vocab.index.json").read_text(encoding="utf-8"))
        self.scores = {name: np.load(d / f"{name}.csc.index.npy", mmap_mode="r") for name in ("data", "indices", "indptr")}
        self.scores["num_docs"] = params["num_docs"]

    def get_scores(self, query_tokens: list[str]):
        import numpy as np

        ids = np.asarray([self.vocab_dict[t] for t in query_tokens if t in self.vocab_dict], dtype=self.int_dtype)
        data, indices, indptr = self.scores["data"], self.scores["indices"], self.scores["indptr"]
        if int(ids.max(initial=0)) >= len(indptr) - 1:
            raise ValueError("a query token id is past the index's vocabulary")
        starts, ends = indptr[ids], indptr[ids + 1]
        scores = np.zeros(self.scores["num_docs"], dtype=self.dtype)
        for start, end in zip(starts, ends):
            np.add.at(scores, indices[start:end], data[start:end])
        return scores


def doc_freqs(model) -> dict[str, int]:
    """Chunks containing each token: the non-zero entries of its column (a present term always scores > 0)."""
    import numpy as np

    counts = np.diff(np.asarray(model.scores["indptr"]))
    # bm25s also maps "" to an id past the last column: not a token of any chunk.
    return {tok: int(counts[i]) for tok, i in model.vocab_dict.items()
            if i < len(counts) and tok != EMPTY and counts[i]}
