"""Hostile files: active HTML, zip bombs, huge files and odd file names. Real ingestion into a real
(temporary) index; real subprocesses for the CLI. Nothing is mocked. The hostile batch is built by
the `hostile_files` / `hostile_index` fixtures (conftest, from tests/hostile_helpers.py); prompt
injection and junk questions are in tests/test_hostile_questions.py.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from ingest.errors import BadDocumentError
from ingest.loaders import MAX_BYTES, content_hash, doc_id_for, read_text
from tests.hostile_helpers import ODD_NAMES, docx_bytes, odd_text

ROOT = Path(__file__).resolve().parents[1]
ACTIVE = ("alert", "document.cookie", "javascript", "color: red", "onclick", "onload", "<script", "<style",
          "请启用浏览器脚本", "模板里的隐藏文字")


def quiet(_msg: str) -> None:
    pass


# ---- hostile files, built once (conftest) -----------------------------------

def test_the_hostile_batch_ingests_the_good_files_and_refuses_the_bad_ones(hostile_index):
    data, report, logs = hostile_index
    assert sorted(report.added) == sorted(["injection_test", "page", *ODD_NAMES.values()])
    failed = {Path(p).name: msg for p, msg in report.failed}
    assert set(failed) == {"bomb_zeros.docx", "bomb_paragraphs.docx", "huge.txt"}
    assert "zip bomb" in failed["bomb_zeros.docx"] and "zip bomb" in failed["bomb_paragraphs.docx"]
    assert failed["huge.txt"] == f"file too large (2000 MB > {MAX_BYTES >> 20} MB)"
    for name in failed:
        said = [ln for ln in logs if name in ln]
        assert len(said) == 1 and "\n" not in said[0] and "Traceback" not in said[0]
    assert report.seconds < 60


# ---- active HTML --------------------------------------------------------------

def test_html_scripts_styles_and_handlers_never_reach_the_index(hstore):
    d = hstore.docs["page"]
    assert "课后服务每天不少于2小时" in d.text and "附件说明" in d.text
    texts = [d.text, *(c.text for c in hstore.clauses_of("page")),
             *(c.text + c.index_text for c in hstore.chunks if c.doc_id == "page")]
    for t in texts:
        for bad in ACTIVE:
            assert bad not in t, (bad, t[:80])
    assert [c.path for c in hstore.clauses_of("page")][-2:] == ["一", "二"]


def test_nothing_we_ship_evaluates_code():
    """What a page or a model says is only ever data: no eval/exec/compile of text anywhere."""
    files = [*ROOT.glob("ingest/*.py"), *ROOT.glob("assistant/*.py"), *ROOT.glob("app.py")]
    assert len(files) > 10
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("eval", "exec", "compile", "__import__"), f"{f.name}:{node.lineno}"


# ---- zip bombs and huge files ---------------------------------------------------

@pytest.mark.parametrize("name", ["bomb_zeros.docx", "bomb_paragraphs.docx"])
def test_a_zip_bomb_docx_is_refused_quickly_without_inflating_it(hostile_files, name):
    path = hostile_files / name
    assert path.stat().st_size < 1 << 20  # < 1 MB on disk, 100-200 MB inflated
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(BadDocumentError, match=r"zip bomb") as e:
            read_text(path)
        elapsed = time.monotonic() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 2 and peak < 8 << 20, (elapsed, peak)
    assert re.fullmatch(r"docx expands to an implausible size \(\d+ MB from \d+ KB; zip bomb\?\)", str(e.value))


def test_an_ordinary_docx_still_reads(tmp_path):
    path = tmp_path / "ok.docx"
    path.write_bytes(docx_bytes())
    assert read_text(path) == ("一、总则", "docx")


def test_a_huge_file_is_refused_from_its_size_alone(hostile_files):
    path = hostile_files / "huge.txt"
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(BadDocumentError) as e:
            read_text(path)
        with pytest.raises(BadDocumentError):
            content_hash(path)  # ingest hashes a file before parsing it: that must not read it either
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - t0 < 1 and peak < 1 << 20
    assert str(e.value) == f"file too large (2000 MB > {MAX_BYTES >> 20} MB)"


# ---- odd file names -----------------------------------------------------------

def test_odd_file_names_get_safe_doc_ids(hstore):
    for name, doc_id in ODD_NAMES.items():
        assert doc_id_for(Path("/somewhere") / name) == doc_id
        assert re.fullmatch(r"[\w\-]{1,80}", doc_id) and ".." not in doc_id and "/" not in doc_id
        assert hstore.docs[doc_id].text == odd_text(name)
    assert doc_id_for(Path("../../etc/passwd")) == "passwd"
    assert doc_id_for(Path("...")) == "_" and doc_id_for(Path("/tmp/.txt")) == "_txt"


def test_ingest_writes_only_inside_its_data_dir(hostile_files, built_index, tmp_path):
    """`python -m ingest` run from an empty directory with its own HOME and TMPDIR: afterwards
    every new file is under the data dir (the only things outside are in TMPDIR: jieba's dictionary cache
    and onnxruntime's telemetry session marker `.ses`, written on import)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ODD_NAMES:
        shutil.copy(hostile_files / name, src / name)
    cwd, home, tmp, data = (tmp_path / n for n in ("cwd", "home", "tmp", "data"))
    for d in (cwd, home, tmp, data):
        d.mkdir()
    shutil.copy(built_index / "embcache.sqlite", data)
    before_src = sorted(p.name for p in src.iterdir())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHENGCE_", "CHROMA_", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), ZHENGCE_DATA_DIR=str(data), HF_HUB_OFFLINE="1")
    r = subprocess.run([sys.executable, "-m", "ingest", str(src), str(src / "..%2F..%2Fetc%2Fpasswd.txt")],
                       cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "3 added" in r.stdout
    assert list(cwd.iterdir()) == [] and list(home.iterdir()) == []
    assert {p.name for p in tmp.iterdir()} <= {"jieba.cache", ".ses"}
    assert sorted(p.name for p in src.iterdir()) == before_src
    for p in data.rglob("*"):
        assert not p.is_symlink() and p.resolve().is_relative_to(data.resolve()), p
    manifest = json.loads(next(data.glob("gen-*/manifest.json")).read_text(encoding="utf-8"))
    assert sorted(manifest["docs"]) == sorted(ODD_NAMES.values())
