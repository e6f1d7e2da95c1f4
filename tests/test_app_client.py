"""The web app's API as a program uses it: `python app.py` in a subprocess, called with gradio_client."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(data_dir: Path, log_path: Path, corpus: Path | None = None):
    """Start `python app.py` on a free port over `data_dir`; yield its URL; stop it afterwards.
    With no index in `data_dir` the app builds one from `corpus` (default corpus/) in the background."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ZHENGCE_", "CHROMA_")) and k != "OPENAI_API_KEY"}
    env["HF_HUB_OFFLINE"] = "1"
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
             "--no-llm"] + (["--corpus", str(corpus)] if corpus else []),
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not answer on {url} within {START_TIMEOUT} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def app_data(built_index, tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("app") / "index"
    shutil.copytree(built_index, dst)
    return dst


@pytest.fixture(scope="module")
def app_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("applog") / "app.log"


@pytest.fixture(scope="module")
def app_url(app_data, app_log):
    with running_app(app_data, app_log) as url:
        yield url


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


ENGLISH = re.compile(r"[A-Za-z]{3,}(?:\s+[A-Za-z]{2,}){1,}")  # English prose, not a file type or a command


def assert_chinese(msg: str) -> None:
    assert msg and re.search(r"[\u4e00-\u9fff]", msg), msg
    assert not ENGLISH.search(msg.replace("python -m ingest --rebuild corpus/", "")), msg
    assert "Traceback" not in msg and "Error" not in msg, msg


def test_api_lists_the_named_endpoints_with_typed_returns(client):
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/ask", "/compare", "/documents"} <= set(named)
    ask = named["/ask"]["returns"][0]["type"]
    assert ask["type"] == "object" and {"answer", "found", "citations", "error", "error_type"} <= set(ask["properties"])
    assert ask["properties"]["citations"]["items"]["properties"]["quote"] == {"type": "string"}
    cmp_ = named["/compare"]["returns"][0]["type"]
    assert set(cmp_["properties"]) == {"topic", "rows", "error", "error_type"}
    assert "地区" in cmp_["properties"]["rows"]["items"]["properties"]


def test_ask_returns_the_json_contract(client):
    r = client.predict("学校领导每学期听课多少节？", None, None, api_name="/ask")
    assert set(r) >= {"answer", "found", "citations", "tool_calls", "script", "error", "error_type"}
    assert r["found"] is True and r["error"] is None and r["error_type"] is None
    assert "30" in r["answer"] and "[1]" in r["answer"]
    c = r["citations"][0]
    assert set(c) == {"doc_id", "title", "region", "clause", "quote"}
    assert (c["region"], c["clause"]) == ("清远市", "三(一)1")
    assert "30" in c["quote"]


def test_ask_honours_regions_and_script(client):
    r = client.predict("教研员配备比例是多少？", ["清远市"], "traditional", api_name="/ask")
    assert r["script"] == "traditional"
    assert r["citations"] and all(c["region"] == "清远市" for c in r["citations"])
    assert "5‰" in r["answer"]


@pytest.mark.parametrize("question", ["   ", "学" * 6000, "?!。", "\x00\x01\x02 学校"])
def test_bad_questions_get_a_typed_chinese_error(client, question):
    r = client.predict(question, None, None, api_name="/ask")
    assert r["found"] is False and r["citations"] == []
    if r["error"] is None:  # a question that is merely unanswerable is not an error
        assert_chinese(r["answer"])
        return
    assert r["error_type"] in {"bad_request", "bad_input"}
    assert_chinese(r["error"])
    assert r["answer"] == r["error"]


def test_empty_question_is_a_clear_error_not_a_crash(client):
    r = client.predict("   ", None, None, api_name="/ask")
    assert r["error_type"] == "bad_request" and "问题是空的" in r["error"]
    assert client.predict("学校领导一学年要听多少节课？", None, None, api_name="/ask")["found"] is True


def test_unknown_region_is_a_clear_error_logged_in_one_line(client, app_log):
    r = client.predict("学校领导每学期听课多少节？", ["火星市"], None, api_name="/ask")
    assert r["error_type"] == "bad_request"
    assert "火星市" in r["error"] and "清远市" in r["error"]
    assert_chinese(r["error"])
    r = client.predict("教师培训经费", ["火星市"], api_name="/compare")
    assert r["rows"] == [] and "火星市" in r["error"] and r["error_type"] == "bad_request"
    time.sleep(0.5)
    log = app_log.read_text()
    assert "火星市" in log and "Traceback" not in log


def test_compare_returns_one_row_per_region(client):
    r = client.predict("教师培训经费", ["清远市", "随州市"], api_name="/compare")
    assert r["error"] is None and r["topic"] == "教师培训经费"
    rows = r["rows"]
    assert [x["地区"] for x in rows] == ["清远市", "随州市"]
    for x in rows:
        assert set(x) == {"地区", "规定", "条款", "文件", "原文"}
        assert x["规定"] != "未规定" and x["条款"] and x["文件"]
    assert "1.5%" in rows[1]["规定"]


def test_compare_marks_cities_that_say_nothing(client):
    rows = client.predict("集团化办学", None, api_name="/compare")["rows"]
    by_region = {r["地区"]: r for r in rows}
    assert by_region["克拉玛依市"]["规定"] == "未规定" and by_region["克拉玛依市"]["条款"] == ""
    assert by_region["随州市"]["规定"] != "未规定"


def test_compare_with_an_empty_topic_returns_an_error_instead_of_raising(client):
    r = client.predict("  ", None, api_name="/compare")
    assert r["rows"] == [] and r["error_type"] == "bad_request"
    assert "对比主题" in r["error"]
    assert_chinese(r["error"])


def test_documents_lists_the_corpus(client):
    r = client.predict(api_name="/documents")
    docs = r["documents"]
    assert r["error"] is None and len(docs) == 5
    assert {d["region"] for d in docs} == {"清远市", "随州市", "成都市", "克拉玛依市", "通用"}
    assert all(d["clauses"] > 0 for d in docs)


def test_ten_people_can_ask_at_once(app_url):
    from gradio_client import Client

    questions = ["学校领导每学期听课多少节？", "清远市教研员配备比例是多少？", "哪些城市提到集团化办学？",
                 "我是中学一级教师，5年内要参加几项课题研究？", "我们学校30个班，要不要建名师工作室？"] * 2

    def ask(q):
        return Client(app_url, verbose=False).predict(q, None, None, api_name="/ask")

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(ask, questions))
    elapsed = time.monotonic() - t0
    assert all(r["found"] and r["citations"] for r in results), [r["answer"][:60] for r in results]
    assert results[0]["answer"] == results[5]["answer"]
    assert elapsed < 60, f"ten concurrent questions took {elapsed:.1f} s"
