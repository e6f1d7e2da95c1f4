"""File → Document → clauses → chunks. Pure functions; no index, no model.

A large file (≥ LARGE_FILE) reports each stage on the `ingest.progress` logger, which the CLI
prints to stderr (not with -q); nobody else listens, so the library stays silent.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .chunks import chunk_clauses
from .clauses import PREAMBLE, parse_clauses
from .clean import clean
from .errors import BadDocumentError
from .loaders import check_size, content_hash, doc_id_for, read_meta, read_text
from .textnorm import detect_script, t2s
from .types import Chunk, Clause, Document

progress_log = logging.getLogger("ingest.progress")
LARGE_FILE = 1 << 20  # a file this big takes seconds per stage: worth telling the person waiting


@dataclass(frozen=True)
class Parsed:
    document: Document
    clauses: list[Clause]
    chunks: list[Chunk]


class _Stages:
    """One Chinese line per finished stage of a large file, with its time."""

    def __init__(self, path: Path):
        try:
            size = check_size(path)
        except (BadDocumentError, OSError):
            size = 0  # read_text reports it
        self.on = size >= LARGE_FILE
        self.name = path.name
        self.t = time.monotonic()
        if self.on:
            progress_log.info("%s（%.1f MB）：开始解析", self.name, size / 2**20)

    def done(self, what: str, then: str = "") -> None:
        if self.on:
            now = time.monotonic()
            progress_log.info("%s：%s（%.1f 秒）%s", self.name, what, now - self.t, then)
            self.t = now


_HAN = re.compile("[\u4e00-\u9fff]")


def _script(text: str) -> str:
    """detect_script(text), given only a head of the text holding its first 4,000 Han characters (all
    that detect_script reads): on the whole of a 20 MB file its list of 1-character strings took 500 MB."""
    k = 1 << 14
    while k < len(text):
        head = text[:k]
        if sum(1 for _ in _HAN.finditer(head)) >= 4000:
            return detect_script(head)
        k *= 4
    return detect_script(text)


def process_file(path: Path, doc_id: str | None = None) -> Parsed:
    stages = _Stages(path)
    raw, encoding = read_text(path)
    stages.done(f"已读取 {len(raw):,} 字，{encoding}")
    cleaned = clean(raw, t2s)
    if not cleaned.text.strip():
        raise BadDocumentError("nothing left after removing page chrome")
    stages.done(f"已清理，删除 {len(raw) - len(cleaned.text):,} 字")
    script = _script(cleaned.text)
    doc_id = doc_id or doc_id_for(path)
    clauses = parse_clauses(doc_id, cleaned.text)
    stages.done(f"已切分 {len(clauses):,} 个条款")
    first = next((c.start for c in clauses if c.path != PREAMBLE), 0)
    meta = read_meta(path, cleaned.text, script, encoding, first)
    document = Document(
        doc_id=doc_id,
        source_path=str(path),
        content_hash=content_hash(path),
        meta=meta,
        raw_text=raw,
        text=cleaned.text,
        offsets=cleaned.offsets,
        dropped=cleaned.dropped,
    )
    chunks = chunk_clauses(doc_id, meta, clauses)
    stages.done(f"已读取元数据，分成 {len(chunks):,} 个检索块", "；接下来分词、检查、向量化")
    return Parsed(document, clauses, chunks)
