"""A shared deployment of the real app (`python app.py` in a subprocess): sign-in from a password
file or a trusted proxy header, the per-person upload quota on Gradio's upload route, the sweep of
abandoned uploads, the degraded-mode banner, and bad settings refused in one line."""
from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.store import DEGRADED_NOTE
from tests.test_app_client import ROOT, free_port
from web.access import Quota, QuotaExceeded, read_users, sweep

START_TIMEOUT = 120


@contextmanager
def app(data_dir: Path, log_path: Path, **env_extra):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ZHENGCE_", "CHROMA_", "GRADIO_TEMP")) and k != "OPENAI_API_KEY"}
    env.update(HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", **env_extra)
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port),
                                 "--data-dir", str(data_dir), "--no-llm"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(url + "/gradio_api/info", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # answering (401 when sign-in is required)
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def upload(jar, url: str, payload: bytes, headers: dict | None = None) -> tuple[int, str]:
    """POST one file to Gradio's upload route as a browser does. A refused upload may be answered
    before its body is sent (that is the point), so a broken pipe while sending is not a failure."""
    import http.client

    boundary = "zcboundary7d1"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar) if jar else ""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.putrequest("POST", "/gradio_api/upload")
    for k, v in {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(len(body)),
                 **({"Cookie": cookie} if cookie else {}), **(headers or {})}.items():
        conn.putheader(k, v)
    conn.endheaders()
    try:
        conn.send(body)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = conn.getresponse()
    out = r.status, r.read().decode(errors="replace")
    conn.close()
    return out


@pytest.fixture(scope="module")
def deploy_data(built_index, tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("deploy") / "index"
    shutil.copytree(built_index, dst)
    return dst


def test_password_file_quota_and_cleanup(deploy_data, tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("# 用户名:密码\nteacher:s3cret-1\nbureau:s3cret-2\n", encoding="utf-8")
    with app(deploy_data, tmp_path / "app.log", ZHENGCE_AUTH_FILE=str(users), ZHENGCE_UPLOAD_QUOTA_FILES="3",
             ZHENGCE_UPLOAD_QUOTA_MB="1", ZHENGCE_UPLOAD_TTL="60") as url:
        anonymous = urllib.request.build_opener()
        with pytest.raises(urllib.error.HTTPError) as e:
            anonymous.open(url + "/gradio_api/info", timeout=10)
        assert e.value.code == 401
        status, _ = upload(None, url, b"x" * 1000)
        assert status == 401  # nothing is stored for someone who has not signed in

        jar = http.cookiejar.CookieJar()
        teacher = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        bad = urllib.parse.urlencode({"username": "teacher", "password": "wrong"}).encode()
        with pytest.raises(urllib.error.HTTPError):
            teacher.open(url + "/login", data=bad, timeout=10)
        good = urllib.parse.urlencode({"username": "teacher", "password": "s3cret-1"}).encode()
        assert teacher.open(url + "/login", data=good, timeout=10).status == 200
        assert teacher.open(url + "/gradio_api/info", timeout=10).status == 200

        from gradio_client import Client

        out = Client(url + "/", auth=("bureau", "s3cret-2"), verbose=False).predict(
            "清远市教研员配备比例是多少？", None, None, api_name="/ask")
        assert out["found"] and out["error"] is None

        # Quota: 3 uploads a day per person, 1 MB in all.
        sizes = [(b"a", 200_000, 200), (b"d", 200_000, 200), (b"e", 700_000, 429)]
        for ch, size, expected in sizes:  # distinct contents: Gradio stores equal files once
            status, body = upload(jar, url, ch * size)
            assert status == expected, (status, body)
        assert "上传总量已达上限" in body
        status, _ = upload(jar, url, b"b" * 1000)
        assert status == 200  # the third file, small enough
        status, body = upload(jar, url, b"c" * 10)
        assert status == 429 and "上传次数已达上限" in body
        tmp = deploy_data / "gradio-tmp"
        stored = [p for p in tmp.rglob("*") if p.is_file()]
        assert len(stored) == 3 and sum(p.stat().st_size for p in stored) < 500_000

        # Abandoned uploads: the sweeper removes files older than the TTL (60 s here).
        old = time.time() - 3600
        for p in stored:
            os.utime(p, (old, old))
        deadline = time.monotonic() + 40
        while any(p.exists() for p in stored) and time.monotonic() < deadline:
            time.sleep(1)
        assert not any(p.exists() for p in stored)
        # the sweeper logs after its pass: on a busy machine the files are gone a moment before the line is written
        while "removed 3 abandoned file(s)" not in (tmp_path / "app.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
    log = (tmp_path / "app.log").read_text()
    assert "Traceback" not in log and "removed 3 abandoned file(s)" in log


def test_trusted_proxy_header(deploy_data, tmp_path):
    with app(deploy_data, tmp_path / "app.log", ZHENGCE_AUTH_HEADER="X-Forwarded-User",
             ZHENGCE_UPLOAD_QUOTA_FILES="1") as url:
        opener = urllib.request.build_opener()
        with pytest.raises(urllib.error.HTTPError) as e:
            opener.open(url + "/gradio_api/info", timeout=10)
        assert e.value.code == 401
        req = urllib.request.Request(url + "/gradio_api/info", headers={"X-Forwarded-User": "wang"})
        assert opener.open(req, timeout=10).status == 200
        # The quota follows the proxy's user, not the (shared) proxy address.
        assert upload(None, url, b"a" * 10, {"X-Forwarded-User": "wang"})[0] == 200
        assert upload(None, url, b"a" * 10, {"X-Forwarded-User": "wang"})[0] == 429
        assert upload(None, url, b"a" * 10, {"X-Forwarded-User": "li"})[0] == 200


def test_banner_and_note_when_the_vector_server_is_unreachable(deploy_data, tmp_path):
    port = free_port()  # nothing listens here: a Chroma server that is down
    with app(deploy_data, tmp_path / "app.log", CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port)) as url:
        page = urllib.request.urlopen(url + "/config", timeout=10).read().decode()
        assert DEGRADED_NOTE in json.loads(json.dumps(page))
        from gradio_client import Client

        out = Client(url + "/", verbose=False).predict("清远市教研员配备比例是多少？", None, None, api_name="/ask")
        assert out["found"] and "5‰" in out["answer"] and DEGRADED_NOTE in out["note"]
    assert "Traceback" not in (tmp_path / "app.log").read_text()


@pytest.mark.parametrize("var, value", [("ZHENGCE_PORT", "abc"), ("CHROMA_PORT", "abc"),
                                        ("ZHENGCE_LLM_TIMEOUT", "abc"), ("ZHENGCE_UPLOAD_QUOTA_MB", "-3"),
                                        ("ZHENGCE_AUTH_FILE", "/nonexistent/users.txt")])
def test_bad_settings_are_one_line_naming_the_variable(var, value, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHENGCE_", "CHROMA_"))}
    env[var] = value
    r = subprocess.run([sys.executable, "app.py", "--data-dir", str(tmp_path / "d")], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and var in lines[0], r.stderr
    for cli in (["-m", "ingest", "--list"], ["-m", "assistant", "ask", "你好"]):
        if var.startswith(("CHROMA", "ZHENGCE_LLM")):
            r = subprocess.run([sys.executable, *cli], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
            assert r.returncode == 2 and var in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_quota_and_sweep_units(tmp_path):
    q = Quota(tmp_path / "q.json", files=2, nbytes=100)
    q.charge("a", 60, now=1000.0)
    with pytest.raises(QuotaExceeded, match="上传总量"):
        q.charge("a", 50, now=1001.0)
    q.charge("b", 50, now=1001.0)  # another person has their own allowance
    q.charge("a", 40, now=1002.0)
    with pytest.raises(QuotaExceeded, match="上传次数"):
        q.charge("a", 1, now=1003.0)
    assert Quota(tmp_path / "q.json", 2, 100)._log["a"]  # survives a restart
    Quota(tmp_path / "q.json", 2, 100).charge("a", 60, now=1000.0 + 86401)  # a day later: allowed again

    folder = tmp_path / "gradio-tmp"
    (folder / "h1").mkdir(parents=True)
    old, new = folder / "h1" / "old.txt", folder / "new.txt"
    old.write_bytes(b"x" * 2048)
    new.write_bytes(b"y")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert sweep(folder, 3600) == (1, 2048)
    assert not (folder / "h1").exists() and new.exists()

    users = tmp_path / "u.txt"
    users.write_text("a:b:c\n", encoding="utf-8")
    assert read_users(users) == {"a": "b:c"}  # a password may contain a colon
