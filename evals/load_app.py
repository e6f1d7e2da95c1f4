"""The app side of the load test (evals/load.py): start app.py on a free loopback port, wait
until `/ask` answers, warm it up, read its peak memory, stop it; and the check that a result
is an answer dict.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _check_answer(res) -> str | None:
    if isinstance(res, str):  # some gradio versions hand JSON back as text
        try:
            res = json.loads(res)
        except ValueError:
            return f"not JSON: {res[:80]!r}"
    if not isinstance(res, dict):
        return f"unexpected result type {type(res).__name__}"
    if res.get("error"):
        return f"refused: {str(res['error'])[:120]}"
    if "answer" not in res or "citations" not in res:
        return f"not an answer dict: keys {sorted(res)[:8]}"
    return None


def make_client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def wait_ready(url: str, deadline: float, proc: subprocess.Popen | None = None) -> float:
    """Poll /ask with a real question until it answers (the app may be building its index)."""
    t0 = time.monotonic()
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"error: the app exited with code {proc.returncode} before it was ready")
        try:
            client = make_client(url)
            left = max(1.0, deadline - time.monotonic())
            res = client.submit("学校领导每学期听课多少节？", None, None, api_name="/ask").result(timeout=left)
            err = _check_answer(res)
            if err is None:
                return time.monotonic() - t0
            last = err
        except Exception as e:
            last = f"{type(e).__name__}: {str(e)[:120]}"
        time.sleep(2)
    raise SystemExit(f"error: the app at {url} was not ready in time (last: {last})")


def warm_up(url: str, questions: list[str]) -> list[float]:
    """Send distinct questions one at a time (not timed in the results); returns their latencies."""
    client = make_client(url)
    out = []
    for q in dict.fromkeys(questions):
        t0 = time.perf_counter()
        try:
            client.submit(q, None, None, api_name="/ask").result(timeout=60)
        except Exception:
            pass  # errors are the timed run's business
        out.append(round((time.perf_counter() - t0) * 1000, 1))
    return out


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(data_dir: Path | None, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port), "--no-llm"]
    if data_dir:
        cmd += ["--data-dir", str(data_dir)]
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGINT)  # its own session: only the app and its children
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def app_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
