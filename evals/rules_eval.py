"""Rule extraction against hand-annotated gold rules (evals/rules_gold/*.yaml).

    python -m evals.rules_eval [--docs DIR] [--verbose] [gold.yaml ...]

For each gold file: the document is parsed with the ingest pipeline and its rules
extracted (ingest.rules, as at ingest time); a predicted rule matches a gold rule when
clause path, unit and value (and value_max for ranges) agree, one to one.
Reported per document: precision, recall, subject accuracy over matches (gold
subject and predicted subject contain each other or share ≥ 60% of the gold
subject's characters), quotes verbatim in their clause, duplicate records.
Each gold file says whether it was used to fit the heuristics (FIT) or held out.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GOLD_DIR = ROOT / "evals" / "rules_gold"
DOCS_DIR = ROOT.parent / "shared" / "realdocs" / "docs"

_UNIT_ALIAS = {"岁": "周岁", "日": "天", "节课": "节", "位": "名", "班": "个班"}


def _unit_value(unit: str, value: float | None) -> tuple[str, float | None]:
    unit = _UNIT_ALIAS.get(unit, unit)
    if value is not None and unit in ("万元", "亿元", "千元"):
        value *= {"万元": 1e4, "亿元": 1e8, "千元": 1e3}[unit]
        unit = "元"
    return unit, value


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-3 * max(1.0, abs(a))


def _norm(s: str) -> str:
    from ingest.textnorm import t2s

    return re.sub(r"[\s“”\"'（）()、，,。；;：:]", "", t2s(s or ""))


def subject_ok(gold: str, pred: str) -> bool:
    g, p = _norm(gold), _norm(pred)
    if not g:
        return True
    if not p:
        return False
    if g in p or p in g:
        return True
    common = sum((Counter(g) & Counter(p)).values())
    return common >= 0.6 * len(g)


def evaluate(gold_path: Path, docs_dir: Path, verbose: bool = False) -> dict:
    from ingest.rules import extract_clauses
    from ingest.pipeline import process_file

    gold = yaml.safe_load(gold_path.read_text(encoding="utf-8"))
    parsed = process_file(docs_dir / gold["doc"])
    preds = extract_clauses(parsed.clauses)
    if gold.get("clauses_from"):  # the gold covers a range of clauses only
        paths = [c.path for c in parsed.clauses]
        a = paths.index(gold["clauses_from"])
        b = paths.index(gold["clauses_until"]) if gold.get("clauses_until") in paths else len(paths)
        keep = set(paths[a:b])
        preds = [p for p in preds if p.clause in keep]
    if gold.get("clauses_in"):  # the gold covers the clauses under these path prefixes only
        preds = [p for p in preds if any(p.clause.startswith(x) for x in gold["clauses_in"])]
    texts = {c.path: c.text for c in parsed.clauses}
    used = [False] * len(preds)
    matches, missed = [], []
    for g in gold["rules"]:
        gu, gv = _unit_value(str(g["unit"]), float(g["value"]))
        gm = _unit_value(str(g["unit"]), float(g["value_max"]))[1] if g.get("value_max") is not None else None
        hit = None
        for i, p in enumerate(preds):
            if used[i] or p.clause != str(g["clause"]):
                continue
            pu, pv = _unit_value(p.unit, p.value)
            pm = _unit_value(p.unit, p.value_max)[1] if p.value_max is not None else None
            if pu == gu and _same(pv, gv) and _same(pm, gm):
                hit = i
                break
        if hit is None:
            missed.append(g)
        else:
            used[hit] = True
            matches.append((g, preds[hit]))
    extra = [p for i, p in enumerate(preds) if not used[i]]
    subj = [subject_ok(str(g.get("subject", "")), p.subject) for g, p in matches]
    verbatim = sum(1 for p in preds if p.quote and p.quote in texts.get(p.clause, ""))
    keys = Counter((p.clause, p.quote, p.value, p.value_max, p.unit, p.item, p.period, p.per, p.subject) for p in preds)
    dupes = sum(n - 1 for n in keys.values() if n > 1)
    res = {
        "doc": gold["doc"], "split": gold.get("split", "?"), "gold": len(gold["rules"]), "predicted": len(preds),
        "matched": len(matches),
        "precision": len(matches) / len(preds) if preds else 0.0,
        "recall": len(matches) / len(gold["rules"]) if gold["rules"] else 0.0,
        "subject_accuracy": sum(subj) / len(subj) if subj else 0.0,
        "quotes_verbatim": f"{verbatim}/{len(preds)}", "duplicates": dupes,
    }
    if verbose:
        print(f"\n## {gold['doc']} ({res['split']})")
        for g in missed:
            print(f"  MISSED  {g['clause']:14} {g['value']}{'-' + str(g['value_max']) if g.get('value_max') else ''}"
                  f"{g['unit']}  {g.get('quote', '')}")
        for p in extra:
            print(f"  EXTRA   {p.clause:14} {p.quantity:12} {p.subject[:16]:16} {p.quote[:50]!r}")
        for (g, p), ok in zip(matches, subj):
            if not ok:
                print(f"  SUBJECT {g['clause']:14} gold={g.get('subject')!r} pred={p.subject!r}")
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold", nargs="*", type=Path)
    ap.add_argument("--docs", type=Path, default=DOCS_DIR)
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    files = args.gold or sorted(GOLD_DIR.glob("*.yaml"))
    rows = [evaluate(f, args.docs, args.verbose) for f in files]
    print("\n| document | split | gold | predicted | matched | precision | recall | subject acc. | verbatim | dupes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['doc']} | {r['split']} | {r['gold']} | {r['predicted']} | {r['matched']} | {r['precision']:.2f} | "
              f"{r['recall']:.2f} | {r['subject_accuracy']:.2f} | {r['quotes_verbatim']} | {r['duplicates']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
