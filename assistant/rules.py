"""Quantitative rules as data: assistant/rules/*.yaml.

Each rule is bound to one clause of one ingested document (doc_id, region,
clause path) and carries the verbatim quote (original script) that justifies
it plus the numbers the calculators in `assistant.tools` use. Loading checks
the shape and that every number is written in the quote; `check_rules(store)`
checks the binding against a live index (document and clause exist, region
matches, quote is verbatim in the clause).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ingest.textnorm import t2s

RULES_DIR = Path(__file__).with_name("rules")
TOOLS = frozenset({
    "research_quota", "observation_quota", "budget_floors", "research_staff", "studio_required",
    "experimental_school_priority", "meeting_frequency", "expert_count", "mentor_count",
    "staffing_review_year",
})
_CN_DIGITS = "零一二三四五六七八九十"


def _spellings(n: float) -> set[str]:
    """How a number may be written in a quote: 1.5, 30, 一 / 两 for small integers."""
    out = {f"{n:g}"}
    if float(n).is_integer():
        i = int(n)
        out.add(str(i))
        if 0 <= i <= 10:
            out.add(_CN_DIGITS[i])
        if i == 2:
            out.add("两")
    return out


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    tool: str
    key: str  # the option this rule answers inside its tool (a rank, a role, a budget item …)
    doc_id: str
    region: str
    clause: str  # clause path, e.g. 三(二)4
    quote: str  # verbatim span of the clause text, original script
    label: str  # one line of simplified Chinese saying what the rule requires
    values: dict[str, float]
    attrs: dict[str, str] = {}

    @field_validator("id", "tool", "key", "doc_id", "region", "clause", "quote", "label")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v or not v.strip():
            raise ValueError("must not be blank")
        return v

    @field_validator("tool")
    @classmethod
    def _known_tool(cls, v: str) -> str:
        if v not in TOOLS:
            raise ValueError(f"unknown tool {v!r}; known: {', '.join(sorted(TOOLS))}")
        return v

    @model_validator(mode="after")
    def _numbers_in_quote(self) -> "Rule":
        if not self.values:
            raise ValueError(f"rule {self.id}: no values")
        simp = t2s(self.quote)
        written = set(re.findall(r"\d+(?:\.\d+)?", simp)) | set(re.findall(r"[零一二两三四五六七八九十]", simp))
        for name, n in self.values.items():
            if not (_spellings(n) & written):
                raise ValueError(f"rule {self.id}: value {name}={n:g} is not written in its quote")
        return self

    def value(self, name: str) -> float:
        return self.values[name]

    def int_value(self, name: str) -> int:
        return int(self.values[name])


def load_rules(directory: Path = RULES_DIR) -> list[Rule]:
    """All rules in `directory`/*.yaml; file-level doc_id/region are defaults for its rules."""
    rules: list[Rule] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and "corrections" in data:
            continue  # reviewed corrections to extracted rules: assistant.rule_corrections
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            raise ValueError(f"{path.name}: expected a mapping with a 'rules' list")
        defaults = {k: data[k] for k in ("doc_id", "region") if k in data}
        for i, raw in enumerate(data["rules"]):
            if not isinstance(raw, dict):
                raise ValueError(f"{path.name}: rule #{i + 1} is not a mapping")
            try:
                rules.append(Rule(**{**defaults, **raw}))
            except ValidationError as e:
                raise ValueError(f"{path.name}: rule #{i + 1} ({raw.get('id', '?')}): {e}") from None
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate rule ids: {', '.join(dupes)}")
    keys = [(r.tool, r.key) for r in rules]
    dupes = sorted({f"{t}/{k}" for t, k in keys if keys.count((t, k)) > 1})
    if dupes:
        raise ValueError(f"duplicate (tool, key): {', '.join(dupes)}")
    return rules


@lru_cache(maxsize=1)
def default_rules() -> tuple[Rule, ...]:
    return tuple(load_rules())


def check_rules(store, rules: list[Rule] | tuple[Rule, ...] | None = None) -> list[str]:
    """Problems binding `rules` (default: the shipped ones) to the ingested corpus; [] when all is well."""
    problems = []
    for r in default_rules() if rules is None else rules:
        doc = store.docs.get(r.doc_id)
        if doc is None:
            problems.append(f"{r.id}: document {r.doc_id} is not in the index")
            continue
        if doc.meta.region != r.region:
            problems.append(f"{r.id}: region {r.region} but {r.doc_id} is {doc.meta.region}")
        clause = store.clause(r.doc_id, r.clause)
        if clause is None:
            problems.append(f"{r.id}: clause {r.clause} not found in {r.doc_id}")
            continue
        if r.quote not in clause.text:
            problems.append(f"{r.id}: quote not found verbatim in {r.doc_id} {r.clause}: {r.quote[:30]}")
    return problems


def rules_by_tool(rules: list[Rule] | tuple[Rule, ...] | None = None) -> dict[str, list[Rule]]:
    out: dict[str, list[Rule]] = {}
    for r in default_rules() if rules is None else rules:
        out.setdefault(r.tool, []).append(r)
    return out


def as_dict(rule: Rule) -> dict[str, Any]:
    return rule.model_dump()
