"""Real documents the parser was not written for (../shared/realdocs): structure, metadata, cleaning.

Expected values are read from SOURCES.md itself, so the test checks what a librarian wrote down,
not what the code happens to produce.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from ingest.clauses import RANKED, parse_clauses
from ingest.loaders import read_text
from ingest.pipeline import process_file
from ingest.textnorm import t2s

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realdocs"
DOCS = sorted((REAL / "docs").glob("*")) if (REAL / "docs").is_dir() else []
pytestmark = pytest.mark.skipif(not DOCS, reason="../shared/realdocs is not beside this checkout")


@lru_cache(maxsize=None)
def expected() -> dict[str, dict]:
    rows = {}
    for line in (REAL / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 8 or not cells[0].startswith("`"):
            continue
        name, _, title, issuer, region, date, number, structure = cells
        articles = re.search(r"(\d+) 条\)", structure)
        rows[name.strip("`")] = {
            "title": title.split(" (")[0],
            "issuer": issuer,
            "region": region,
            "date": re.match(r"\d{4}-\d\d-\d\d", date).group(),
            "doc_number": None if number.startswith("—") else number.split(" (")[0],
            "articles": int(articles.group(1)) if articles else 0,
        }
    return rows


@lru_cache(maxsize=None)
def parsed(name: str):
    return process_file(REAL / "docs" / name)


def _plain(s: str) -> str:
    return re.sub(r"[“”\"《》\s]", "", t2s(s))


def test_sources_table_is_read():
    assert len(expected()) == 9 and {p.name for p in DOCS} == set(expected())


@pytest.mark.parametrize("name", [p.name for p in DOCS])
def test_every_article_is_a_clause_with_its_path(name):
    exp = expected()[name]
    paths = [c.path for c in parsed(name).clauses]
    articles = [p for p in paths if re.fullmatch(r"第[一二三四五六七八九十百零]+条", p)]
    assert len(articles) == exp["articles"], articles[-5:]
    if exp["articles"]:
        from ingest.clauses import int_to_cn

        assert articles == [f"第{int_to_cn(i)}条" for i in range(1, exp["articles"] + 1)]


@pytest.mark.parametrize("name", [p.name for p in DOCS] + ["corpus"])
def test_clause_paths_are_unique(name):
    docs = [parsed(name)] if name != "corpus" else [process_file(p) for p in sorted((ROOT / "corpus").glob("*.txt"))]
    for doc in docs:
        dup = [p for p, n in Counter(c.path for c in doc.clauses).items() if n > 1]
        assert not dup, (doc.document.doc_id, dup)


@pytest.mark.parametrize("name", [p.name for p in DOCS])
def test_metadata_matches_sources(name):
    exp, meta = expected()[name], parsed(name).document.meta
    assert _plain(meta.title) == _plain(exp["title"])
    assert meta.date == exp["date"]
    assert meta.doc_number == exp["doc_number"]
    kind, _, where = exp["region"].partition(": ")
    if exp["region"] == "全国":
        assert (meta.level, meta.region) == ("全国", "全国")
    elif kind == "province":
        assert (meta.level, meta.region) == ("省", where)
    elif kind == "city":
        city, province = re.match(r"(\S+) \((\S+)\)", where).groups()
        assert (meta.level, meta.region, meta.parents) == ("市", city, (province,))
    elif kind == "school":
        assert meta.level == "学校" and meta.school == where
    if exp["issuer"] != "—" and not exp["issuer"].startswith("— "):
        assert meta.issuer and _plain(meta.issuer) in _plain(exp["issuer"])


ARTICLE_LINE = re.compile(r"^[ \u3000]*第[一二三四五六七八九十百零]+[条條]")


@pytest.mark.parametrize("name", [p.name for p in DOCS])
def test_cleaning_never_deletes_policy_text(name):
    """Every article line and every line ending a sentence in the loaded text survives cleaning intact."""
    raw, _ = read_text(REAL / "docs" / name)
    text = parsed(name).document.text
    for line in raw.splitlines():
        s = line.strip(" \t\u3000\u00a0\r#")
        if ARTICLE_LINE.match(s) or (len(s) > 30 and s.endswith(("。", "；"))):
            assert s in text, f"deleted: {s[:60]}"
    assert not any(d.startswith("injected spam") for d in parsed(name).document.dropped)


def test_spam_words_inside_a_law_are_law():
    text = ("第五条 有下列情形之一的，不得聘用：\n（一）因故意犯罪受过刑事处罚的；\n"
            "（二）有吸毒、赌博等违法犯罪记录的；\n")
    from ingest.clean import clean

    assert clean(text, t2s).text == text
    assert "365bet" not in clean(text + "365bet真人娱乐城 注册送彩金 www.x.com\n", t2s).text


def test_html_inline_markup_never_splits_numbers():
    from ingest.html import html_to_text

    page = ("<html><head><title>测试通知--某某网</title></head><body><div class='nav'><a href='/'>首页</a></div>"
            "<div><p>一、每年培训不少于<span>2</span><span>25</span>学时，经费由财政保障，各校应当按照规定执行并报告。"
            + "各地各校要认真落实。" * 20 + "</p><table><tr><td>项目</td><td>学时</td></tr>"
            "<tr><td>集中培训</td><td>72</td></tr></table></div></body></html>")
    text = html_to_text(page)
    assert "不少于225学时" in text
    assert "项目\t学时\n集中培训\t72" in text
    assert "首页" not in text


def test_a_table_row_keeps_its_figures_when_its_cells_hold_paragraphs():
    """Word-exported tables put each cell's text in <p>s: a row is still one line, so a quoted row keeps its
    figures; a layout table whose cell holds the whole page keeps that page's paragraphs."""
    from ingest.html import html_to_text

    body = "".join(f"<p>第{n}段：各校要认真落实教师培训制度，按时报告完成情况。</p>" for n in range(8))
    page = ("<html><body><table><tr><td>" + body + "<table>"
            "<tr><td><p>指标</p></td><td><p>2020年</p></td><td><p>2025目标</p></td></tr>"
            "<tr><td><p><span>研究生学历教师比例（</span><span>%</span>）</p></td><td><p>普通</p><p>高中</p></td>"
            "<td><p>12.81</p></td><td><p><span>2</span><span>1</span></p></td></tr>"
            "</table></td></tr></table></body></html>")
    text = html_to_text(page)
    assert "研究生学历教师比例（%）\t普通高中\t12.81\t21" in text.splitlines()
    assert "第0段：各校要认真落实教师培训制度，按时报告完成情况。" in text.splitlines()


def test_law_items_and_mixed_numbering():
    text = ("第一章 总则\n第一条 为了规范管理，制定本办法。\n第二章 考核\n第二条 学校有下列情形之一的，责令改正：\n"
            "（一）分设重点班的；\n（二）违规收费的。\n第三条 考核分为：\n一、平时考核\n（一）每月一次。\n"
            "二、年度考核\n第四条 本办法自发布之日起施行。\n附件1\n一、考核表\n二、说明\n")
    paths = [c.path for c in parse_clauses("d", text)]
    assert paths == ["第一章", "第一条", "第二章", "第二条", "第二条(一)", "第二条(二)", "第三条", "第三条一",
                     "第三条一(一)", "第三条二", "第四条", "附件1", "附件1·一", "附件1·二"]


def test_numbering_restarting_under_a_part_title_gets_its_own_part():
    text = "一、总体要求\n二、主要任务\n三、保障\n实施方案\n一、目标\n二、步骤\n"
    paths = [c.path for c in parse_clauses("d", text)]
    assert paths == ["一", "二", "三", "实施方案·一", "实施方案·二"]


def test_article_cross_reference_on_its_own_line_is_not_an_article():
    text = "第一条 适用范围。\n第二条 违反本法\n第五十条规定的，处罚款。\n第三条 本法自公布之日起施行。\n"
    paths = [c.path for c in parse_clauses("d", text)]
    assert paths == ["第一条", "第二条", "第三条"]
    assert RANKED["ART"][0] == 3


@pytest.mark.parametrize("name", [p.name for p in DOCS])
def test_every_clause_starts_at_its_marker(name):
    """A clause's span begins with its own number (一、 （二） 第三条 附件1 …): offsets never drift. A 款 after
    an article's items has no number: it starts right after the last item's line."""
    doc = parsed(name)
    for c in doc.clauses:
        assert doc.document.text[c.start:c.end] == c.text
        if c.path.endswith("款"):
            assert doc.document.text[:c.start].rstrip().endswith("。"), (c.path, c.text[:20])
        elif c.path != "前言":
            first = c.text.lstrip(" \t\u3000\u00a0")[:1]
            assert re.match(r"[第附一二三四五六七八九十（(\d①-⑳【.．]", first), (c.path, c.text[:20])


def test_a_paragraph_after_an_articles_items_is_its_next_kuan_not_part_of_the_last_item():
    doc = parsed("jiaoyufa_2021.md")
    by_path = {c.path: c for c in doc.clauses}
    assert by_path["第二十九条(九)"].text == "（九）法律、法规规定的其他权利。"
    kuan = by_path["第二十九条第二款"]
    assert kuan.text == "国家保护学校及其他教育机构的合法权益不受侵犯。"
    assert kuan.parent_id == by_path["第二十九条"].clause_id and kuan.text in by_path["第二十九条"].text
    # three 款 of one article, the first with the list
    law = {c.path: c for c in parsed("zhiye_jiaoyufa_2022.txt").clauses}
    assert law["第三十三条第二款"].text.startswith("设立中等职业学校") and law["第三十三条第三款"].text.startswith("专科层次")
    assert not any(p.endswith("款") for p in {c.path for c in parsed("shaoxing1z_12855_shisiwu_guihua.html").clauses})


def test_deletions_are_listed_with_their_reason(tmp_path):
    """`python -m ingest --deletions` shows what cleaning removed from a whole web page, reason first."""
    import shutil
    import subprocess
    import sys

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REAL / "docs" / "shaoxing1z_12855_shisiwu_guihua.html", src / "plan.html")
    env = {"ZHENGCE_DATA_DIR": str(tmp_path / "idx"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "ingest", str(src), "--deletions", "-q"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert "plan\t" in r.stdout and "table of contents: 一、现实基础和发展形势" in r.stdout


def test_articles_run_together_or_with_a_stray_space_are_still_articles():
    """Real law texts: one paragraph holding several articles, and 第一百二十八 条 with a space."""
    text = ("第一章 总则\n第一条 为了维护秩序，制定本规则。 第二条 凡有关人员必须遵守本规则。 第三条 国家实行统一管理。\n"
            "第四条 依照本规则第二条的规定执行。\n第五 条 本规则自公布之日起施行。\n")
    clauses = parse_clauses("d", text)
    assert [c.path for c in clauses] == ["第一章", "第一条", "第二条", "第三条", "第四条", "第五条"]
    assert clauses[2].text == "第二条 凡有关人员必须遵守本规则。"


def test_pdf_sentences_wrapped_across_a_page_footer_are_joined():
    """The PDF wraps lines at the page width and puts "— 3 —" between the halves of a sentence
    ("…及时书面告" / "— 3 —" / "知学校。"): an article's every line must end a sentence."""
    pdf = next(p.name for p in DOCS if p.suffix == ".pdf")
    articles = [c for c in parsed(pdf).clauses if c.path.startswith("第") and c.path.endswith("条")]
    broken = [(c.path, line[-12:]) for c in articles for line in c.own_text.split("\n")
              if line.strip() and not line.rstrip().endswith(tuple("。；：！？"))]
    assert len(articles) > 50 and broken == []
