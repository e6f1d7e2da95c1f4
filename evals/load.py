"""Load test (not a test; never run in CI). Loopback only, bounded in count and time.

    python -m evals.load --url http://127.0.0.1:7860 --clients 20 --questions 200 [--timeout 300]
    python -m evals.load --start-app [--data-dir DIR] --clients 20 --questions 200
    python -m evals.load --cli [--data-dir DIR] --clients 4 --questions 200

Web mode drives the running app (app.py) through gradio_client: `--clients`
threads, each with its own Client, share a fixed list of `--questions` questions
drawn (cycled, in a seeded shuffle) from evals/cases.yaml, calling the `/ask`
endpoint (question, regions, script). A request counts as an error if it raises,
times out, or returns something other than an answer dict (or a dict with
"error"). `--timeout` bounds the whole run: after it no new request starts and
unfinished ones count as errors.

`--start-app` starts `app.py --no-llm` on a free loopback port with `--data-dir`,
waits until `/ask` answers, runs the test, and stops the app.

`--cli` does the same through `python -m assistant ask --json` batch mode: each
of `--clients` processes gets its share of the questions on stdin; a question's
latency is the time between its JSON line and the previous one (the first line
also pays the process start-up and model load, reported separately).

Any URL whose host is not a loopback address is refused. Starting, probing and stopping the
app is in evals/load_app.py.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from .load_app import ROOT, _check_answer, app_rss_mb, make_client, start_app, stop_app, wait_ready, warm_up

OUT = Path(__file__).with_name("out")
CASES = Path(__file__).with_name("cases.yaml")


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))] if xs else 0.0


def require_loopback(url: str) -> str:
    """Return the URL if every address its host resolves to is a loopback address; else exit."""
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise SystemExit(f"error: not an http(s) URL: {url}")
    host = u.hostname
    # No name lookups: only 'localhost' (from /etc/hosts) or a literal loopback address.
    if host == "localhost":
        return url
    try:
        ok = ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise SystemExit(f"error: refusing the target {host}: this load test only drives a server on this "
                         "machine; give localhost or a loopback address (127.0.0.0/8 or ::1)")
    return url


def draw_questions(n: int, seed: int, cases_path: Path = CASES) -> list[str]:
    import yaml

    cases = yaml.safe_load(cases_path.read_text(encoding="utf-8"))
    pool = [c["question"] for c in cases if c.get("question")]
    random.Random(seed).shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


def summarize(latencies_ms: list[float], errors: list[str], wall_s: float, n: int, extra: dict) -> dict:
    return {
        "requested": n,
        "completed": len(latencies_ms),
        "errors": len(errors),
        "error_samples": errors[:10],
        "wall_s": wall_s,
        "throughput_qps": len(latencies_ms) / wall_s if wall_s else 0.0,
        "p50_ms": percentile(latencies_ms, 0.5),
        "p95_ms": percentile(latencies_ms, 0.95),
        "max_ms": max(latencies_ms) if latencies_ms else 0.0,
        "mean_ms": sum(latencies_ms) / len(latencies_ms) if latencies_ms else 0.0,
        **extra,
    }


# =========================================================================== web
def run_web(url: str, clients: int, questions: list[str], timeout: float, api_name: str = "/ask") -> dict:
    work: queue.Queue[tuple[int, str]] = queue.Queue()
    for i, q in enumerate(questions):
        work.put((i, q))
    lock = threading.Lock()
    lat: list[float] = []
    errors: list[str] = []
    per_client: list[int] = [0] * clients
    samples: list[tuple[float, float]] = []  # (seconds since start, latency ms) per answered request
    t_run = [time.monotonic()]
    deadline = time.monotonic() + timeout
    ready = threading.Barrier(clients + 1)

    def client_loop(k: int) -> None:
        try:
            client = make_client(url)
        except Exception as e:  # counted against this client's share below
            client = None
            with lock:
                errors.append(f"client {k}: cannot connect: {type(e).__name__}: {e}")
        try:
            ready.wait(timeout=max(1.0, deadline - time.monotonic()))
        except threading.BrokenBarrierError:
            pass
        while client is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                _, q = work.get_nowait()
            except queue.Empty:
                return
            t0 = time.perf_counter()
            job = None
            try:
                job = client.submit(q, None, None, api_name=api_name)
                res = job.result(timeout=left)
                err = _check_answer(res)
            except Exception as e:  # a timeout, a server error, a dropped connection
                err = f"{type(e).__name__}: {str(e)[:160]}"
                if job is not None:
                    try:
                        job.cancel()
                    except Exception:
                        pass
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if err:
                    errors.append(err)
                else:
                    lat.append(ms)
                    per_client[k] += 1
                    samples.append((round(time.monotonic() - t_run[0], 3), round(ms, 1)))

    threads = [threading.Thread(target=client_loop, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    try:
        ready.wait(timeout=max(1.0, deadline - time.monotonic()))
    except threading.BrokenBarrierError:
        pass
    t0 = time.perf_counter()
    t_run[0] = time.monotonic()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 5)
    wall = time.perf_counter() - t0
    not_run = work.qsize()
    if not_run:
        errors.append(f"{not_run} questions not sent before the {timeout:.0f} s time limit")
    unfinished = sum(t.is_alive() for t in threads)
    if unfinished:
        errors.append(f"{unfinished} requests unfinished at the time limit")
    n_err = len(questions) - len(lat)  # every question without an answer is an error
    res = summarize(lat, errors, wall, len(questions),
                    {"mode": "web", "url": url, "clients": clients, "requests_per_client": per_client,
                     "samples": sorted(samples)})
    res["errors"] = n_err
    return res


# =========================================================================== cli
def run_cli(clients: int, questions: list[str], timeout: float, data_dir: Path | None) -> dict:
    shares = [questions[k::clients] for k in range(clients)]
    shares = [s for s in shares if s]
    cmd = [sys.executable, "-m", "assistant"]
    if data_dir:
        cmd += ["--data-dir", str(data_dir)]
    cmd += ["ask", "--json", "--no-llm"]
    lock = threading.Lock()
    lat: list[float] = []
    startup: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + timeout
    procs: list[subprocess.Popen] = []

    def one(share: list[str]) -> None:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, encoding="utf-8", start_new_session=True)
        with lock:
            procs.append(p)
        assert p.stdin and p.stdout
        p.stdin.write("".join(q.replace("\n", " ") + "\n" for q in share))
        p.stdin.close()
        prev = t0
        got = 0
        for line in p.stdout:
            now = time.perf_counter()
            err = None
            try:
                err = _check_answer(json.loads(line))
            except ValueError:
                err = f"not JSON: {line[:80]!r}"
            with lock:
                if err:
                    errors.append(err)
                elif got == 0:
                    startup.append((now - prev) * 1000)
                else:
                    lat.append((now - prev) * 1000)
            got += 1
            prev = now
        rc = p.wait()
        stderr = p.stderr.read() if p.stderr else ""
        with lock:
            if rc != 0 and rc != -signal.SIGKILL:
                errors.append(f"exit code {rc}: {stderr.strip()[-200:]}")
            if got < len(share):
                errors.append(f"{len(share) - got} questions unanswered by one process")

    threads = [threading.Thread(target=one, args=(s,), daemon=True) for s in shares]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    timed_out = any(t.is_alive() for t in threads)
    if timed_out:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        for t in threads:
            t.join(10)
        errors.append(f"time limit of {timeout:.0f} s reached")
    wall = time.perf_counter() - t0
    answered = len(lat) + len(startup)
    res = summarize(lat, errors, wall, len(questions), {
        "mode": "cli", "processes": len(shares),
        "startup_plus_first_ms_p50": percentile(startup, 0.5),
        "note": "p50/p95 exclude each process's first answer, which includes start-up and model load; "
                "throughput counts every answer",
    })
    res["completed"] = answered
    res["throughput_qps"] = answered / wall if wall else 0.0
    res["errors"] = len(questions) - answered + sum(1 for e in errors if e.startswith("exit code"))
    return res


# =========================================================================== main
def fmt(res: dict) -> str:
    rows = [
        ("mode", res["mode"] + (f" ({res.get('clients')} client threads)" if res["mode"] == "web"
                                else f" ({res.get('processes')} processes)")),
        ("questions", str(res["requested"])),
        ("answered / errors", f"{res['completed']} / {res['errors']}"),
        ("wall time", f"{res['wall_s']:.1f} s"),
        ("throughput", f"{res['throughput_qps']:.2f} questions/s"),
        ("latency p50 / p95 / max", f"{res['p50_ms']:.0f} / {res['p95_ms']:.0f} / {res['max_ms']:.0f} ms"),
    ]
    if res["mode"] == "cli":
        rows.append(("process start-up + first answer (p50)", f"{res['startup_plus_first_ms_p50'] / 1000:.1f} s"))
    if res.get("app_peak_rss_mb"):
        rows.append(("app peak RSS", f"{res['app_peak_rss_mb']:.0f} MB"))
    return "| metric | value |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.load", description="Bounded loopback load test (not a test).")
    ap.add_argument("--url", help="a running app, e.g. http://127.0.0.1:7860 (loopback only)")
    ap.add_argument("--start-app", action="store_true", help="start app.py on a free loopback port, then stop it")
    ap.add_argument("--cli", action="store_true", help="drive `python -m assistant ask --json` instead of the app")
    ap.add_argument("--data-dir", type=Path, help="index directory for --start-app / --cli (default .zhengce)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    ap.add_argument("--questions", type=int, default=200, help="total questions (default 200)")
    ap.add_argument("--timeout", type=float, default=300, help="time limit for the whole run, seconds (default 300)")
    ap.add_argument("--startup-timeout", type=float, default=600, help="--start-app: seconds to wait for the app")
    ap.add_argument("--warmup", type=int, default=8,
                    help="web modes: distinct questions sent one by one before the timed run (default 8; the "
                         "first question of each kind pays lazy initialisation in the app)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT / "load.json")
    args = ap.parse_args(argv)
    if sum(map(bool, (args.url, args.start_app, args.cli))) != 1:
        ap.error("give exactly one of --url, --start-app or --cli")
    if not (1 <= args.clients <= 200) or not (1 <= args.questions <= 100_000) or args.timeout <= 0:
        ap.error("--clients must be 1..200, --questions 1..100000, --timeout > 0")
    questions = draw_questions(args.questions, args.seed)

    if args.cli:
        res = run_cli(args.clients, questions, args.timeout, args.data_dir)
    else:
        proc = None
        try:
            if args.start_app:
                log_path = Path(tempfile.gettempdir()) / f"zhengce-load-app-{os.getpid()}.log"
                proc, url = start_app(args.data_dir, log_path)
                print(f"started app.py (pid {proc.pid}) at {url}; log {log_path}", file=sys.stderr)
            else:
                url = args.url.rstrip("/")
            require_loopback(url)
            ready_s = wait_ready(url, time.monotonic() + (args.startup_timeout if proc else 60), proc)
            print(f"app ready ({ready_s:.1f} s); {args.clients} clients, {args.questions} questions", file=sys.stderr)
            warm = warm_up(url, draw_questions(args.warmup, args.seed + 1) if args.warmup else [])
            res = run_web(url, args.clients, questions, args.timeout)
            res["ready_s"] = ready_s
            res["warmup_ms"] = warm
            if proc is not None:
                res["app_peak_rss_mb"] = app_rss_mb(proc.pid)
        finally:
            if proc is not None:
                stop_app(proc)
    res["cpus"] = os.cpu_count()
    res["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(fmt(res))
    for e in res.get("error_samples") or []:
        print(f"error: {e}", file=sys.stderr)
    print(f"\nwrote {args.out}")
    return 0 if res["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
