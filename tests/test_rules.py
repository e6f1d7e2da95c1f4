"""Rules are read at ingest time: every generation carries rules.json, the assistant reads it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.rules import EXTRACTOR_VERSION, RULES_FILE, extract_clauses, read_rules, write_rules

ROOT = Path(__file__).resolve().parents[1]


def test_every_generation_carries_the_rules_of_every_document(store):
    data = json.loads((store.generation / RULES_FILE).read_text(encoding="utf-8"))
    assert data["version"] == EXTRACTOR_VERSION and set(data["docs"]) == set(store.docs)
    stored = read_rules(store.generation)
    for doc_id in store.docs:
        assert stored[doc_id] == extract_clauses(store.clauses_of(doc_id)), doc_id
        assert data["docs"][doc_id]["content_hash"] and not data["docs"][doc_id].get("error")
    for rules in stored.values():
        for r in rules:
            assert r.quote in store.clause(r.doc_id, r.clause).text


def test_the_assistant_reads_stored_rules_instead_of_extracting(built_index, monkeypatch):
    import assistant.obligations as obligations
    from assistant.store import Store

    def boom(*a, **k):
        raise AssertionError("rules were re-extracted at question time")

    monkeypatch.setattr(obligations, "extract_clauses", boom)
    obs = obligations.extract_obligations(Store(built_index))
    assert any(o.clause == "三(一)1" and o.number == 30 for o in obs)


def test_unchanged_documents_keep_their_rules_and_a_failing_document_is_recorded(store, tmp_path, monkeypatch):
    import ingest.rules as rules

    docs = {d: {"content_hash": "h-" + d} for d in store.docs}
    clauses = {d: [dict(c.__dict__) for c in store.clauses_of(d)] for d in store.docs}
    first = tmp_path / "gen1"
    first.mkdir()
    counts = write_rules(first, docs, clauses)
    assert sum(counts.values()) > 30
    changed = sorted(docs)[0]
    docs2 = dict(docs, **{changed: {"content_hash": "new"}})
    calls = []

    def only_changed(cs):
        cs = list(cs)
        calls.append(cs[0].doc_id)
        raise ValueError("extractor bug")

    monkeypatch.setattr(rules, "extract_clauses", only_changed)
    second = tmp_path / "gen2"
    second.mkdir()
    counts2 = write_rules(second, docs2, clauses, previous=first)
    assert calls == [changed]  # the others were reused, not re-extracted
    assert counts2[changed] == 0 and all(counts2[d] == counts[d] for d in docs if d != changed)
    data = json.loads((second / RULES_FILE).read_text(encoding="utf-8"))
    assert "extractor bug" in data["docs"][changed]["error"]


def test_an_index_without_rules_json_still_gets_rules(index_copy):
    from assistant.obligations import extract_obligations
    from assistant.store import Store

    store = Store(index_copy)
    (store.generation / RULES_FILE).unlink()
    assert read_rules(store.generation) is None
    assert any(o.clause == "三(二)4" for o in extract_obligations(Store(index_copy)))


def test_ingest_does_not_import_the_assistant():
    code = ("import sys, ingest.index, ingest.rules, ingest.__main__; "
            "print([m for m in sys.modules if m == 'assistant' or m.startswith('assistant.')])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("path", sorted((ROOT / "ingest" / "rules").glob("*.py")), ids=lambda p: p.name)
def test_rule_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400
