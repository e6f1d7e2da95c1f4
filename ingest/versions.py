"""Earlier versions of a document that a changed file (same name) replaced.

A document id is its file name, so re-ingesting or re-uploading an edited file replaces the
indexed version. The replaced version is not thrown away: it is kept in the generation's
`superseded.json` — its record (title, region, dates, text) marked 已被取代, which document
superseded it and when, what changed (clause paths), and its clauses — so `python -m ingest
--list` and the web document list show both and a reader can see what the new version changed.

Superseded versions live in their own file, outside docs.json/clauses.jsonl/chunks.jsonl, so
nothing that answers questions (search, calculators, regions, document names) can see them:
only the current version is ever cited.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

FILE = "superseded.json"
STATUS = "已被取代"
KEEP = 5  # versions kept per document: enough to trace recent edits, bounded for a file edited daily


def load(gen: Path | None) -> list[dict]:
    """The superseded versions recorded in a generation (oldest first); [] if none or unreadable."""
    if gen is None:
        return []
    try:
        data = json.loads((Path(gen) / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [v for v in data if isinstance(v, dict) and "doc_id" in v] if isinstance(data, list) else []


def dump(gen_dir: Path, versions: list[dict]) -> None:
    (Path(gen_dir) / FILE).write_text(json.dumps(versions, ensure_ascii=False), encoding="utf-8")


def supersede(versions: list[dict], old_doc: dict, old_clauses: list[dict], change: str,
              changed_paths: list[str]) -> dict:
    """Record `old_doc` (the indexed version of a document being replaced) in `versions`;
    returns the new record. Its id is `<doc_id>@v<n>`; its clauses get ids of their own, so a
    clause that did not change is never the same object in two versions."""
    doc_id = old_doc["doc_id"]
    n = 1 + max((v.get("version", 0) for v in versions if v.get("superseded_by") == doc_id), default=0)
    vid = f"{doc_id}@v{n}"
    ids = {c["clause_id"]: _cid(vid, c["clause_id"]) for c in old_clauses}
    record = {
        "doc_id": vid,
        "version": n,
        "superseded_by": doc_id,
        "superseded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "change": change,
        "changed_paths": changed_paths,
        "source_path": old_doc.get("source_path", ""),
        "content_hash": old_doc.get("content_hash", ""),
        "meta": dict(old_doc.get("meta", {}), status=STATUS),
        "text": old_doc.get("text", ""),
        "clause_count": old_doc.get("clause_count", len(old_clauses)),
        "clauses": [dict(c, doc_id=vid, clause_id=ids[c["clause_id"]], parent_id=ids.get(c.get("parent_id")))
                    for c in old_clauses],
    }
    versions.append(record)
    mine = [v for v in versions if v.get("superseded_by") == doc_id]
    for old in mine[:-KEEP]:
        versions.remove(old)
    return record


def forget(versions: list[dict], removed: set[str]) -> None:
    """Drop the versions of documents that are no longer indexed (their file was deleted)."""
    versions[:] = [v for v in versions if v.get("superseded_by") not in removed]


def changed_paths(old_clauses: list[dict], clauses) -> list[str]:
    """Clause paths whose own text differs between the two versions, or exist in only one."""
    before = {c["path"]: c.get("own_text", c.get("text", "")) for c in old_clauses}
    after = {c.path: c.own_text for c in clauses}
    return [p for p in after if before.get(p) != after[p]] + [p for p in before if p not in after]


def _cid(vid: str, clause_id: str) -> str:
    return hashlib.sha1(f"{vid}\0{clause_id}".encode()).hexdigest()[:16]
