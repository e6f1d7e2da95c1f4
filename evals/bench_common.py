"""Shared pieces of the scale benchmarks (evals/bench*.py): paths, measurements, the worker runner."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
OUT = Path(__file__).with_name("out")

def progress_printer(every: float = 2.0):
    """An ingest progress callback that prints at most one PROGRESS line per `every` seconds (and the last)."""
    last = [0.0]

    def progress(frac: float, msg: str) -> None:
        now = time.monotonic()
        if now - last[0] > every or frac >= 1:
            last[0] = now
            print(f"PROGRESS {frac:.4f} {msg}", flush=True)

    return progress

def disk_usage(path: Path) -> tuple[int, int]:
    """(bytes on disk as du counts them, apparent bytes) under `path`."""
    if not path.exists():
        return 0, 0
    if path.is_file():
        st = path.stat()
        return st.st_blocks * 512, st.st_size
    blocks = size = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                st = os.lstat(os.path.join(dirpath, f))
            except FileNotFoundError:
                continue
            blocks += st.st_blocks * 512
            size += st.st_size
    return blocks, size


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))] if xs else 0.0


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_pressure() -> str | None:
    """Linux PSI: the share of time runnable tasks waited for a CPU (other work on the machine)."""
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return None


def _throttled(fn, every: float = 30.0):
    last = [0.0]

    def call(msg: str) -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            fn(msg)

    return call


class TimedEmbedder:
    """Times and counts the real embedder's passages() calls inside an ingest."""

    def __init__(self, real):
        self.real, self.model_id, self.dim = real, real.model_id, real.dim
        self.texts, self.seconds = 0, 0.0

    def passages(self, texts):
        t0 = time.perf_counter()
        out = self.real.passages(texts)
        self.seconds += time.perf_counter() - t0
        self.texts += len(texts)
        return out

    def query(self, text):
        return self.real.query(text)


def run_worker(kind: str, out_json: Path, *extra: str, log=None, timeout: float | None = None) -> dict:
    """Run a worker in a subprocess, stream its PROGRESS lines, return its JSON result."""
    cmd = [sys.executable, "-m", "evals.bench", "--worker", kind, "--result", str(out_json), *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if log and line.startswith("PROGRESS"):
            log(line.split(" ", 2)[-1].strip())
    rc = proc.wait(timeout=timeout)
    if rc != 0:
        raise RuntimeError(f"{kind} worker failed with exit code {rc}: {' '.join(cmd)}")
    return json.loads(out_json.read_text(encoding="utf-8"))
