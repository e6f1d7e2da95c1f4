"""The naive LangChain baseline the assistant is measured against.

RecursiveCharacterTextSplitter(500, 50) over each document's text, the same
e5 embeddings, LangChain's InMemoryVectorStore, top-5. No clause structure,
no BM25, no abstention: the top chunk is the answer.
"""
from __future__ import annotations

from dataclasses import dataclass

from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.store import Store
from ingest.embed import Embedder, EmbeddingCache


class LCEmbeddings(Embeddings):
    """Adapter: our embedder behind LangChain's Embeddings interface (cached, so reruns are fast)."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache | None = None):
        self.embedder = embedder
        self.cache = cache

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.cache is None:
            return self.embedder.passages(texts).tolist()
        model = self.embedder.model_id
        found = self.cache.get_many(model, texts)
        missing = [t for t in dict.fromkeys(texts) if self.cache.key(t) not in found]
        if missing:
            vecs = self.embedder.passages(missing)
            self.cache.put_many(model, missing, vecs)
            found.update({self.cache.key(t): v for t, v in zip(missing, vecs)})
        return [found[self.cache.key(t)].tolist() for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.query(text).tolist()


@dataclass(frozen=True)
class BaselineHit:
    doc_id: str
    region: str
    text: str
    start: int  # offset in the document text, to map back to clauses for scoring


class NaiveBaseline:
    def __init__(self, store: Store, embedder: Embedder, cache: EmbeddingCache | None = None):
        splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50, add_start_index=True)
        docs = [LCDocument(page_content=d.text, metadata={"doc_id": d.doc_id, "region": d.meta.region})
                for d in store.docs.values()]
        self.chunks = splitter.split_documents(docs)
        self.vs = InMemoryVectorStore(LCEmbeddings(embedder, cache))
        self.vs.add_documents(self.chunks)

    def search(self, question: str, k: int = 5) -> list[BaselineHit]:
        return [BaselineHit(d.metadata["doc_id"], d.metadata["region"], d.page_content, d.metadata["start_index"])
                for d in self.vs.similarity_search(question, k=k)]
