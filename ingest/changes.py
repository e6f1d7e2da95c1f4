"""What an ingest run found: the files it was given, which indexed document each one duplicates,
replaces or shares a title with, and the report that says so."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from .loaders import is_document


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    generation: str = ""
    seconds: float = 0.0
    # (path, doc_id of the indexed document with the same content): skipped, not indexed twice
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    # (doc_id, doc_id of another file with the same title, title): indexed, but to be checked
    same_title: list[tuple[str, str, str]] = field(default_factory=list)
    # (doc_id, what changed): a changed file that replaced the version indexed before
    replaced: list[tuple[str, str]] = field(default_factory=list)
    # doc_id -> clause paths whose text reads like instructions to a model (忽略以上所有指令…)
    flagged: dict[str, list[str]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # one Chinese line per event above, in order

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        parts = [f"{len(v)} {k}" for k, v in (("added", self.added), ("updated", self.updated),
                 ("removed", self.removed), ("unchanged", self.unchanged), ("duplicate", self.duplicates),
                 ("failed", self.failed)) if v]
        return ", ".join(parts) or "nothing to ingest"


def _collect(paths: Iterable[Path], report: IngestReport) -> tuple[list[Path], list[Path]]:
    files, scopes = [], []
    for p in paths:
        if p.is_dir():
            scopes.append(p.resolve())
            files += sorted(f for f in p.rglob("*") if is_document(f))
        elif p.is_file():
            files.append(p)
        else:
            report.failed.append((str(p), "no such file or directory"))
    return files, scopes


def _doc_record(d, clause_count: int, flags: dict | None = None) -> dict:
    rec = {
        "doc_id": d.doc_id,
        "source_path": d.source_path,
        "content_hash": d.content_hash,
        "meta": asdict(d.meta),
        "text": d.text,
        "clause_count": clause_count,
        "dropped": list(d.dropped),  # what cleaning deleted, with the reason: `python -m ingest --deletions`
    }
    if flags:
        rec["flags"] = flags
    return rec


def _text_hash(text: str) -> str:
    """Identity of a document's content across names, encodings and sidecars: its cleaned text without spaces."""
    import hashlib

    return hashlib.sha256("".join(text.split()).encode("utf-8")).hexdigest()[:24]


def _title_key(title: str) -> str:
    from .textnorm import t2s

    return t2s("".join((title or "").split()))


class _Owners:
    """Which indexed document owns a content hash, a text hash or a title.

    Only documents whose file still exists count: a file renamed on disk is a move, not a copy.
    """

    def __init__(self, old_docs: dict[str, dict]):
        self.by_hash: dict[str, str] = {}
        self.by_text: dict[str, str] = {}
        self.by_title: dict[str, str] = {}
        for doc_id, d in sorted(old_docs.items()):
            if not Path(d.get("source_path", "")).exists():
                continue
            self.by_hash.setdefault(d["content_hash"], doc_id)
            self.by_text.setdefault(_text_hash(d.get("text", "")), doc_id)
            self.by_title.setdefault(_title_key(d.get("meta", {}).get("title", "")), doc_id)

    def claim(self, doc_id: str, h: str, th: str, title_key: str) -> None:
        for table in (self.by_hash, self.by_text, self.by_title):  # a new version drops its old keys
            for k in [k for k, v in table.items() if v == doc_id]:
                del table[k]
        self.by_hash.setdefault(h, doc_id)
        self.by_text.setdefault(th, doc_id)
        if title_key:
            self.by_title.setdefault(title_key, doc_id)


def _describe_change(old: dict, old_clauses: list[dict], d, clauses) -> str:
    """One Chinese phrase: which clauses the new version changed, added and removed."""
    before = {c["path"]: c.get("own_text", c.get("text", "")) for c in old_clauses}
    after = {c.path: c.own_text for c in clauses}  # own text: a parent does not change with its child
    changed = [p for p in after if p in before and before[p] != after[p]]
    added = [p for p in after if p not in before]
    removed = [p for p in before if p not in after]

    def few(paths: list[str]) -> str:
        return "、".join(paths[:5]) + ("等" if len(paths) > 5 else "")

    parts = []
    if changed:
        parts.append(f"改动 {len(changed)} 条：{few(changed)}")
    if added:
        parts.append(f"新增 {len(added)} 条：{few(added)}")
    if removed:
        parts.append(f"删除 {len(removed)} 条：{few(removed)}")
    if old.get("meta", {}).get("title") != d.meta.title:
        parts.append(f"标题由《{old.get('meta', {}).get('title')}》改为《{d.meta.title}》")
    return "；".join(parts) or "条款文字未变，只改了格式或元数据"
