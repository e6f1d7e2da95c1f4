"""jieba's word table on disk: the same words as jieba's own dictionary, without loading it whole."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ingest import segment

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table_dir(tmp_path_factory):
    cache = tmp_path_factory.mktemp("models")
    full = segment.build_tokenizer(cache)  # no table yet: the full load, which writes it
    assert isinstance(full.FREQ, dict)
    assert list((cache / "jieba").glob("freq-*.sqlite"))
    return cache, full


def questions() -> list[str]:
    out = []
    for path in sorted((ROOT / "evals").glob("*cases.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out += [c["question"] for c in (data["cases"] if isinstance(data, dict) else data) if c.get("question")]
    return out


def test_the_table_segments_every_question_and_document_as_jieba_does(table_dir):
    cache, full = table_dir
    lazy = segment.build_tokenizer(cache)
    assert isinstance(lazy.FREQ, segment.DiskFreq) and lazy.total == full.total
    qs = questions()
    assert len(qs) > 300
    for q in qs:
        assert lazy.lcut(q) == full.lcut(q), q
        assert lazy.lcut_for_search(q) == full.lcut_for_search(q), q
    assert not lazy.FREQ.whole  # a question reads a few rows, never the table
    for doc in sorted((ROOT / "corpus").glob("*.txt")):
        text = doc.read_text(encoding="utf-8")
        assert lazy.lcut(text) == full.lcut(text)
    for word in segment.policy_words():  # the policy dictionary is in the table
        assert word in lazy.FREQ and lazy.FREQ[word] == full.FREQ[word]


def test_segmenting_documents_loads_the_table_whole_with_the_same_cuts(table_dir, monkeypatch):
    cache, full = table_dir
    monkeypatch.setattr(segment.DiskFreq, "PROMOTE", 500)
    lazy = segment.build_tokenizer(cache)
    lazy.add_word("集团化办学联盟")  # added before the load: kept by it
    full_copy = segment.build_tokenizer(None)
    full_copy.add_word("集团化办学联盟")
    text = (ROOT / "corpus").glob("*.txt").__next__().read_text(encoding="utf-8")
    assert lazy.lcut(text) == full_copy.lcut(text)
    assert lazy.FREQ.whole
    assert lazy.lcut("推进集团化办学联盟建设") == full_copy.lcut("推进集团化办学联盟建设")
    assert "集团化办学联盟" in lazy.lcut("推进集团化办学联盟建设")


def test_a_damaged_table_is_rebuilt_and_no_cache_dir_means_jiebas_own(tmp_path):
    first = segment.build_tokenizer(tmp_path)
    (path,) = (tmp_path / "jieba").glob("freq-*.sqlite")
    path.write_bytes(b"not a database" * 100)
    again = segment.build_tokenizer(tmp_path)  # falls back to the full load and writes it again
    assert isinstance(again.FREQ, dict) and again.lcut("教师培训经费") == first.lcut("教师培训经费")
    assert isinstance(segment.build_tokenizer(tmp_path).FREQ, segment.DiskFreq)
    assert isinstance(segment.build_tokenizer(None).FREQ, dict)


def test_a_cache_that_cannot_be_written_still_segments(tmp_path):
    blocked = tmp_path / "models"
    blocked.write_text("a file where the cache directory should be")  # mkdir fails, even for root
    tk = segment.build_tokenizer(blocked)
    assert isinstance(tk.FREQ, dict) and tk.lcut("教师培训经费") == segment.build_tokenizer(None).lcut("教师培训经费")


def test_the_assistant_cli_writes_the_table_in_its_data_dir_and_the_next_start_reads_it(index_copy):
    """The ingest CLI does not write it (a failed ingest leaves the data dir as it was); the first question does."""
    table = index_copy / "models" / "jieba"
    shutil.rmtree(table, ignore_errors=True)
    ask = [sys.executable, "-m", "assistant", "--data-dir", str(index_copy), "ask", "--json"]
    for _ in range(2):
        r = subprocess.run(ask, cwd=ROOT, input="学校领导每学期听课多少节？\n", capture_output=True, text=True,
                           check=True, timeout=120)
        assert json.loads(r.stdout.splitlines()[0])["found"] is True
        assert list(table.glob("freq-*.sqlite"))
