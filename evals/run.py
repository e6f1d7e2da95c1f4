"""Run the public eval set: python -m evals.run [--calibrate] [--no-baseline] [--cases FILE]

Prints clause recall@1/@5, MRR, answer accuracy, abstention accuracy, quote
validity and warm latency for the assistant and, in the same run, for the
naive LangChain baseline (evals/baseline.py).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

import yaml

from ingest.settings import Settings
from ingest.textnorm import normalize

CASES = Path(__file__).with_name("cases.yaml")
OUT = Path(__file__).with_name("out")


def load_cases(path: Path = CASES) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def gold_set(case: dict) -> set[tuple[str, str]]:
    return {(key, path) for key, paths in (case.get("gold") or {}).items() for path in paths}


_CN_DIGITS = "一二三四五六七八九十百零〇"


def _same_number(last: str, nxt: str) -> bool:
    ascii_digit = str.isdigit
    if last.isascii() and ascii_digit(last):
        return nxt.isascii() and ascii_digit(nxt)
    return last in _CN_DIGITS and (nxt in _CN_DIGITS or nxt in "条條")


def hits_gold(cited: tuple[str, str, str], gold: set[tuple[str, str]]) -> bool:
    """A citation (region, doc_id, path) hits gold keyed by region or doc_id; a cited sub-clause of a
    gold clause counts (第十九条(二) answers a question whose gold is 第十九条)."""
    region, doc_id, path = cited
    for key, g in gold:
        # a continuation is a sub-clause (四(二) → 四(二)4, 第五条 → 第五条2 or 第六条⑤) unless it goes on
        # writing the same number (第十条 is not under 第一条, 12 not under 1)
        if key in (region, doc_id) and (path == g or (path.startswith(g) and not _same_number(g[-1], path[len(g)]))):
            return True
    return False


def answer_ok(case: dict, answer_text: str, found: bool) -> bool:
    if not case["found"]:
        return not found
    text = normalize(answer_text)
    return found and all(normalize(s) in text for s in case.get("answer_contains") or [])


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))] if xs else 0.0


def summarize(rows: list[dict]) -> dict:
    ranked = [r for r in rows if r["gold"] and r["kind"] != "compare"]
    found_cases = [r for r in rows if r["expected_found"]]
    abstain = [r for r in rows if not r["expected_found"]]
    quotes = [q for r in rows for q in r["quotes_valid"]]
    lat = [r["ms"] for r in rows]
    return {
        "cases": len(rows),
        "recall@1": sum(r["rank"] == 1 for r in ranked) / max(1, len(ranked)),
        "recall@5": sum(0 < r["rank"] <= 5 for r in ranked) / max(1, len(ranked)),
        "mrr": sum(1 / r["rank"] for r in ranked if r["rank"]) / max(1, len(ranked)),
        "answer_accuracy": sum(r["ok"] for r in found_cases) / max(1, len(found_cases)),
        "abstention_accuracy": sum(r["ok"] for r in abstain) / max(1, len(abstain)),
        "quote_validity": sum(quotes) / max(1, len(quotes)),
        "latency_ms_p50": statistics.median(lat) if lat else 0.0,
        "latency_ms_p95": percentile(lat, 0.95),
    }


def run_assistant(assistant, cases: list[dict]) -> list[dict]:
    from assistant.agent import ChatState

    store = assistant.store
    assistant.ask("学校领导每学期听课多少节？")  # warm-up: the first query loads jieba, BM25 and Chroma
    rows = []
    for case in cases:
        state = ChatState()
        for earlier in case.get("history") or []:
            assistant.ask(earlier, state=state)
        t0 = time.perf_counter()
        ans = assistant.ask(case["question"], state=state)
        ms = (time.perf_counter() - t0) * 1000
        full = [(c.region, c.doc_id, c.clause) for c in ans.citations]
        cited = [(c.region, c.clause) for c in ans.citations]
        gold = gold_set(case)
        rank = next((i + 1 for i, c in enumerate(full) if hits_gold(c, gold)), 0)
        if case["kind"] == "compare":
            keys = {k for k, _ in gold}
            hit_keys = {k for k, g in gold for c in full if hits_gold(c, {(k, g)})}
            rank = 1 if gold and keys <= hit_keys else 0
            absent = set(case.get("absent") or [])
            ok = answer_ok(case, ans.answer, ans.found) and not (absent & {c.region for c in ans.citations})
        else:
            ok = answer_ok(case, ans.answer, ans.found)
        rows.append({
            "id": case["id"], "kind": case["kind"], "expected_found": case["found"], "found": ans.found,
            "gold": sorted(gold), "cited": cited, "rank": rank, "ok": ok, "ms": ms,
            "quotes_valid": [store.quote_is_verbatim(c.doc_id, c.quote) for c in ans.citations],
            "tools": [t.name for t in ans.tool_calls], "answer": ans.answer,
        })
    return rows


def run_baseline(baseline, store, cases: list[dict]) -> list[dict]:
    baseline.search("学校领导每学期听课多少节？")
    rows = []
    for case in cases:
        question = " ".join([*(case.get("history") or []), case["question"]])
        t0 = time.perf_counter()
        hits = baseline.search(question)
        ms = (time.perf_counter() - t0) * 1000
        gold = gold_set(case)
        rank = 0
        for i, h in enumerate(hits):
            if _overlaps_gold(store, h, gold):
                rank = i + 1
                break
        answer = hits[0].text if hits else ""
        rows.append({
            "id": case["id"], "kind": case["kind"], "expected_found": case["found"], "found": bool(hits),
            "gold": sorted(gold), "cited": [], "rank": rank, "ok": answer_ok(case, answer, bool(hits)), "ms": ms,
            "quotes_valid": [store.quote_is_verbatim(h.doc_id, h.text) for h in hits[:1]], "tools": [],
            "answer": answer,
        })
    return rows


def _overlaps_gold(store, hit, gold) -> bool:
    for key, path in gold:
        for d in store.docs_in(key) + ([store.docs[key]] if key in store.docs else []):
            c = store.clause(d.doc_id, path)
            if c and d.doc_id == hit.doc_id:
                own_end = c.start + len(c.own_text)
                if hit.start < own_end and c.start < hit.start + len(hit.text):
                    return True
    return False


def calibrate(assistant, cases: list[dict]) -> None:
    """Suggest MIN_COVERAGE: midway between the best-covered unanswerable question and the
    least-covered answerable one (questions about unknown places are excluded: they never reach retrieval)."""
    from assistant.route import route

    r = assistant.retriever
    found_cov, abstain_cov = [], []
    for case in cases:
        if case["kind"] in ("compare", "followup"):
            continue
        q = assistant.parse(case["question"])
        if q.unknown_places or route(q):
            continue
        if q.missing_docs or (q.doc_ids and q.article):
            continue
        sc = r.search(q.simplified, assistant.store.scope(q.regions) or None, 5, doc_ids=q.doc_ids)
        covs = [r.coverage(h, sc.query_terms) for h in sc.hits
                if not q.answer_pattern or re.search(q.answer_pattern, normalize(assistant.store.clauses[h.chunk.clause_id].text))]
        (found_cov if case["found"] else abstain_cov).append((max(covs) if covs else 0.0, case["id"]))
    hi_abstain, lo_found = max(abstain_cov), min(found_cov)
    print(f"highest coverage of an unanswerable question: {hi_abstain[0]:.2f} ({hi_abstain[1]})")
    print(f"lowest coverage of an answerable question:    {lo_found[0]:.2f} ({lo_found[1]})")
    print(f"suggested MIN_COVERAGE = {(hi_abstain[0] + lo_found[0]) / 2:.2f}")


def table(results: dict[str, dict]) -> str:
    keys = ["recall@1", "recall@5", "mrr", "answer_accuracy", "abstention_accuracy", "quote_validity",
            "latency_ms_p50", "latency_ms_p95"]
    names = list(results)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(f"{results[n][k]:.3f}" if "latency" not in k
                                               else f"{results[n][k]:.1f}" for n in names) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.run")
    ap.add_argument("--cases", type=Path, default=CASES)
    ap.add_argument("--split", choices=["calibrate", "report", "fresh", "fresh-dev", "fresh2", "fresh2-dev", "fresh3", "fresh4", "fresh4-dev", "fresh5", "fresh5-dev", "fresh6", "fresh6-dev", "all"],
                    default="all",
                    help="cases whose `split` field is this (thresholds are fitted on calibrate, reported on report)")
    ap.add_argument("--calibrate", action="store_true", help="print the coverage threshold the evals support")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args(argv)
    settings = Settings.from_env(os.environ)
    from assistant.__main__ import load

    assistant = load(settings, use_llm=False)
    cases = [c for c in load_cases(args.cases) if args.split == "all" or c.get("split", "report") == args.split]
    if args.calibrate:
        calibrate(assistant, cases)
        return 0
    results, detail = {}, {}
    detail["zhengce"] = run_assistant(assistant, cases)
    results["zhengce"] = summarize(detail["zhengce"])
    if not args.no_baseline:
        from ingest.embed import EmbeddingCache

        from .baseline import NaiveBaseline

        cache = EmbeddingCache(settings.data_dir / "embcache.sqlite")
        baseline = NaiveBaseline(assistant.store, assistant.retriever.embedder, cache)
        detail["langchain-naive"] = run_baseline(baseline, assistant.store, cases)
        results["langchain-naive"] = summarize(detail["langchain-naive"])
    kinds = sorted({c["kind"] for c in cases})
    counts = ", ".join(f"{k}: {sum(c['kind'] == k for c in cases)}" for k in kinds)
    print(f"{len(cases)} cases ({counts})")
    print(table(results))
    if args.show_failures:
        for r in detail["zhengce"]:
            if not r["ok"] or (r["gold"] and r["rank"] != 1 and r["expected_found"]):
                print(f"\n✗ {r['id']} ({r['kind']}) ok={r['ok']} rank={r['rank']} gold={r['gold']} cited={r['cited'][:3]}"
                      f" tools={r['tools']}\n  {r['answer'][:200]}")
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps({"summary": results, "cases": detail}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
