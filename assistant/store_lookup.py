"""The store's clauses and chunks read on demand from a generation's lookup.sqlite (ingest/lookup.py).

`Store.clauses`, `Store.by_path` and `Store.chunks` keep the interfaces their many callers use
(`clauses[cid]`, `.get`, `in`, `len`, `.values()`, `chunks[i]`, iteration), but a Clause or Chunk
object exists only while someone asks for it (plus a small LRU): cold start and memory no longer
grow with 90k clause and 80k chunk objects. The database is opened read-only and immutable (a
generation never changes once written) and shared between threads behind one lock.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections import OrderedDict, namedtuple
from collections.abc import Mapping, Sequence
from itertools import repeat
from pathlib import Path
from typing import Callable, Iterator

from ingest.lookup import FILE
from ingest.types import Chunk, Clause

_COLS = "clause_id, doc_id, path, heading, start, stop, parent_id, parents, level, own_len, text, own_text"
CACHE = 4096  # Clause objects kept: a comparison across all regions touches ~300


class Lookup:
    def __init__(self, gen_dir: Path, doc_text: Callable[[str], str]):
        self._db = sqlite3.connect(f"file:{Path(gen_dir) / FILE}?mode=ro&immutable=1", uri=True,
                                   check_same_thread=False)
        self._lock = threading.Lock()
        self._doc_text = doc_text
        self._cache: OrderedDict[str, Clause | None] = OrderedDict()
        self._parent_lists: dict[str, tuple[str, ...]] = {}
        self._chunk_fd = os.open(Path(gen_dir) / "chunks.jsonl", os.O_RDONLY)
        self.n_clauses = int(self.rows("SELECT value FROM meta WHERE key = 'clauses'")[0][0])

    def rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        self._db.close()
        os.close(self._chunk_fd)

    # ---- clauses ---------------------------------------------------------
    def _make(self, row: tuple) -> Clause:
        cid, doc, path, heading, start, stop, parent, parents, level, own_len, text, own = row
        if text is None:  # the usual case: the clause is a span of its document's cleaned text
            text = self._doc_text(doc)[start:stop]
        if own is None:
            own = text[:own_len]
        return Clause(cid, doc, path, heading, text, own, start, stop, parent, self._parents(parents), level)

    def _parents(self, parents: str) -> tuple[str, ...]:
        # Siblings share their parents' paths: parsed once per distinct list (77k json.loads were
        # 1.2 s of reading every clause for the rules, cProfile at 1,000 laws).
        hit = self._parent_lists.get(parents)
        if hit is None:
            hit = self._parent_lists[parents] = tuple(json.loads(parents))
        return hit

    def clause(self, clause_id: str) -> Clause | None:
        with self._lock:
            if clause_id in self._cache:
                self._cache.move_to_end(clause_id)
                return self._cache[clause_id]
        rows = self.rows(f"SELECT {_COLS} FROM clause WHERE clause_id = ?", (clause_id,))
        c = self._make(rows[0]) if rows else None
        with self._lock:
            self._cache[clause_id] = c
            if len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        return c

    def where(self, sql: str, args: tuple) -> list[Clause]:
        return [self._make(r) for r in self.rows(f"SELECT {_COLS} FROM clause WHERE {sql}", args)]

    def terms(self, clause_id: str) -> frozenset[str] | None:
        rows = self.rows("SELECT terms FROM clause WHERE clause_id = ?", (clause_id,))
        return frozenset(json.loads(rows[0][0])) if rows else None

    def sentence_terms(self, clause_id: str):
        rows = self.rows("SELECT sents FROM clause WHERE clause_id = ?", (clause_id,))
        if not rows:
            return None
        heads, sents = json.loads(rows[0][0])
        return frozenset(heads), tuple(frozenset(s) for s in sents)

    def injected(self) -> list[tuple[Clause, str]]:
        rows = self.rows(f"SELECT {', '.join('c.' + x for x in _COLS.split(', '))}, i.span FROM injected i "
                         "JOIN clause c ON c.n = i.clause_n ORDER BY i.n")
        return [(self._make(r[:-1]), r[-1]) for r in rows]

    def simplified(self) -> dict[str, str | None]:
        return dict(self.rows("SELECT s, t FROM simplified"))

    # ---- chunks ------------------------------------------------------------
    def chunk_columns(self) -> tuple[list[str], list[str], list[str], list[str]]:
        rows = self.rows("SELECT chunk_id, clause_id, doc_id, region FROM chunk ORDER BY n")
        shared: dict[str, str] = {}  # one string per document id and region, not one per chunk
        ids = [r[0] for r in rows]
        clause_ids = [r[1] for r in rows]
        docs = [shared.setdefault(r[2], r[2]) for r in rows]
        regions = [shared.setdefault(r[3], r[3]) for r in rows]
        return ids, clause_ids, docs, regions

    def chunk(self, i: int) -> Chunk:
        off, size = self.rows("SELECT off, len FROM chunk WHERE n = ?", (i,))[0]
        rec = json.loads(os.pread(self._chunk_fd, size, off))
        rec.pop("tokens", None)
        return Chunk(**rec)


class ClauseMap(Mapping):
    """clause id → Clause, read on demand."""

    def __init__(self, look: Lookup):
        self._look = look

    def __getitem__(self, clause_id: str) -> Clause:
        c = self._look.clause(clause_id) if isinstance(clause_id, str) else None
        if c is None:
            raise KeyError(clause_id)
        return c

    def __contains__(self, clause_id) -> bool:
        return isinstance(clause_id, str) and self._look.clause(clause_id) is not None

    def __len__(self) -> int:
        return self._look.n_clauses

    def __iter__(self) -> Iterator[str]:
        return iter([r[0] for r in self._look.rows("SELECT clause_id FROM clause ORDER BY n")])

    def values(self) -> list[Clause]:  # type: ignore[override]  # one query, not one per clause
        return self._look.where("1 ORDER BY n", ())

    def items(self) -> list[tuple[str, Clause]]:  # type: ignore[override]
        return [(c.clause_id, c) for c in self.values()]


class PathMap(Mapping):
    """(document id, clause path) → Clause, read on demand."""

    def __init__(self, look: Lookup):
        self._look = look

    def __getitem__(self, key) -> Clause:
        try:
            doc_id, path = key
        except (TypeError, ValueError):
            raise KeyError(key) from None
        rows = self._look.rows("SELECT clause_id FROM clause WHERE doc_id = ? AND path = ? AND by_path = 1",
                               (doc_id, path))
        if not rows:
            raise KeyError(key)
        return self._look.clause(rows[0][0])

    def __len__(self) -> int:
        return self._look.rows("SELECT count(*) FROM clause WHERE by_path = 1")[0][0]

    def __iter__(self):
        return iter(self._look.rows("SELECT doc_id, path FROM clause WHERE by_path = 1 ORDER BY n"))


class ParentIds:
    """The clause ids that have sub-clauses (`cid in store.parent_ids`), answered by an index lookup."""

    def __init__(self, look: Lookup):
        self._look = look

    def __contains__(self, clause_id) -> bool:
        return bool(self._look.rows("SELECT 1 FROM clause WHERE parent_id = ? LIMIT 1", (clause_id,)))

    def __iter__(self):
        return iter([r[0] for r in self._look.rows("SELECT DISTINCT parent_id FROM clause WHERE parent_id IS NOT NULL")])

    def __len__(self) -> int:
        return self._look.rows("SELECT count(DISTINCT parent_id) FROM clause")[0][0]


class ChunkRef(namedtuple("_ChunkRow", "chunk_id clause_id doc_id region index seq")):
    """A chunk as the store hands it out: the four fields search and its callers read (clause, document,
    region, id) in memory, any other (text, title, …) read from chunks.jsonl when first asked for.
    Search looks at up to 80 fused candidates per query and keeps one per clause; parsing each one's
    JSON line (with its BM25 tokens) was ~25 ms of a 150 ms question at 1,000 laws (cProfile). A
    tuple, made once per store: five passes over 80k chunks creating objects cost 0.8 s of cold start."""

    __slots__ = ()

    def __getattr__(self, name):
        if name.startswith("__"):  # copy/pickle probing: not a chunk field
            raise AttributeError(name)
        return getattr(self.seq.full(self.index), name)

    def __deepcopy__(self, memo):  # an immutable value of one store (Gradio deep-copies its state)
        return self


class ChunkSeq(Sequence):
    """The chunks in index order: `chunks[i]` is a ChunkRef; `full(i)` the Chunk from chunks.jsonl."""

    def __init__(self, look: Lookup):
        self._look = look
        self.ids, self.clause_ids, self.doc_ids, self.regions = look.chunk_columns()
        self._cache: OrderedDict[int, Chunk] = OrderedDict()
        self._lock = threading.Lock()
        self._refs: list[ChunkRef] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def _all(self) -> list[ChunkRef]:
        if self._refs is None:
            self._refs = list(map(ChunkRef._make, zip(self.ids, self.clause_ids, self.doc_ids, self.regions,
                                                      range(len(self.ids)), repeat(self))))
        return self._refs

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._all()[i]
        return self._all()[int(i)]  # numpy's integers (argsort positions) index a list too, but say so

    def full(self, i: int) -> Chunk:
        i = int(i)  # numpy's integers are not SQLite integers
        if not 0 <= i < len(self.ids):
            raise IndexError(i)
        with self._lock:
            c = self._cache.get(i)
        if c is None:
            c = self._look.chunk(i)
            with self._lock:
                self._cache[i] = c
                if len(self._cache) > CACHE:
                    self._cache.popitem(last=False)
        return c

    def __iter__(self) -> Iterator[ChunkRef]:
        return iter(self._all())


# ---- the two ways a Store reads a generation ----------------------------------------------
_WARNED: set[str] = set()


def open_lookup(store, gen: Path) -> None:
    """Clauses and chunks on demand from lookup.sqlite; only documents and chunk ids in memory."""
    from ingest.index import read_head

    store.manifest, docs = read_head(gen)
    try:
        store.docs = store.doc_infos(docs)
        store._lookup = look = Lookup(gen, lambda doc_id: store.docs[doc_id].text)
        store.clauses = ClauseMap(look)
        store.by_path = PathMap(look)
        store.parent_ids = ParentIds(look)
        store.chunks = ChunkSeq(look)
    except (KeyError, TypeError, AttributeError) as e:
        raise store.damaged(gen, f"bad record: {type(e).__name__}") from None
    except (sqlite3.Error, OSError, IndexError, ValueError) as e:
        raise store.damaged(gen, f"unreadable {FILE}: {type(e).__name__}") from None
    store.chunk_tokens = []  # lookup.sqlite is written with bm25/: no chunk's tokens are needed
    store.chunk_index = {cid: i for i, cid in enumerate(store.chunks.ids)}


def read_whole(store, gen: Path) -> None:
    """A generation written before lookup.sqlite: every clause and chunk as an object, as before."""
    import logging

    from ingest.bm25 import DIR as BM25_DIR
    from ingest.index import read_generation

    # Said once per generation and process: such an index works, only its start and memory are the old ones.
    # (A lookup that no longer matches its JSONL files says nothing here: those files may be damaged.)
    if not (gen / FILE).exists() and str(gen) not in _WARNED:
        _WARNED.add(str(gen))
        logging.getLogger(__name__).warning(
            "索引 %s 是旧格式，可以使用但启动较慢；升级（一次性，不重新导入）：python -m ingest.upgrade / "
            "index %s predates %s: read whole (slow start); upgrade once: python -m ingest.upgrade", gen.name, gen, FILE)
    # With the prebuilt BM25 index no chunk's tokens are needed here (nor kept in memory).
    store.manifest, docs, clauses, chunks = read_generation(gen, tokens=not (gen / BM25_DIR).is_dir())
    try:
        store.docs = store.doc_infos(docs)
        store.clauses = {c["clause_id"]: Clause(**{k: tuple(v) if k == "parents" else v for k, v in c.items()})
                         for c in clauses}
        store.chunk_tokens = [c.pop("tokens") for c in chunks] if chunks and "tokens" in chunks[0] else []
        store.chunks = [Chunk(**c) for c in chunks]
    except (KeyError, TypeError, AttributeError) as e:  # valid JSON with the wrong fields
        raise store.damaged(gen, f"bad record: {type(e).__name__}") from None
    store.chunk_index = {c.chunk_id: i for i, c in enumerate(store.chunks)}
    store.by_path = {(c.doc_id, c.path): c for c in store.clauses.values()}
    store.parent_ids = frozenset(c.parent_id for c in store.clauses.values() if c.parent_id)
