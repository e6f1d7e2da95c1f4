"""Quantitative rules read from every ingested document, at ingest time.

`extract_clauses(clauses)` turns a document's clauses into typed rules
(`ingest.types.ExtractedRule`: subject, action, value, unit, comparator,
period, conditions, clause path, verbatim quote; one record per number).
The index writes them per generation (`rules.json` beside `clauses.jsonl`,
see `write_rules`), so the assistant reads the rules of any document,
uploads included, instead of extracting them on every start.

rules.json: {"version": EXTRACTOR_VERSION,
             "docs": {doc_id: {"content_hash": …, "rules": [ExtractedRule as a dict, …], "error": …}}}
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Iterable

from ingest.types import Clause, ExtractedRule

from .extract import extract_clause, extract_clauses, extract_file, opening_subject
from .text import parse_number

RULES_FILE = "rules.json"
# Bumped whenever extraction changes, so that a new generation does not reuse the rules an
# older extractor wrote for an unchanged document.
EXTRACTOR_VERSION = "2026-11-25.2"

_CLAUSE_FIELDS = {f.name for f in dataclasses.fields(Clause)}
_RULE_FIELDS = {f.name for f in dataclasses.fields(ExtractedRule)}
_TUPLES = ("conditions", "roles", "ranks", "school_types")


def clause_from_record(rec: dict[str, Any]) -> Clause:
    """A Clause from its clauses.jsonl record (fields a newer index adds are ignored)."""
    return Clause(**{k: tuple(v) if k == "parents" else v for k, v in rec.items() if k in _CLAUSE_FIELDS})


def rule_from_record(rec: dict[str, Any]) -> ExtractedRule:
    return ExtractedRule(**{k: tuple(v) if k in _TUPLES else v for k, v in rec.items() if k in _RULE_FIELDS})


def _previous(gen: Path | None) -> dict[str, Any]:
    if gen is None or not (gen / RULES_FILE).is_file():
        return {}
    try:
        data = json.loads((gen / RULES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("docs", {}) if data.get("version") == EXTRACTOR_VERSION else {}


def write_rules(gen_dir: Path, docs: dict[str, dict], clauses: dict[str, list[dict]],
                previous: Path | None = None) -> dict[str, int]:
    """Extract the rules of every document into gen_dir/rules.json; {doc_id: number of rules}.

    A document whose content is unchanged since `previous` (the live generation) keeps the rules
    extracted then. A document the extractor fails on gets no rules and its error is recorded:
    a rule-reading bug must not make a document (an upload) impossible to index."""
    old = _previous(previous)
    out: dict[str, Any] = {}
    for doc_id in sorted(docs):
        h = docs[doc_id].get("content_hash")
        kept = old.get(doc_id)
        if kept and kept.get("content_hash") == h and not kept.get("error"):
            out[doc_id] = kept
            continue
        entry: dict[str, Any] = {"content_hash": h, "rules": []}
        try:
            rules = extract_clauses(clause_from_record(c) for c in clauses.get(doc_id, []))
            entry["rules"] = [r.as_dict() for r in rules]
        except Exception as e:  # noqa: BLE001 - recorded in rules.json and reported by read_rules
            entry["error"] = f"{type(e).__name__}: {e}"
        out[doc_id] = entry
    (Path(gen_dir) / RULES_FILE).write_text(
        json.dumps({"version": EXTRACTOR_VERSION, "docs": out}, ensure_ascii=False), encoding="utf-8")
    return {k: len(v["rules"]) for k, v in out.items()}


def read_rules(gen_dir: Path) -> dict[str, list[ExtractedRule]] | None:
    """{doc_id: rules} from a generation; None when it has no rules.json of this extractor version."""
    path = Path(gen_dir) / RULES_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("version") != EXTRACTOR_VERSION:
        return None
    return {doc_id: [rule_from_record(r) for r in entry.get("rules", [])]
            for doc_id, entry in data.get("docs", {}).items()}


def extract_records(clauses: Iterable[dict[str, Any]]) -> list[ExtractedRule]:
    """Rules of one document given its clause records (an index written before rules.json existed)."""
    return extract_clauses(clause_from_record(c) for c in clauses)


__all__ = ["EXTRACTOR_VERSION", "RULES_FILE", "ExtractedRule", "clause_from_record", "extract_clause",
           "extract_clauses", "extract_file", "extract_records", "opening_subject", "parse_number", "read_rules",
           "rule_from_record", "write_rules"]
