"""A generation's lookup database, `lookup.sqlite`: what a query process needs from clauses.jsonl and
chunks.jsonl without reading them.

Why: at 1,000 laws a query process spent 5.3 s in `json.loads` of those two files (95 + 147 MB)
and 2.3 s building 90k Clause and 80k Chunk objects, held 547 MB for them, scanned every clause
for instruction-like text at the first question (7.1 s) and tokenized each candidate clause
(jieba + OpenCC) when first compared (1.0-1.5 s); OpenCC on 15,942 rules took 6.0 s at the first
calculator question (profiled 2026-12-03). Here each clause is a row (its text is a slice of its
document's text, kept in docs.json anyway, unless it is not one), each chunk a byte range of
chunks.jsonl, and the clause words, the instruction-like spans and the rules' simplified strings
are computed once, at ingest. The JSONL files stay the source of truth; this file is derived
from them and rebuilt by `python -m ingest.upgrade` for a generation written before it existed.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Callable, Iterator

from .clause_terms import Segmenter
from .textnorm import t2s
from .validate import instruction_spans

FILE = "lookup.sqlite"
VERSION = 1

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE clause (n INTEGER PRIMARY KEY, clause_id TEXT NOT NULL, doc_id TEXT NOT NULL, path TEXT NOT NULL,
    heading TEXT, start INTEGER, stop INTEGER, parent_id TEXT, parents TEXT, level INTEGER,
    own_len INTEGER, text TEXT, own_text TEXT, by_path INTEGER, key TEXT, terms TEXT, sents TEXT);
CREATE TABLE chunk (n INTEGER PRIMARY KEY, chunk_id TEXT, clause_id TEXT, doc_id TEXT, region TEXT,
    off INTEGER, len INTEGER);
CREATE TABLE injected (n INTEGER PRIMARY KEY, clause_n INTEGER, span TEXT);
CREATE TABLE simplified (s TEXT PRIMARY KEY, t TEXT);
"""
_INDEXES = """
CREATE UNIQUE INDEX clause_id ON clause (clause_id);
CREATE INDEX clause_path ON clause (doc_id, path) WHERE by_path = 1;
CREATE INDEX clause_parent ON clause (parent_id, start, n);
CREATE INDEX clause_doc ON clause (doc_id, start, n);
CREATE INDEX clause_key ON clause (key);
"""


def _sizes(gen_dir: Path) -> dict[str, int]:
    # The JSONL files it was derived from: a lookup that no longer matches them is not used.
    return {name: (gen_dir / name).stat().st_size for name in ("clauses.jsonl", "chunks.jsonl", "docs.json")}


def is_current(gen_dir: Path) -> bool:
    """Whether `gen_dir` has a lookup database of this version, derived from its present files."""
    path = Path(gen_dir) / FILE
    if not path.is_file():
        return False
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
        finally:
            db.close()
        return meta.get("version") == str(VERSION) and meta.get("sizes") == json.dumps(_sizes(Path(gen_dir)))
    except (sqlite3.Error, OSError):
        return False


def build(gen_dir: Path, previous: Path | None = None, log: Callable[[str], None] | None = None) -> Path:
    """Write `gen_dir/lookup.sqlite` from the generation's files (atomically: a reader sees the
    whole file or none). Clause words whose inputs are unchanged are copied from `previous` (the
    generation before), so adding one document does not re-tokenize every clause."""
    gen_dir = Path(gen_dir)
    tmp = gen_dir / (FILE + ".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(str(tmp))
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
    prev = _open_previous(previous)
    docs = {d["doc_id"]: d["text"] for d in json.loads((gen_dir / "docs.json").read_text(encoding="utf-8"))}
    n = reused = 0
    salt = _words_salt()
    for group in _doc_groups(gen_dir / "clauses.jsonl"):
        n, r = _add_clauses(db, group, docs, prev, n, salt)
        reused += r
        if log and n and n % 20000 < len(group):
            log(f"lookup: {n:,} clauses")
    _add_chunks(db, gen_dir / "chunks.jsonl")
    _add_simplified(db, gen_dir)
    db.executescript(_INDEXES)
    db.executemany("INSERT INTO meta VALUES (?, ?)", [("version", str(VERSION)), ("clauses", str(n)),
                                                      ("sizes", json.dumps(_sizes(gen_dir)))])
    db.commit()
    db.close()
    if prev is not None:
        prev.close()
    os.replace(tmp, gen_dir / FILE)
    if log:
        log(f"lookup: {n:,} clauses ({reused:,} with words from the previous generation)")
    return gen_dir / FILE


def _open_previous(previous: Path | None) -> sqlite3.Connection | None:
    if previous is None or not is_current(previous):
        return None
    return sqlite3.connect(f"file:{Path(previous) / FILE}?mode=ro", uri=True)


def _doc_groups(path: Path) -> Iterator[list[dict]]:
    """The clause records of each document (clauses.jsonl is written document by document)."""
    group: list[dict] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            if group and rec["doc_id"] != group[0]["doc_id"]:
                yield group
                group = []
            group.append(rec)
    if group:
        yield group


def _words_salt() -> str:
    """What else a clause's words depend on: copied words are only valid for the same dictionary,
    stopwords, jieba and instruction pattern (a changed policy_dict.txt must re-segment every clause)."""
    from importlib.metadata import version

    from . import segment, validate

    parts = [segment.POLICY_DICT.read_text(encoding="utf-8"), " ".join(sorted(segment.STOPWORDS)),
             segment._WORD.pattern, version("jieba"), version("opencc-python-reimplemented"),
             validate._INSTRUCTION.pattern, str(VERSION)]
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()[:12]


def _add_clauses(db, group: list[dict], docs: dict[str, str], prev, n: int, salt: str = "") -> tuple[int, int]:
    # As the store always read them: one record per clause id (the last), and per (document, path) the last.
    recs = {c["clause_id"]: c for c in group}
    winners = {(c["doc_id"], c["path"]): c["clause_id"] for c in recs.values()}
    heading_of = {key: recs[cid]["heading"] for key, cid in winners.items()}
    rows, spans, reused = [], [], 0
    seg = Segmenter()  # one document's sentences, each segmented once
    for c in recs.values():
        n += 1
        doc_text = docs.get(c["doc_id"], "")
        text, own = c["text"], c["own_text"]
        sliced = doc_text[c["start"]:c["end"]] == text
        own_len = len(own) if text.startswith(own) else None
        heads = " ".join(heading_of[(c["doc_id"], p)] for p in c["parents"] if (c["doc_id"], p) in heading_of)
        key = hashlib.sha1(json.dumps([salt, heads, text, own], ensure_ascii=False).encode()).hexdigest()[:24]
        words = prev.execute("SELECT terms, sents FROM clause WHERE key = ?", (key,)).fetchone() if prev else None
        if words:
            reused += 1
        else:
            h, sents = seg.sentence_terms(heads, own, text)
            words = (_dump(sorted(seg.clause_terms(heads, text))), _dump([sorted(h), [sorted(s) for s in sents]]))
        rows.append((n, c["clause_id"], c["doc_id"], c["path"], c["heading"], c["start"], c["end"], c["parent_id"],
                     _dump(list(c["parents"])), c["level"], own_len, None if sliced else text,
                     None if own_len is not None else own, int(winners[(c["doc_id"], c["path"])] == c["clause_id"]),
                     key, *words))
        spans += [(n, t2s(own[s:e])) for s, e in instruction_spans(own)]
    db.executemany("INSERT INTO clause VALUES (" + ",".join("?" * 17) + ")", rows)
    db.executemany("INSERT INTO injected (clause_n, span) VALUES (?, ?)", spans)
    return n, reused


def _add_chunks(db, path: Path) -> None:
    rows, off, n = [], 0, 0
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                c = json.loads(line)
                rows.append((n, c["chunk_id"], c["clause_id"], c["doc_id"], c["region"], off, len(line)))
                n += 1
            off += len(line)
    db.executemany("INSERT INTO chunk VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def _add_simplified(db, gen_dir: Path) -> None:
    """The simplified form of each rule's quote, subject and item (NULL: already simplified), which
    the calculators' relevance scores compare."""
    path = gen_dir / "rules.json"
    if not path.is_file():
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return
    simple: dict[str, str] = {}
    for entry in data.get("docs", {}).values():
        for r in entry.get("rules", []):
            parts = [r.get(k) or "" for k in ("quote", "subject", "item")]
            for p in parts:
                if p not in simple:
                    simple[p] = t2s(p)
            # rule_search._grams simplifies the joined text once more: that string too
            joined = " ".join(simple[p] for p in parts)
            if joined not in simple:
                simple[joined] = t2s(joined)
    db.executemany("INSERT INTO simplified VALUES (?, ?)",
                   [(s, None if t == s else t) for s, t in sorted(simple.items()) if s])


def _dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
