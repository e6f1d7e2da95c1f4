"""Large files: the parse stages run in bounded memory and linear time, every 第X条 of a multi-MB
text becomes a clause, a large file's stages are reported on stderr (not with -q), and a file over
the measured limit (ingest/loaders.py MAX_CHARS) is refused in one Chinese line, index unchanged.

The texts are generated here (laws of chapters, articles and items with varied numbers); everything
is written under tmp_path. Embedding is never reached: the parse stages are called directly, or the
file is refused before them."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.clauses import int_to_cn, parse_clauses
from ingest.errors import BadDocumentError
from ingest.loaders import MAX_BYTES, MAX_CHARS, read_text
from ingest.pipeline import LARGE_FILE

ROOT = Path(__file__).resolve().parents[1]
SMALL_DOC = ROOT / "corpus" / "000_824e62257c2156a1.txt"

SENTENCES = [
    "学校应当每学期组织教师参加不少于{a}学时的校本培训，培训经费按照教职工工资总额的{b}%列支。",
    "县级以上人民政府教育行政部门应当在{y}年底前完成{a}所学校的标准化建设，并向社会公布进度。",
    "中学一级教师每{c}年应当主持或者参与{d}项校级以上课题研究，研究成果纳入职称评审。",
    "学校领导每人每学期听课不少于{a}节，并在听课后{d}日内与授课教师交流。",
    "按照教师总数{b}‰的比例配足配齐各学段各学科教研员，教研员每学年到校指导不少于{a}次。",
    "规模达到{a}个班的学校应当建立县级以上名教师工作室，每个工作室每年培养青年教师{d}名。",
    "对违反本办法第{c}条规定的，由所在地教育行政部门责令限期改正；情节严重的，依法给予处分。",
    "义务教育阶段学校每班学生人数不超过{a}人，寄宿制学校生均宿舍面积不少于{b}平方米。",
]
ITEMS = ["建立健全教师培训档案，培训学时每{c}年累计不少于{a}学时；", "将考核结果作为绩效工资分配的依据；",
         "每学年向教职工代表大会报告经费使用情况{d}次；"]
CHAPTERS = ["总则", "教师培训", "教学管理", "教研队伍", "保障措施", "法律责任", "附则"]


def generate(path: Path, target_chars: int, seed: int = 13) -> list[tuple[int, str, str]]:
    """Write laws until the text has `target_chars` characters; return (offset, article, law title)
    for every 第X条 line, where offset is the line's position in the text."""
    rnd = random.Random(seed)
    parts: list[str] = []
    articles: list[tuple[int, str, str]] = []
    size, law = 0, 0

    def add(s: str) -> None:
        nonlocal size
        parts.append(s)
        size += len(s)

    while size < target_chars:
        law += 1
        title = f"某某市中小学教育管理办法（第{int_to_cn(law)}号）"
        add(f"{title}\n\n")
        art = 0
        for chapter_no, chapter in enumerate(CHAPTERS, 1):
            add(f"第{int_to_cn(chapter_no)}章　{chapter}\n\n")
            for _ in range(rnd.randint(3, 9)):
                art += 1
                nums = dict(a=rnd.randint(2, 120), b=rnd.randint(1, 9), c=rnd.randint(1, 30),
                            d=rnd.randint(1, 6), y=rnd.randint(2021, 2030))
                body = "".join(rnd.choice(SENTENCES).format(**nums) for _ in range(rnd.randint(1, 3)))
                token = f"第{int_to_cn(art)}条"
                articles.append((size, token, title))
                add(f"{token}　{body}\n")
                if rnd.random() < 0.3:
                    for i, item in enumerate(ITEMS, 1):
                        add(f"（{int_to_cn(i)}）{item.format(**nums)}\n")
                add("\n")
    path.write_text("".join(parts), encoding="utf-8")
    return articles


# ---- parse stages: memory, every article, stage lines ---------------------------------------

CHILD = r"""
import json, logging, sys, time
from pathlib import Path
from ingest.pipeline import process_file

def status_mb(field):  # VmHWM, not ru_maxrss: that one keeps the peak of the process that forked us
    with open("/proc/self/status") as f:
        return next(int(ln.split()[1]) for ln in f if ln.startswith(field + ":")) / 1024

logging.getLogger("ingest.progress").addHandler(logging.StreamHandler(sys.stderr))
logging.getLogger("ingest.progress").setLevel(logging.INFO)
process_file(Path(sys.argv[2]))  # a small document first: lazy imports and dictionaries are baseline
base = status_mb("VmRSS")
t0 = time.monotonic()
p = process_file(Path(sys.argv[1]))
seconds = time.monotonic() - t0
peak = status_mb("VmHWM")
d = p.document
json.dump({"growth_mb": peak - base, "seconds": seconds, "chars": len(d.text), "same": d.text == d.raw_text,
           "offsets_ok": len(d.offsets) == len(d.text) and d.offsets[-1] == len(d.raw_text) - 1,
           "clauses": [[c.path, c.start, c.own_text[:40]] for c in p.clauses], "chunks": len(p.chunks)},
          sys.stdout, ensure_ascii=False)
"""


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "big_law.txt"
    articles = generate(path, 900_000)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", CHILD, str(path), str(SMALL_DOC)], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return path, articles, json.loads(r.stdout), r.stderr


def test_a_multi_mb_text_parses_in_bounded_memory(big):
    path, articles, out, _ = big
    size = path.stat().st_size
    assert size > 2 * 2**20 and out["chars"] > 850_000 and out["same"] and out["offsets_ok"]
    # Measured 2026-12-03: ~25 MB of growth for these 2.6 MB (about 30 bytes per character, the document,
    # its clauses and chunks included). Before: an int and a 1-character string per character in
    # clean() and detect_script(), ~130 bytes per character (935 MB peak at 19 MB).
    assert out["growth_mb"] < out["chars"] * 60 / 2**20, out["growth_mb"]
    assert out["seconds"] < 60


def test_every_article_of_a_multi_mb_text_becomes_a_clause(big):
    _, articles, out, _ = big
    by_start = {start: (path, text) for path, start, text in out["clauses"]}
    missing = [(off, tok) for off, tok, _ in articles
               if off not in by_start or not by_start[off][0].endswith(tok) or not by_start[off][1].startswith(tok)]
    assert not missing, missing[:5]
    paths = [path for path, _, _ in out["clauses"]]
    assert len(set(paths)) == len(paths), "a path names one clause"
    assert not any("〔" in p for p in paths), "no path needed the duplicate suffix"
    assert sum(p.endswith("条") for p in paths) == len(articles) > 5_000


def test_a_large_file_reports_its_stages_in_chinese(big):
    path, _, out, stderr = big
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert lines[0].startswith(f"{path.name}（") and lines[0].endswith(" MB）：开始解析"), lines
    assert any("已清理" in ln for ln in lines) and any(f"已切分 {len(out['clauses']):,} 个条款" in ln for ln in lines)
    assert any(f"{out['chunks']:,} 个检索块" in ln for ln in lines)
    assert all("秒）" in ln for ln in lines[1:]), lines


def test_the_clause_parser_is_linear_in_the_number_of_restarted_parts():
    """1,000 concatenated laws restart their numbering 1,000 times: the parser was quadratic in that
    (40 s of 88 s at 19 MB)."""
    def law(k: int) -> str:
        return f"办法（第{int_to_cn(k)}号）\n" + "".join(f"第{int_to_cn(i)}条　学校应当每学期组织培训{i}次。\n"
                                                       for i in range(1, 6))

    def seconds(n: int) -> float:
        text = "".join(law(k) for k in range(1, n + 1))
        t0 = time.perf_counter()
        clauses = parse_clauses("x", text)
        dt = time.perf_counter() - t0
        assert sum(c.path.endswith("条") for c in clauses) == 5 * n
        return dt

    small, large = min(seconds(600) for _ in range(2)), min(seconds(2400) for _ in range(2))
    assert large < 8 * small, (small, large)  # linear: ~4x; the quadratic parser took ~14x


# ---- the measured limit -----------------------------------------------------------------------

def run_ingest(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZHENGCE_", "CHROMA_"))}
    env.update(ZHENGCE_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "ingest", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def over_limit(path: Path) -> Path:
    article = "第一条　学校应当每学期组织教师参加不少于72学时的校本培训，培训经费按照教职工工资总额的1.5%列支。\n"
    text = article * (MAX_CHARS // len(article) + 1)
    path.write_text(text, encoding="utf-8")
    assert len(text) > MAX_CHARS and path.stat().st_size < MAX_BYTES  # the character limit, not the byte guard
    return path


def test_a_text_over_the_limit_is_refused_before_it_is_cleaned(tmp_path):
    path = over_limit(tmp_path / "too_long.txt")
    t0 = time.monotonic()
    with pytest.raises(BadDocumentError) as e:
        read_text(path)
    assert time.monotonic() - t0 < 5
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("文件太长") and f"{MAX_CHARS:,}" in msg and "拆" in msg


def test_an_over_limit_file_gets_one_chinese_line_and_the_index_is_unchanged(index_copy, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    path = over_limit(src / "too_long.txt")
    before = (index_copy / "CURRENT").read_text()
    gens = sorted(p.name for p in index_copy.iterdir())
    r = run_ingest(str(path), "-q", data_dir=index_copy)
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 2, lines  # the refusal, then the summary
    assert lines[0].startswith(f"跳过 {path}：文件太长") and "字" in lines[0]
    assert lines[1].startswith("导入失败：1 个")
    assert (index_copy / "CURRENT").read_text() == before
    assert sorted(p.name for p in index_copy.iterdir()) == gens


def test_a_file_over_the_byte_guard_is_refused_in_chinese_from_its_size(index_copy, tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: never read
    before = (index_copy / "CURRENT").read_text()
    r = run_ingest(str(huge), data_dir=index_copy)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    refusal = [ln for ln in lines if "huge.txt" in ln]
    assert len(refusal) == 1 and "文件太大" in refusal[0] and "已拒绝" in refusal[0], lines
    assert "file too large" not in r.stderr
    assert (index_copy / "CURRENT").read_text() == before


def test_stage_lines_are_not_printed_with_q(index_copy, tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_bytes(bytes(range(1, 9)) * (LARGE_FILE // 8 + 1))  # ≥ 1 MB and binary: refused after the first stage
    loud = run_ingest(str(junk), data_dir=index_copy)
    quiet = run_ingest(str(junk), "-q", data_dir=index_copy)
    assert loud.returncode == quiet.returncode == 1
    assert any(ln.endswith("开始解析") for ln in loud.stderr.splitlines()), loud.stderr
    assert "开始解析" not in quiet.stderr and "junk.txt" in quiet.stderr


def test_embedding_progress_lines():
    from io import StringIO

    from ingest.__main__ import EmbedProgress

    now = [0.0]
    out = StringIO()
    p = EmbedProgress(every=30, out=out, clock=lambda: now[0])
    for done in range(256, 10_241, 256):
        now[0] += 10  # 256 texts per 10 s
        p(done / 10_240, f"embedding {done}/10240")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("向量化：256/10,240 个检索块（2%）")
    assert 12 <= len(lines) <= 15  # one every 30 s of 400 s, and the last
    assert "预计还需" in lines[1] and lines[-1].startswith("向量化完成：10,240 个检索块")

