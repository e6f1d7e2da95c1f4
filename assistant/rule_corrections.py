"""Reviewed corrections to extracted rules, as data: assistant/rules/corrections.yaml.

A bureau fixes an extraction mistake without code. Each correction is bound to
a document, a clause path and a verbatim quote (a span of that clause, original
script) and either
- drops the extracted records it selects (`drop: true`),
- amends them (`set: {subject: …, value: …, unit: …, comparator: …, period: …}`), or
- pins a record the extractor missed (`add: {value: …, unit: …, subject: …}`; the
  quote is the record's quote).
A correction selects the extracted records of that clause whose quote contains
its quote (or is contained in it), optionally narrowed by `value` / `unit`.
`check_corrections(store)` reports corrections whose document, clause or quote
is not in the index (a test runs it against the corpus).
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ingest.types import ExtractedRule

CORRECTIONS = Path(__file__).with_name("rules") / "corrections.yaml"
_SETTABLE = {"subject", "action", "value", "value_max", "unit", "comparator", "op", "period", "per", "item",
             "deadline", "conditions", "roles", "ranks", "school_types"}


def load_corrections(path: Path = CORRECTIONS) -> tuple[dict[str, Any], ...]:
    if not Path(path).is_file():
        return ()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    items = data.get("corrections") or []
    out = []
    for i, c in enumerate(items):
        if not isinstance(c, dict) or not all(c.get(k) for k in ("doc_id", "clause", "quote")):
            raise ValueError(f"{Path(path).name}: correction #{i + 1} needs doc_id, clause and quote")
        acts = [k for k in ("drop", "set", "add") if c.get(k)]
        if len(acts) != 1:
            raise ValueError(f"{Path(path).name}: correction #{i + 1} needs exactly one of drop / set / add")
        bad = set(c.get("set") or {}) | set(c.get("add") or {})
        bad -= _SETTABLE
        if bad:
            raise ValueError(f"{Path(path).name}: correction #{i + 1}: unknown fields {sorted(bad)}")
        out.append(c)
    return tuple(out)


@lru_cache(maxsize=1)
def default_corrections() -> tuple[dict[str, Any], ...]:
    return load_corrections()


def _selects(c: dict[str, Any], r: ExtractedRule) -> bool:
    if r.clause != str(c["clause"]):
        return False
    if not (c["quote"] in r.quote or r.quote in c["quote"]):
        return False
    if "value" in c and abs(float(c["value"]) - r.value) > 1e-9:
        return False
    return "unit" not in c or c["unit"] == r.unit


def _fields(d: dict[str, Any]) -> dict[str, Any]:
    out = dict(d)
    for k in ("conditions", "roles", "ranks", "school_types"):
        if k in out:
            out[k] = tuple(out[k] or ())
    for k in ("value", "value_max"):
        if out.get(k) is not None:
            out[k] = float(out[k])
    return out


def apply_corrections(rules: list[ExtractedRule], doc_id: str, clauses: dict[str, Any],
                      corrections: tuple[dict[str, Any], ...] | None = None) -> list[ExtractedRule]:
    """`rules` of one document with its corrections applied (drops, amendments, pinned additions)."""
    mine = [c for c in (default_corrections() if corrections is None else corrections) if c["doc_id"] == doc_id]
    if not mine:
        return rules
    out = []
    for r in rules:
        keep = True
        for c in mine:
            if not _selects(c, r):
                continue
            if c.get("drop"):
                keep = False
            elif c.get("set"):
                r = dataclasses.replace(r, **_fields(c["set"]))
        if keep:
            out.append(r)
    for c in mine:
        if not c.get("add"):
            continue
        clause = clauses.get(str(c["clause"]))
        if clause is None or c["quote"] not in clause.text:
            continue  # reported by check_corrections
        fields = _fields(c["add"])
        base = dict(doc_id=doc_id, clause=str(c["clause"]), subject="", action="", value=0.0, value_max=None,
                    unit="", comparator="", op="eq", period=None, per=None, item="", conditions=(), deadline=None,
                    roles=(), ranks=(), school_types=(), number_text="", quote=c["quote"],
                    heading=getattr(clause, "heading", ""))
        base.update(fields)
        if base["comparator"] and base["op"] == "eq":
            from ingest.rules.quantity import _cmp_op

            base["op"] = _cmp_op(base["comparator"], base["comparator"])[1]
        out.append(ExtractedRule(**base))
    return out


def check_corrections(store, corrections: tuple[dict[str, Any], ...] | None = None) -> list[str]:
    """Problems binding corrections to the index; [] when all is well."""
    problems = []
    for i, c in enumerate(default_corrections() if corrections is None else corrections):
        where = f"correction #{i + 1} ({c['doc_id']} {c['clause']})"
        if c["doc_id"] not in store.docs:
            problems.append(f"{where}: document not in the index")
            continue
        clause = store.clause(c["doc_id"], str(c["clause"]))
        if clause is None:
            problems.append(f"{where}: clause not found")
        elif c["quote"] not in clause.text:
            problems.append(f"{where}: quote not found verbatim: {c['quote'][:30]}")
    return problems
