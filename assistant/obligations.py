"""Quantitative obligations found in any ingested document, with verbatim citations.

No per-document code: the index extracts every document's rules at ingest time
(`ingest.rules`: one typed record per number: subject, action, value, unit,
comparator, period, conditions, deadline, clause path, verbatim quote) into
`rules.json` of its generation; this module reads them (extracting on the fly
only for an index written before rules.json existed), and each record gets its
citation from `store.citation`, i.e. from the ingested clause. Reviewed corrections (`assistant/rules/corrections.yaml`, see
`assistant.rule_corrections`) may drop or amend a record, bound to document,
clause and quote.

Structured fields (value, unit, comparator, period, per, deadline) are
normalised simplified strings; subject / action / quote are in the document's
own script.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.types import Citation

from ingest.rules import extract_clauses, read_rules
from ingest.types import ExtractedRule, fmt


@dataclass(frozen=True)
class Obligation:
    doc_id: str
    region: str
    title: str
    clause: str  # clause path
    who: str  # subject phrase, document script; "" when none was found
    what: str  # the action, simplified (听课…节)
    quantity: str | None  # normalised, simplified: 不少于30节, 5‰, 2至3所, 3年以上, 至少1次
    number: float | None
    unit: str
    item: str  # what is counted, when the text names it right after the number (家长会, 市级名校长 …)
    period: str | None  # 每学期, 每5年, 每月
    per: str | None  # distributive scope: 每人, 每所实验校
    deadline: str | None  # 到2021年底
    citation: Citation
    value_max: float | None = None
    comparator: str = ""
    op: str = "eq"
    conditions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    ranks: tuple[str, ...] = ()
    school_types: tuple[str, ...] = ()
    number_text: str = ""

    @property
    def quote(self) -> str:
        return self.citation.quote

    @property
    def subject(self) -> str:
        return self.who

    @property
    def action(self) -> str:
        return self.what

    @property
    def value(self) -> float | None:
        return self.number

    def as_dict(self) -> dict[str, Any]:
        """One JSON object per rule (`python -m assistant obligations --json`)."""
        return {
            "doc_id": self.doc_id, "title": self.title, "region": self.region, "clause": self.clause,
            "subject": self.who, "roles": list(self.roles), "ranks": list(self.ranks),
            "school_types": list(self.school_types), "action": self.what,
            "value": self.number, "value_max": self.value_max, "unit": self.unit,
            "comparator": self.comparator, "op": self.op, "quantity": self.quantity, "item": self.item,
            "period": self.period, "per": self.per, "conditions": list(self.conditions),
            "deadline": self.deadline, "number_text": self.number_text, "quote": self.quote,
            "citation": self.citation.public(),
        }


def _obligation(r: ExtractedRule, doc, clause, store) -> Obligation:
    return Obligation(
        doc_id=r.doc_id, region=doc.meta.region, title=doc.meta.title, clause=r.clause, who=r.subject,
        what=r.action, quantity=r.quantity, number=r.value, unit=r.unit, item=r.item, period=r.period,
        per=r.per, deadline=r.deadline, citation=store.citation(clause, r.quote), value_max=r.value_max,
        comparator=r.comparator, op=r.op, conditions=r.conditions, roles=r.roles, ranks=r.ranks,
        school_types=r.school_types, number_text=r.number_text)


def document_obligations(store, doc_id: str) -> list[Obligation]:
    """The obligations of one stored document, in clause order (cached per store)."""
    cache = store.__dict__.setdefault("_obligations_cache", {})
    if doc_id not in cache:
        from .rule_corrections import apply_corrections

        doc = store.docs[doc_id]
        clauses = store.clauses_of(doc_id)
        by_path = {c.path: c for c in clauses}
        stored = _stored_rules(store).get(doc_id)
        rules = apply_corrections(extract_clauses(clauses) if stored is None else stored, doc_id, by_path)
        cache[doc_id] = [_obligation(r, doc, by_path[r.clause], store) for r in rules if r.clause in by_path]
    return cache[doc_id]


def _stored_rules(store) -> dict[str, list[ExtractedRule]]:
    """The rules the index wrote at ingest time ({} for an index without rules.json)."""
    if "_stored_rules" not in store.__dict__:
        gen = getattr(store, "generation", None)
        store.__dict__["_stored_rules"] = (read_rules(gen) if gen is not None else None) or {}
    return store.__dict__["_stored_rules"]


def extract_obligations(store, region: str | None = None) -> list[Obligation]:
    """Every quantitative obligation in the store's documents (of `region`, if given), in document order."""
    if region:
        (region,) = store.check_regions([region])
    out: list[Obligation] = []
    for doc_id in sorted(store.docs):
        if region and store.docs[doc_id].meta.region != region:
            continue
        out.extend(document_obligations(store, doc_id))
    return out


# ---- output ------------------------------------------------------------------


def _cell(s: str | None, limit: int | None = None) -> str:
    s = (s or "—").replace("|", "\\|").replace("\n", " ")
    if limit and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def format_table(obligations: list[Obligation]) -> str:
    """A Markdown table for the CLI: one row per obligation, the quote verbatim in the last column."""
    if not obligations:
        return "没有找到量化要求。"
    head = "| 地区 | 条款 | 主体 | 要求 | 数量 | 周期/范围 | 条件 | 期限 | 原文 |\n|---|---|---|---|---|---|---|---|---|"
    rows = []
    for o in obligations:
        qty = " ".join(x for x in (o.quantity, o.item) if x) or None
        scope = "，".join(x for x in (o.period, o.per) if x) or None
        rows.append(f"| {_cell(o.region)} | {_cell(o.clause)} | {_cell(o.who, 20)} | {_cell(o.what, 40)} | "
                    f"{_cell(qty)} | {_cell(scope)} | {_cell('；'.join(o.conditions), 30)} | {_cell(o.deadline)} | "
                    f"{_cell(o.quote)} |")
    return head + "\n" + "\n".join(rows) + f"\n\n共{len(obligations)}条。"


__all__ = ["Obligation", "document_obligations", "extract_obligations", "format_table", "fmt"]
