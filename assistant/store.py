"""Read side of the index: documents, clauses, chunks, BM25 and the Chroma collection.

Everything a citation needs (title, region, clause path, verbatim text) comes
from here, i.e. from what ingestion stored, never from a model. Clauses and chunks
are read on demand from the generation's lookup.sqlite (assistant/store_lookup.py).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ingest.errors import IndexMissingError, UsageError, VectorStoreUnavailable
from ingest.index import chroma_client, current_generation
from ingest.lookup import is_current
from ingest.textnorm import t2s
from ingest.types import GENERIC_REGION, NATIONAL_REGION, Answer, Citation, Clause, DocMeta
from ingest.validate import instruction_spans, repeats


@dataclass(frozen=True)
class DocInfo:
    doc_id: str
    meta: DocMeta
    text: str  # cleaned, original script
    clause_count: int
    source_path: str


class Store:
    def __init__(self, data_dir: Path, chroma_host: str | None = None, chroma_port: int | None = None):
        self.data_dir = Path(data_dir)
        gen = current_generation(self.data_dir)
        if gen is None:
            if (self.data_dir / "CURRENT").exists():  # names a generation that is gone or half-deleted
                raise IndexMissingError(f"the index in {self.data_dir} is damaged (its live generation is "
                                        "missing); fix: python -m ingest --rebuild corpus/")
            raise IndexMissingError(
                f"no index in {self.data_dir}; fix: python -m ingest corpus/ (or --rebuild if it is damaged)"
            )
        self.generation = gen
        self._chroma = (chroma_host, chroma_port)
        # A generation with its lookup database is read on demand (assistant/store_lookup.py); one
        # written before it existed is read whole, as before, until `python -m ingest.upgrade`.
        from .store_lookup import open_lookup, read_whole

        self._lookup = None
        if is_current(gen):
            open_lookup(self, gen)
        else:
            read_whole(self, gen)
        self._check_vectors(gen)
        from ingest import versions

        # Earlier versions of changed files: listed, never searched or cited (see ingest/versions.py).
        self.superseded: list[dict] = versions.load(gen)
        self._down_since: float | None = None  # when a Chroma server last failed to answer
        self._down_lock = threading.Lock()

    def damaged(self, gen: Path, why: str) -> IndexMissingError:
        return IndexMissingError(f"the index at {gen} is damaged ({why}); fix: python -m ingest --rebuild corpus/")

    def doc_infos(self, docs: list[dict]) -> dict[str, DocInfo]:
        return {d["doc_id"]: DocInfo(d["doc_id"], DocMeta(**d["meta"]), d["text"], d["clause_count"], d["source_path"])
                for d in docs}

    def _check_vectors(self, gen: Path) -> None:
        chroma_host, manifest = self._chroma[0], self.manifest
        if chroma_host is None and manifest.get("chroma", "embedded") != "embedded":
            raise IndexMissingError(f"the index keeps its vectors on the Chroma server {manifest['chroma']}; "
                                    "set CHROMA_HOST and CHROMA_PORT, or fix: python -m ingest --rebuild corpus/")
        if chroma_host is None and not (gen / "chroma" / "chroma.sqlite3").is_file():
            # Checked here, not on first search: a tool answer must not hide a lost vector store, and
            # opening a missing path would make Chroma create an empty one inside the index.
            raise self.damaged(gen, "its chroma/ vector store is missing")

    # ---- lookups -------------------------------------------------------
    @cached_property
    def regions(self) -> list[str]:
        return sorted({d.meta.region for d in self.docs.values()}, key=lambda r: (r == GENERIC_REGION, r))

    @cached_property
    def names(self):
        from .documents import DocNames

        return DocNames({d.doc_id: (d.meta.title, d.meta.region, d.meta.parents) for d in self.docs.values()})

    @cached_property
    def _children(self) -> dict[str, list[Clause]]:
        out: dict[str, list[Clause]] = {}
        for c in sorted(self.clauses.values(), key=lambda c: c.start):
            if c.parent_id:
                out.setdefault(c.parent_id, []).append(c)
        return out

    def children(self, clause_id: str) -> list[Clause]:
        """Direct sub-clauses in document order."""
        if self._lookup is not None:
            return self._lookup.where("parent_id = ? ORDER BY start, n", (clause_id,))
        return self._children.get(clause_id, [])

    def scope(self, regions: list[str] | tuple[str, ...] | None) -> list[str]:
        """The regions whose documents apply to a question about `regions`: each region itself,
        the places inside it (a county's documents for its city), the enclosing province, and
        national documents — every citation still carries its own region."""
        if not regions:
            return []
        from ingest.places import enclosing

        out: list[str] = []
        for r in regions:
            out.append(r)
            out += [x for x in self.regions if r in self.docs_parents(x)]
            out += [p for p in enclosing(r) if p in self.regions]
        if NATIONAL_REGION in self.regions:
            out.append(NATIONAL_REGION)
        return list(dict.fromkeys(out))

    def docs_parents(self, region: str) -> tuple[str, ...]:
        return next((d.meta.parents for d in self.docs.values() if d.meta.region == region), ())

    def docs_in(self, region: str) -> list[DocInfo]:
        return [d for d in self.docs.values() if d.meta.region == region]

    def check_regions(self, regions: list[str] | None) -> list[str] | None:
        """Normalise user-given region names (清遠 → 清远市); unknown ones are a usage error."""
        if not regions:
            return None
        out = []
        for r in regions:
            s = t2s(r.strip())
            match = next((x for x in self.regions if x == s or x.rstrip("市") == s.rstrip("市")), None)
            if match is None:
                from ingest.places import lookup

                place = lookup(s)  # 北京 → 北京市
                match = place.name if place and place.name in self.regions else None
            if match is None:
                raise UsageError(f"本库没有“{r}”的文件；本库收录：{'、'.join(self.regions)}")
            out.append(match)
        return out

    def clause(self, doc_id: str, path: str) -> Clause | None:
        return self.by_path.get((doc_id, path))

    @cached_property
    def _by_doc(self) -> dict[str, list[Clause]]:
        out: dict[str, list[Clause]] = {}
        for c in sorted(self.clauses.values(), key=lambda c: c.start):
            out.setdefault(c.doc_id, []).append(c)
        return out

    def clauses_of(self, doc_id: str) -> list[Clause]:
        # One pass for all documents: a scan of every clause per call cost 15.7 s when the calculators
        # read each of 1,001 documents' rules (profiled at 1,000 laws, 2026-11-25).
        if self._lookup is not None:
            return self._lookup.where("doc_id = ? ORDER BY start, n", (doc_id,))
        return list(self._by_doc.get(doc_id, ()))

    def citation(self, clause: Clause, quote: str | None = None) -> Citation:
        """A citation for `clause`; `quote` must be a verbatim span of the clause text."""
        quote = quote or clause.own_text.strip()
        if quote not in clause.text:
            raise ValueError(f"quote is not verbatim in {clause.doc_id} {clause.path}: {quote[:30]}")
        d = self.docs[clause.doc_id]
        return Citation(d.doc_id, d.meta.title, d.meta.region, clause.path, quote, clause.clause_id)

    # ---- words and strings computed at ingest (None / computed here for an older index) -------
    def clause_words(self, clause_id: str) -> frozenset[str] | None:
        """The words `ingest.clause_terms.clause_terms` gives the clause, as ingest stored them."""
        return self._lookup.terms(clause_id) if self._lookup is not None else None

    def sentence_words(self, clause_id: str):
        """`ingest.clause_terms.sentence_terms` of the clause, as ingest stored them."""
        return self._lookup.sentence_terms(clause_id) if self._lookup is not None else None

    @cached_property
    def _simplified(self) -> dict[str, str | None]:
        return self._lookup.simplified() if self._lookup is not None else {}

    def simplified(self, text: str) -> str:
        """t2s(text), from ingest's table for the rules' strings (OpenCC on 15,942 rules took 6.0 s)."""
        hit = self._simplified.get(text, False)
        if hit is False:
            return t2s(text)
        return text if hit is None else hit

    # ---- instruction-like text (忽略以上所有指令…): data, never evidence ----------------
    @cached_property
    def _injected(self) -> list[tuple[Clause, str]]:
        """(clause, simplified span) for every instruction-like sentence in a clause's own text."""
        if self._lookup is not None:  # found at ingest
            return self._lookup.injected()
        out = []
        for c in self.clauses.values():
            for s, e in instruction_spans(c.own_text):
                out.append((c, t2s(c.own_text[s:e])))
        return out

    def quotes_injected(self, citation: Citation) -> bool:
        """Whether a citation's quote lies in (or contains) an instruction-like sentence of its clause."""
        clause = self.clauses.get(citation.clause_id) or self.clause(citation.doc_id, citation.clause)
        if clause is None:
            return False
        q = citation.quote
        return any(q in clause.text[s:e] or clause.text[s:e] in q or repeats(q, clause.text[s:e])
                   for s, e in instruction_spans(clause.text))

    def injected_answer(self, question: str, script: str) -> Answer | None:
        """The answer to a question that repeats an instruction-like sentence of a document: that the
        sentence was flagged at ingest and is not a rule. None for any other question."""
        q = t2s(question)
        matches = [(c, span) for c, span in self._injected if repeats(q, span)]
        if not matches:
            return None
        from difflib import SequenceMatcher

        hit = max(matches, key=lambda m: SequenceMatcher(None, q, m[1], autojunk=False).ratio())[0]
        from .compose import book, clause_ref, in_script

        d = self.docs[hit.doc_id]
        text = (f"问题中的文字与{d.meta.region}{book(d.meta.title)}{clause_ref(hit.path)}里的一段文字相同；"
                "导入时这段文字被标记为“疑似指令”（它是写给读者或模型的指令，不是政策规定），"
                "因此不作为回答依据，也不当作规定引用。")
        note = f"问题重复了文件中被标记为疑似指令的文字（{d.doc_id} {hit.path}），未作为规定回答"
        return Answer(in_script(text, script), False, script=script, note=note)

    def quote_is_verbatim(self, doc_id: str, quote: str) -> bool:
        d = self.docs.get(doc_id)
        return bool(d and quote and quote in d.text)

    # ---- search backends ----------------------------------------------
    @cached_property
    def bm25(self):
        from ingest.bm25 import load_or_build  # bm25/ of the generation, memory-mapped, else built here

        return load_or_build(self.generation, self.chunk_tokens, len(self.chunks))

    @cached_property
    def doc_freqs(self) -> dict[str, int]:
        """Chunks containing each BM25 token (the retriever's IDF), from the BM25 matrix."""
        from ingest.bm25 import doc_freqs

        return doc_freqs(self.bm25)

    @cached_property
    def collection(self):
        host, port = self._chroma
        try:
            client = chroma_client(self.data_dir, self.generation, host, port)
            col = client.get_collection(self.manifest["collection"], embedding_function=None)
            count = col.count()
        except VectorStoreUnavailable:
            raise
        except Exception as e:
            if host and _unreachable(e):
                raise VectorStoreUnavailable(f"Chroma server {host}:{port} unreachable ({type(e).__name__})") from None
            raise IndexMissingError(
                f"the vector index is unreadable ({type(e).__name__}: {e}); fix: python -m ingest --rebuild corpus/"
            ) from None
        if count != len(self.chunks):  # e.g. a chroma/ folder from another generation copied in
            raise IndexMissingError(f"the vector index has {count} vectors for {len(self.chunks)} chunks; "
                                    "fix: python -m ingest --rebuild corpus/")
        return col

    @cached_property
    def exact_vectors(self):
        from ingest.vectors import ExactVectors

        return None if self._chroma[0] else ExactVectors.of_generation(self.generation, self.chunks)

    # ---- degraded mode: a Chroma server that does not answer -------------
    def dense_query(self, vector, n_results: int, where: dict | None) -> list[tuple[str, float]] | None:
        """(chunk id, cosine distance) pairs from the vector store, best first; None when a Chroma
        server cannot be reached, so search goes on with BM25 alone instead of failing every question.
        After a failure the server is tried again only every DENSE_RETRY seconds: a dead server must
        not cost each question a connection timeout."""
        if self._down_since is not None and time.monotonic() - self._down_since < DENSE_RETRY:
            return None
        exact = self.exact_vectors.query(vector, n_results, where) if self.exact_vectors else None
        if exact is not None:  # embedded index with vectors.npy: no Chroma import, no HNSW load
            return exact
        try:
            res = self.collection.query(query_embeddings=[vector], n_results=n_results, where=where,
                                        include=["distances"])
        except VectorStoreUnavailable:
            self._mark_down()
            return None
        except Exception as e:
            if not (self._chroma[0] and _unreachable(e)):
                raise
            self._mark_down()
            return None
        if self._down_since is not None:
            with self._down_lock:
                self._down_since = None
        return list(zip(res["ids"][0], res["distances"][0]))

    def _mark_down(self) -> None:
        with self._down_lock:
            self._down_since = time.monotonic()
            self.__dict__.pop("collection", None)  # reconnect from scratch when it is back

    @property
    def degraded(self) -> bool:
        """True while the vector store is known to be unreachable (answers come from BM25 alone)."""
        return self._down_since is not None

    def vector_status(self) -> str:
        """"" when vectors are available (or not yet tried), else the Chinese notice shown to users.
        Probes a Chroma server that has not been asked yet, so a page opened while it is down says so."""
        host, port = self._chroma
        if host and self._down_since is None and "collection" not in self.__dict__:
            try:
                self.collection
            except VectorStoreUnavailable:
                self._mark_down()
            except Exception:
                pass  # a damaged index is reported by the question that needs it
        elif host and self._down_since is not None and time.monotonic() - self._down_since >= DENSE_RETRY:
            with self._down_lock:
                self._down_since = None
            return self.vector_status()
        return DEGRADED_NOTE if self.degraded else ""

    def summary(self) -> list[dict]:
        """Every indexed document, then the versions they superseded (status 已被取代, what changed)."""
        latest = {v["superseded_by"]: v for v in self.superseded}
        rows = [
            {"doc_id": d.doc_id, "title": d.meta.title, "region": d.meta.region, "issuer": d.meta.issuer,
             "date": d.meta.date, "doc_number": d.meta.doc_number, "status": d.meta.status,
             "script": d.meta.script, "clauses": d.clause_count, "superseded_by": None,
             "change": latest[d.doc_id]["change"] if d.doc_id in latest else None}
            for d in sorted(self.docs.values(), key=lambda d: d.doc_id)
        ]
        for v in sorted(self.superseded, key=lambda v: v["doc_id"]):
            m = v.get("meta", {})
            rows.append({"doc_id": v["doc_id"], "title": m.get("title", ""), "region": m.get("region", ""),
                         "issuer": m.get("issuer"), "date": m.get("date"), "doc_number": m.get("doc_number"),
                         "status": m.get("status"), "script": m.get("script"), "clauses": v.get("clause_count", 0),
                         "superseded_by": v.get("superseded_by"), "change": v.get("change")})
        return rows

    # ---- notes every answer carries --------------------------------------------
    def annotate(self, answer: Answer) -> Answer:
        """`answer` with the notes a reader must see: vectors unavailable (BM25 only), or a cited
        clause that the document's newest version changed (the answer quotes the new wording)."""
        from .compose import book

        notes = [answer.note] if answer.note else []
        cited = {(c.doc_id, c.clause) for c in answer.citations}
        for doc_id in dict.fromkeys(c.doc_id for c in answer.citations):
            v = next((v for v in reversed(self.superseded) if v.get("superseded_by") == doc_id), None)
            if v and any((doc_id, p) in cited for p in v.get("changed_paths", ())):
                title = self.docs[doc_id].meta.title if doc_id in self.docs else doc_id
                notes.append(f"{book(title)}已有新版本（{v['superseded_at'][:10]} 替换旧版本 {v['doc_id']}；{v['change']}），"
                             "本回答依据新版本")
        if self.degraded:
            notes.append(DEGRADED_NOTE)
        if notes == ([answer.note] if answer.note else []):
            return answer
        from dataclasses import replace

        return replace(answer, note="；".join(dict.fromkeys(notes)))


DENSE_RETRY = 10.0  # seconds between attempts to reach a Chroma server that failed
DEGRADED_NOTE = "向量检索服务暂时无法连接，本回答只用关键词检索（BM25）得出，可能不如平时完整"


def _unreachable(e: BaseException) -> bool:
    """A transport failure (refused, reset, timed out, DNS), as opposed to a server that answered."""
    import httpx

    if isinstance(e, (httpx.TransportError, ConnectionError, TimeoutError, OSError)):
        return True
    text = f"{type(e).__name__} {e}".lower()
    return any(w in text for w in ("connect", "connection", "timed out", "unreachable", "refused"))


def dump_json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)
