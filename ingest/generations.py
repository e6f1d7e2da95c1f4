"""Where the live index generation is in a data directory, and how to read one.
The writer (ingest/index.py) and every reader (assistant/store.py, ingest/upgrade.py) share this."""
from __future__ import annotations

import fcntl
import json
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexMissingError, VectorStoreUnavailable

# Layout of the data directory:
#
#     CURRENT            name of the live generation (replaced atomically)
#     gen-<id>/          one complete index: manifest, docs, clauses, chunks, chroma/, bm25/, vectors.npy,
#                        rules.json and lookup.sqlite (what a query process reads, see ingest/lookup.py)
#     embcache.sqlite    vectors by (model, text hash): unchanged text is never re-embedded
#     ingest.lock        one writer at a time
FORMAT = 1


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
