"""`python -m ingest` as a user runs it: a real subprocess against a copy of the session index."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = {  # doc_id: (region, doc number, clause count)
    "000_824e62257c2156a1": ("清远市", "-", 39),
    "001_4ea7f4e0e4771614": ("随州市", "随政发〔2021〕9号", 30),
    "002_567f64c4eced1a2f": ("成都市", "-", 16),
    "003_f14db30dbc55ce6a": ("通用", "-", 27),
    "004_0215b10e07417eb4": ("克拉玛依市", "克教发〔2015〕78号", 28),
}


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ZHENGCE_EMBEDDER", "CHROMA_HOST", "CHROMA_PORT")}
    env["ZHENGCE_DATA_DIR"] = str(data_dir)
    env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run([sys.executable, "-m", "ingest", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_reingesting_the_corpus_reports_five_unchanged(index_copy):
    before = (index_copy / "CURRENT").read_text()
    t0 = time.monotonic()
    r = run("corpus/", data_dir=index_copy)
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert "5 unchanged" in r.stdout
    assert "added" not in r.stdout and "updated" not in r.stdout and "removed" not in r.stdout
    assert "Traceback" not in r.stderr
    assert (index_copy / "CURRENT").read_text() == before
    assert elapsed < 30, f"a no-op ingest took {elapsed:.1f} s"


def test_list_prints_the_five_documents(index_copy):
    r = run("--list", data_dir=index_copy)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    header = lines[0].split("\t")
    assert header[:6] == ["doc_id", "region", "issuer", "date", "doc_number", "clauses"]
    rows = {ln.split("\t")[0]: ln.split("\t") for ln in lines[1:]}
    assert set(rows) == set(DOCS)
    for doc_id, (region, number, clauses) in DOCS.items():
        row = rows[doc_id]
        assert (row[1], row[4], row[5]) == (region, number, str(clauses)), row
    assert rows["001_4ea7f4e0e4771614"][6] == "随州市人民政府关于深化基础教育改革提升教育教学质量的意见"


def test_bad_paths_get_one_line_messages_and_no_traceback(index_copy, tmp_path):
    bad = tmp_path / "notes.xyz"
    bad.write_text("一、不是政策文件\n", encoding="utf-8")
    missing = tmp_path / "no_such_file.txt"
    before = (index_copy / "CURRENT").read_text()
    r = run(str(bad), str(missing), data_dir=index_copy)
    assert "Traceback" not in r.stderr + r.stdout
    err = r.stderr.strip().splitlines()
    xyz = [ln for ln in err if "notes.xyz" in ln]
    gone = [ln for ln in err if "no_such_file.txt" in ln]
    assert len(xyz) == 1 and "unsupported file type '.xyz'" in xyz[0]
    assert len(gone) == 1 and "no such file or directory" in gone[0]
    assert "2 failed" in r.stdout
    assert r.returncode == 1 and err[-1].startswith("导入失败：2 个")  # any failure: exit 1
    assert (index_copy / "CURRENT").read_text() == before


def test_usage_errors(tmp_path):
    r = run(data_dir=tmp_path / "idx")
    assert r.returncode == 2
    assert "give files or directories" in r.stderr and "Traceback" not in r.stderr

    r = run("--list", data_dir=tmp_path / "idx")
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert "还没有索引" in r.stderr and "python -m ingest corpus/" in r.stderr  # in Chinese, with the fix
