"""Shared by tests/test_ingest.py and tests/test_ingest_index.py: the corpus's document ids, a
recording embedder, and checks of a real index on disk."""
from __future__ import annotations

import shutil
from pathlib import Path

from assistant.store import Store

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
QY, SZ, CD, TY, KL = (
    "000_824e62257c2156a1", "001_4ea7f4e0e4771614", "002_567f64c4eced1a2f",
    "003_f14db30dbc55ce6a", "004_0215b10e07417eb4",
)
ALL = sorted([QY, SZ, CD, TY, KL])
REGIONS = {QY: "清远市", SZ: "随州市", CD: "成都市", TY: "通用", KL: "克拉玛依市"}


class Recording:
    """The real embedder, recording what it is asked to embed; optionally failing on the n-th batch."""

    def __init__(self, inner, fail_on_call: int | None = None):
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.fail_on_call = fail_on_call
        self.batches: list[list[str]] = []

    def passages(self, texts):
        if self.fail_on_call is not None and len(self.batches) + 1 == self.fail_on_call:
            raise RuntimeError("simulated crash while embedding")
        self.batches.append(list(texts))
        return self.inner.passages(texts)

    def query(self, text):
        return self.inner.query(text)

    @property
    def texts(self) -> list[str]:
        return [t for b in self.batches for t in b]


def never_called():
    raise AssertionError("the embedder must not be loaded: every vector is cached or nothing changed")


def quiet(_msg: str) -> None:
    pass


def live(data_dir: Path) -> str:
    return (data_dir / "CURRENT").read_text().strip()


def generations(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.glob("gen-*"))


def copy_corpus(tmp_path: Path) -> Path:
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


def assert_consistent(store: Store) -> None:
    """Every chunk is in Chroma with its vector, and every chunk's clause and document exist."""
    col = store.collection
    ids = [c.chunk_id for c in store.chunks]
    assert col.count() == len(ids) == len(set(ids))
    got = col.get(ids=ids, include=["metadatas"])
    assert sorted(got["ids"]) == sorted(ids)
    for c in store.chunks:
        assert c.clause_id in store.clauses
        assert c.doc_id in store.docs
        assert c.text in store.docs[c.doc_id].text
    for d in store.docs.values():
        assert d.clause_count == len(store.clauses_of(d.doc_id))
