"""Exact dense search over a generation's vectors.npy (written by ingest.index, chunk order).

At 75k chunks a brute-force dot product over a memory-mapped float32 matrix takes ~10 ms,
while the first Chroma query of a process paid seconds for importing Chroma and loading its
HNSW index, and Chroma's filtered search grew with the number of chunks its filter let
through. The results are Chroma's: (chunk id, cosine distance = 1 - dot of unit vectors),
best first. Chroma stays the store for a Chroma server and for indexes written before
vectors.npy existed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import IndexMissingError

FILE = "vectors.npy"


class ExactVectors:
    def __init__(self, path: Path, chunks: Sequence) -> None:
        try:
            self.matrix = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as e:
            raise IndexMissingError(f"the vector file {path} is unreadable ({type(e).__name__}); "
                                    "fix: python -m ingest --rebuild corpus/") from None
        if self.matrix.ndim != 2 or self.matrix.shape[0] != len(chunks):
            raise IndexMissingError(f"the vector file {path} does not match the index's {len(chunks)} chunks; "
                                    "fix: python -m ingest --rebuild corpus/")
        self.ids = [c.chunk_id for c in chunks]
        self.columns = {"region": np.array([c.region for c in chunks]), "doc_id": np.array([c.doc_id for c in chunks])}

    @classmethod
    def of_generation(cls, gen: Path, chunks: Sequence) -> "ExactVectors | None":
        path = Path(gen) / FILE
        return cls(path, chunks) if path.is_file() else None

    def query(self, vector, n_results: int, where: dict | None) -> list[tuple[str, float]] | None:
        """Best `n_results` chunks passing `where`; None for a filter other than Chroma's
        {field: value} / {field: {"$in": [...]}} on region or doc_id (the caller then asks Chroma)."""
        keep = None
        for field, cond in (where or {}).items():
            if field not in self.columns:
                return None
            if isinstance(cond, dict):
                if set(cond) != {"$in"}:
                    return None
                values = list(cond["$in"])
            else:
                values = [cond]
            m = np.isin(self.columns[field], values)
            keep = m if keep is None else keep & m
        scores = self.matrix @ np.asarray(vector, dtype=np.float32)
        idx = np.arange(len(scores)) if keep is None else np.flatnonzero(keep)
        n = min(n_results, len(idx))
        if n <= 0:
            return []
        sub = scores[idx]
        top = np.argpartition(-sub, n - 1)[:n]
        top = top[np.argsort(-sub[top], kind="stable")]
        return [(self.ids[idx[j]], float(1.0 - sub[j])) for j in top]
