"""File → Document → clauses → chunks. Pure functions; no index, no model."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .chunks import chunk_clauses
from .clauses import PREAMBLE, parse_clauses
from .clean import clean
from .errors import BadDocumentError
from .loaders import content_hash, doc_id_for, read_meta, read_text
from .textnorm import detect_script, t2s
from .types import Chunk, Clause, Document


@dataclass(frozen=True)
class Parsed:
    document: Document
    clauses: list[Clause]
    chunks: list[Chunk]


def process_file(path: Path, doc_id: str | None = None) -> Parsed:
    raw, encoding = read_text(path)
    cleaned = clean(raw, t2s)
    if not cleaned.text.strip():
        raise BadDocumentError("nothing left after removing page chrome")
    script = detect_script(cleaned.text)
    doc_id = doc_id or doc_id_for(path)
    clauses = parse_clauses(doc_id, cleaned.text)
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
    return Parsed(document, clauses, chunk_clauses(doc_id, meta, clauses))
