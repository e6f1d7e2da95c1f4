"""Synthetic policy corpus for scale tests: python -m evals.synth --n 200 --out /tmp/synth200 [--seed 0]

Each document is one of the five real documents in corpus/ (the seeds), rewritten
the way real municipal copies of a provincial template differ:

- the city: the seed's city (清远, 随州, 成都, 克拉玛依, or none for the generic
  one) becomes one of ~60 real prefecture-level cities that are *not* in the
  corpus, including document-number prefixes (随政发 → 绵政发);
- the numbers: 听课节数, counts, percentages (kept ≤ 100), ‰ rates and years
  (shifted together, so 〔2021〕 and 2021年 stay consistent);
- the wording: common policy verbs swapped for their synonyms (加强/强化,
  提升/提高 …), so that chunks are not byte-identical across copies (the
  embedding cache dedups identical text, which would make ingest look faster
  than it is on a corpus of genuinely different documents);
- the clause order: the (一)…(八) blocks under each top-level heading are
  shuffled and renumbered, children moving with their parent;
- the script: simplified or (40%) traditional (OpenCC via ingest.textnorm).

Each document is written as `synth_NNNNN.txt` with a `.meta.yaml` sidecar
(title, region, issuer, script, plus seed and city for reference).

Deterministic: document k depends only on (--seed, k), so the first 200
documents of a 1,000-document corpus are the 200-document corpus.
Not a test and not part of CI: it feeds evals/bench.py.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from ingest.clauses import SHAPES, int_to_cn, parse_clauses
from ingest.textnorm import s2t, t2s

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

# Real prefecture-level cities (地级市), none of them in corpus/ (清远, 随州, 成都, 克拉玛依).
CITIES = [
    "唐山", "保定", "邯郸", "大同", "包头", "鄂尔多斯", "鞍山", "锦州", "齐齐哈尔", "大庆",
    "无锡", "徐州", "常州", "南通", "扬州", "镇江", "温州", "嘉兴", "湖州", "绍兴",
    "金华", "台州", "芜湖", "蚌埠", "安庆", "泉州", "漳州", "莆田", "赣州", "九江",
    "上饶", "烟台", "潍坊", "济宁", "临沂", "洛阳", "开封", "南阳", "新乡", "宜昌",
    "襄阳", "荆州", "黄冈", "株洲", "湘潭", "衡阳", "岳阳", "常德", "佛山", "湛江",
    "汕头", "韶关", "梅州", "柳州", "桂林", "绵阳", "德阳", "宜宾", "南充", "遵义",
    "曲靖", "宝鸡", "咸阳", "天水",
]

# Seed city base names (simplified) per seed index; None: the generic document (region 通用).
SEED_CITY = {0: "清远", 1: "随州", 2: "成都", 3: None, 4: "克拉玛依"}

# Interchangeable policy wording (simplified). No member may contain another group's member.
SYNONYMS = [
    ("加强", "强化"),
    ("提升", "提高"),
    ("推进", "推动"),
    ("完善", "健全"),
    ("切实", "扎实"),
    ("确保", "保证"),
    ("鼓励", "支持"),
    ("探索", "尝试"),
    ("充分发挥", "切实发挥"),
    ("进一步", "持续", "不断"),
    ("积极", "主动"),
    ("各学校", "各校"),
    ("落实", "贯彻落实"),
    ("开展", "组织开展"),
    ("制定", "研究制定"),
    ("教育部门", "教育行政部门"),
    ("各中小学", "各中小学校"),
    ("每学期", "每个学期"),
    ("每学年", "每个学年"),
    ("不少于", "不低于"),
    ("必须", "务必"),
    ("全面", "全方位"),
    ("有关", "相关"),
    ("按照", "依照", "根据"),
    ("实施", "实行"),
    ("明显", "显著"),
    ("加大", "增加"),
    ("及时", "适时"),
    ("定期", "按期"),
    ("优秀", "优异"),
    ("原则上", "一般"),
]
_SYN_OF = {w: g for g in SYNONYMS for w in g}
_SYN_RX = re.compile("|".join(sorted(map(re.escape, _SYN_OF), key=len, reverse=True)))

# An arabic number followed by a counting unit (not a clause marker such as "1." or "(2)").
_UNITS = "节次名所个人万元课时学时小时分钟天周篇项门届批期场类"
_COUNT_RX = re.compile(rf"(?<![\d.〔\[（(])(\d{{1,4}})(?=\s*(?:[{_UNITS}]|万|以上|左右))")
_PCT_RX = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)(?=\s*[%％])")
_PERMILLE_RX = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)(?=\s*‰)")
_YEAR_RX = re.compile(r"(?<!\d)((?:19|20)\d{2})(?=\s*年|[〕\]）)]|-\d)")


@dataclass(frozen=True)
class Seed:
    index: int
    name: str
    simplified: str
    meta: dict


@lru_cache(maxsize=1)
def seeds(corpus: Path = CORPUS) -> tuple[Seed, ...]:
    out = []
    for i, txt in enumerate(sorted(corpus.glob("*.txt"))):
        meta = yaml.safe_load(txt.with_name(txt.stem + ".meta.yaml").read_text(encoding="utf-8")) or {}
        raw = txt.read_text(encoding="utf-8")
        simp = t2s(raw)
        out.append(Seed(i, txt.stem, simp, meta))
    if not out:
        raise SystemExit(f"no seed documents in {corpus}")
    return tuple(out)


# --------------------------------------------------------------------------- transforms
def replace_city(text: str, old: str | None, new: str, script: str) -> str:
    """Replace the seed city (both scripts, with and without 市) and its document-number prefix."""
    if not old:
        return text
    conv = s2t if script == "traditional" else (lambda s: s)
    for o in {old, s2t(old)}:
        text = text.replace(o, conv(new))
    # 随政发 / 克教发: the first character of the city is the document-number prefix.
    text = re.sub(rf"{re.escape(old[0])}(?=[政教][发發])", conv(new[0]), text)
    return text


def vary_wording(text: str, rng: random.Random, p: float = 0.5) -> str:
    def sub(m: re.Match) -> str:
        word = m.group()
        if rng.random() >= p:
            return word
        return rng.choice(_SYN_OF[word])

    return _SYN_RX.sub(sub, text)


def vary_numbers(text: str, rng: random.Random, year_shift: int) -> str:
    def year(m: re.Match) -> str:
        return str(int(m.group(1)) + year_shift)

    def pct(m: re.Match) -> str:
        v = float(m.group(1))
        if v >= 100 or rng.random() < 0.3:
            return m.group(1)
        n = min(99, max(1, round(v * rng.uniform(0.7, 1.3))))
        return str(n)

    def permille(m: re.Match) -> str:
        v = float(m.group(1))
        n = max(0.1, round(v * rng.uniform(0.6, 1.5), 1))
        return f"{n:g}"

    def count(m: re.Match) -> str:
        v = int(m.group(1))
        if v == 0 or rng.random() < 0.25:
            return m.group(1)
        return str(max(1, round(v * rng.uniform(0.6, 1.6))))

    text = _YEAR_RX.sub(year, text)
    text = _PERMILLE_RX.sub(permille, text)
    text = _PCT_RX.sub(pct, text)
    return _COUNT_RX.sub(count, text)


_WS = " \t\u00a0\u3000\n\r"


def shuffle_clauses(text: str, rng: random.Random, doc_id: str = "x") -> str:
    """Shuffle the (一)…(N) blocks under each top-level clause and renumber them in order.

    Block boundaries come from the project's own clause parser, so a block carries its
    children (1. 2. …) with it and the result parses to the same tree shape.
    """
    clauses = parse_clauses(doc_id, text)
    by_id = {c.clause_id: c for c in clauses}
    groups: dict[str | None, list] = {}
    for c in clauses:
        if c.path == "前言":
            continue
        parent = by_id.get(c.parent_id) if c.parent_id else None
        if parent is not None and parent.parent_id is None and SHAPES["L2"].match(c.own_text.lstrip(_WS)):
            groups.setdefault(c.parent_id, []).append(c)
    edits: list[tuple[int, int, str]] = []
    for kids in groups.values():
        kids = sorted(kids, key=lambda c: c.start)
        if len(kids) < 2:
            continue
        # Each block runs to the next sibling; the last one to its own end. What lies between a
        # block's text and the next block (blank lines) stays in place.
        spans = []
        for i, c in enumerate(kids):
            end = kids[i + 1].start if i + 1 < len(kids) else c.end
            body = text[c.start:end]
            core = body.rstrip(_WS)
            spans.append((c.start, c.start + len(core), core))
        order = list(range(len(kids)))
        rng.shuffle(order)
        for pos, src in enumerate(order):
            start, end, _ = spans[pos]
            edits.append((start, end, _renumber(spans[src][2], pos + 1)))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _renumber(block: str, n: int) -> str:
    m = SHAPES["L2"].match(block)
    if not m:
        return block
    a, b = m.span(1)
    return block[:a] + int_to_cn(n) + block[b:]


# --------------------------------------------------------------------------- documents
@dataclass(frozen=True)
class SynthDoc:
    name: str
    text: str
    meta: dict


def make_doc(k: int, seed: int = 0, corpus: Path = CORPUS) -> SynthDoc:
    rng = random.Random(f"zhengce-synth:{seed}:{k}")
    pool = seeds(corpus)
    s = pool[k % len(pool)]
    city = rng.choice(CITIES)
    script = "traditional" if rng.random() < 0.4 else "simplified"
    conv = s2t if script == "traditional" else (lambda x: x)
    old_city = SEED_CITY.get(s.index) if len(pool) == len(SEED_CITY) else None
    year_shift = rng.randint(-4, 3)
    # Wording and numbers are varied on the simplified text (the synonym list is simplified),
    # then the whole document is converted if it is to be traditional.
    text = s.simplified
    text = replace_city(text, old_city, city, "simplified")
    text = vary_wording(text, rng)
    text = vary_numbers(text, rng, year_shift)
    text = shuffle_clauses(text, rng)
    if script == "traditional":
        text = conv(text)
    city_full = city + "市"
    title = str(s.meta.get("title") or s.name)
    title = replace_city(t2s(title), old_city, city, "simplified")
    if not old_city:
        title = city_full + title
    issuer = s.meta.get("issuer")
    issuer = replace_city(t2s(str(issuer)), old_city, city, "simplified") if issuer else f"{city_full}教育局"
    if not old_city:
        # The generic seed names no issuer in its text: give the copy a first line that does.
        text = conv(f"{city_full}教育局关于印发《{title}》的通知\n") + text
    meta = {
        "title": conv(title),
        "region": city_full,
        "issuer": conv(issuer),
        "script": script,
        "synthetic": True,
        "seed_doc": s.name,
    }
    return SynthDoc(f"synth_{k:05d}", text, meta)


def generate(n: int, out: Path, seed: int = 0, corpus: Path = CORPUS) -> list[Path]:
    """Write documents 0..n-1 into `out` (existing identical files are left untouched)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        d = make_doc(k, seed, corpus)
        txt = out / f"{d.name}.txt"
        side = out / f"{d.name}.meta.yaml"
        _write_if_changed(txt, d.text)
        _write_if_changed(side, yaml.safe_dump(d.meta, allow_unicode=True, sort_keys=False))
        paths.append(txt)
    return paths


def _write_if_changed(path: Path, content: str) -> None:
    # Rewriting an identical file would not change its content hash, but keeping mtimes
    # stable makes reruns cheap to reason about.
    try:
        if path.read_text(encoding="utf-8") == content:
            return
    except FileNotFoundError:
        pass
    path.write_text(content, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.synth", description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="number of documents (default 200)")
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="seed documents (default corpus/)")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")
    import time

    t0 = time.monotonic()
    paths = generate(args.n, args.out, args.seed, args.corpus)
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} documents ({size / 1e6:.1f} MB) to {args.out} in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
