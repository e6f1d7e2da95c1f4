"""Clause paths of the five real seeds, and the parser's behaviour on synthetic edge cases."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunks import chunk_clauses
from ingest.clauses import cn_to_int, int_to_cn, parse_clauses
from ingest.pipeline import process_file
from ingest.types import DocMeta

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SEEDS = {f.name[:3]: f for f in sorted(CORPUS.glob("*.txt"))}


@pytest.fixture(scope="module")
def parsed():
    return {k: process_file(f) for k, f in SEEDS.items()}


def paths(p) -> list[str]:
    return [c.path for c in p.clauses]


def by_path(p) -> dict:
    return {c.path: c for c in p.clauses}


EXPECTED_PATHS = {
    "000": ["一", "二", "三", "三(一)", *[f"三(一){i}" for i in range(1, 5)],
            "三(二)", *[f"三(二){i}" for i in range(1, 8)], "三(三)1", "三(七)", "四", "四(一)", "四(三)", "四(四)"],
    "001": ["一(一)", "一(二)", *[f"二({n})" for n in "一二三四五六"], "三(二)", "四(二)", "五(四)",
            "六", "六(一)", "六(二)", "七(四)"],
    "002": ["一", "二", "三", *[f"三({n})" for n in "一二三四五六七八"], "四", "四(一)", "四(二)", "四(三)"],
    "003": [*[f"{n}({m})" for n in "一二三四五六七" for m in "一二"], "一(三)",
            "保障措施·一", "保障措施·二", "保障措施·三", "保障措施·四"],
    "004": ["一", "一(一)", "一(二)", "二", "二(一)1", "二(一)2", "二(三)", "二(三)1", "二(三)1.1)", "二(三)1.3)",
            "二(三)2.4)", "二(三)3", "二(三)4", "二(六)", "三", "四", "四1", "四2"],
}
# Paths that would mean the parser invented or mis-nested a clause.
ABSENT_PATHS = {
    "000": ["三(一)5", "三(二)8", "四(五)", "五"],
    "001": ["二(七)", "六(三)", "八", "三(三)"],
    "002": ["三(九)", "四(四)", "五"],
    "003": ["一(四)", "七(三)", "八", "保障措施·五", "一(一)1"],
    "004": ["五", "四3", "二(三)5", "二(七)", "二(三)1.4)", "一(三)"],
}
EXACT_COUNTS = {"000": 39, "001": 30, "002": 16, "003": 27, "004": 28}


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_expected_clause_paths_exist(parsed, seed):
    got = paths(parsed[seed])
    missing = [p for p in EXPECTED_PATHS[seed] if p not in got]
    assert not missing, f"{seed}: missing {missing}; got {got}"
    wrong = [p for p in ABSENT_PATHS[seed] if p in got]
    assert not wrong, f"{seed}: unexpected {wrong}"


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_paths_are_unique_and_in_document_order(parsed, seed):
    p = parsed[seed]
    got = paths(p)
    assert len(got) == len(set(got)) == EXACT_COUNTS[seed]
    starts = [c.start for c in p.clauses]
    assert starts == sorted(starts)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_clause_text_is_a_verbatim_span_of_the_cleaned_document(parsed, seed):
    p = parsed[seed]
    text = p.document.text
    for c in p.clauses:
        assert text[c.start : c.end] == c.text, c.path
        assert c.text.startswith(c.own_text), c.path
        assert c.own_text.strip(), c.path
    for ch in p.chunks:
        assert text[ch.start : ch.end] == ch.text, ch.path
        assert ch.path in by_path(p)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_parent_chains_are_consistent(parsed, seed):
    p = parsed[seed]
    ids = {c.clause_id: c for c in p.clauses}
    paths_ = by_path(p)
    for c in p.clauses:
        if c.parent_id is None:
            assert c.parents == () and c.level == 1, c.path
            continue
        parent = ids[c.parent_id]
        assert c.parents[-1] == parent.path
        assert c.parents == parent.parents + (parent.path,)
        assert c.level == parent.level + 1
        assert parent.start <= c.start and c.end <= parent.end, c.path  # nested span
        assert all(q in paths_ for q in c.parents)


def test_qingyuan_headings_and_parents(parsed):
    c = by_path(parsed["000"])
    assert c["三(二)4"].heading.startswith("開展教育科研探索")
    assert c["三(二)4"].parents == ("三", "三(二)")
    assert c["三(二)4"].parent_id == c["三(二)"].clause_id
    assert c["三(二)"].parent_id == c["三"].clause_id
    assert c["三"].heading == "具體工作措施"
    assert c["三(二)"].heading == "搭建教師專業成長的平臺,提升教師教學能力"
    assert c["四(三)"].heading == "建立經費保障機制"
    assert "不少于學校年度公用經費預算總額的5%" in c["四(三)"].own_text
    assert "每5年必須主持(或參與)1項縣級或以上課題研究" in c["三(二)4"].text
    # The cited central documents in the preamble are not clauses.
    assert "(2019年6月23日)" in c["前言"].text and "(國辦發〔2019〕29號)" in c["前言"].text
    assert not any("2019" in path or "29" in path for path in c)
    # 6.設立(名)教師工作室: the bracketed (名) is text, not a clause marker.
    assert c["三(二)6"].heading.startswith("設立(名)教師工作室")
    assert not any("名" in path for path in c)


def test_suizhou_headings(parsed):
    c = by_path(parsed["001"])
    assert c["六(二)"].heading == "落实中小学教师继续教育资金保障制度"
    assert c["六(二)"].parents == ("六",)
    assert "不低于教师工资总额的1.5%" in c["六(二)"].text
    assert c["二(六)"].heading == "规范中小学课后服务"
    assert c["七(四)"].heading == "营造良好环境"


def test_chengdu_headings(parsed):
    c = by_path(parsed["002"])
    assert c["三(八)"].heading == "建立协同推进机制"
    assert c["四(三)"].heading == "扶持奖励"
    assert c["前言"].text.startswith("为贯彻落实")


def test_karamay_nested_and_lost_numerals(parsed):
    c = by_path(parsed["004"])
    assert c["二(三)3"].heading == "稳步推进统一编班,实施民汉教育优质同步发展"
    assert c["二(三)1.1)"].parents == ("二", "二(三)", "二(三)1")
    assert c["二(三)1.1)"].text.startswith("1)深入贯彻落实")
    # ". 实施步骤" / ". 保障措施": the numerals fell off the page; they are 三 and 四.
    assert c["三"].heading == "实施步骤"
    assert c["四"].heading == "保障措施"
    assert c["四1"].heading == "健全机制,加强领导"
    assert c["四1"].parents == ("四",)
    assert c["四2"].heading.startswith("强化督导,扎实推进")
    # The spam line sat inside 四1; it is gone from the clause.
    assert "365bet" not in c["四1"].text and "独山子区教育局局长" in c["四1"].text
    # Date ranges such as (20156--9月) are not numbered clauses.
    assert "第一阶段:制定方案" in c["三"].text


def test_generic_inline_document_and_part_labels(parsed):
    p = parsed["003"]
    c = by_path(p)
    assert c["一"].heading.startswith("課程教學優化工程")
    assert c["七(二)"].heading.startswith("推進特殊教育融合發展")
    assert c["保障措施·一"].heading.startswith("組織保障")
    assert c["保障措施·四"].heading.startswith("宣傳引導")
    # The label fragment "保障措施:四維支撐…" belongs to neither 七(二) nor 保障措施·一.
    assert "保障措施" not in c["七(二)"].text
    assert c["保障措施·一"].text.startswith("一、組織保障")
    assert c["保障措施·一"].parents == () and c["保障措施·一"].parent_id is None
    assert c["保障措施·二"].start == c["保障措施·一"].end


# ---- synthetic cases --------------------------------------------------------

def test_cross_references_and_dates_are_not_clauses():
    text = (
        "根据国务院办公厅意见\n"
        "(2019年6月23日)\n"
        "(國辦發〔2019〕29號)\n"
        "2019年6月23日印发\n"
        "2.5%的经费用于培训\n"
        "一、总体要求\n"
        "坚持立德树人。\n"
    )
    cl = parse_clauses("x", text)
    assert [c.path for c in cl] == ["前言", "一"]
    assert "(國辦發〔2019〕29號)" in cl[0].text


def test_text_without_numbering_yields_one_clause_per_paragraph():
    text = "为提高教育质量，制定本办法。\n\n各校应当加强教研。\n  经费由市财政保障。\n"
    cl = parse_clauses("x", text)
    assert [c.path for c in cl] == ["第1段", "第2段", "第3段"]
    assert [c.text for c in cl] == ["为提高教育质量，制定本办法。", "各校应当加强教研。", "经费由市财政保障。"]
    for c in cl:
        assert text[c.start : c.end] == c.text
        assert c.parent_id is None
    assert cl[0].heading == "为提高教育质量，制定本办法"


@pytest.mark.parametrize("indent", ["\u00a0\u00a0", "\u3000\u3000", " \u00a0\u3000", "\t"])
def test_lines_indented_with_nbsp_or_fullwidth_spaces_still_parse(indent):
    text = (
        f"{indent}一、总体要求\n"
        f"{indent}（一）指导思想\n"
        f"{indent}1.坚持立德树人。\n"
        f"{indent}2.坚持改革创新。\n"
        f"{indent}（二）基本原则\n"
        f"{indent}二、保障措施\n"
    )
    cl = parse_clauses("x", text)
    assert [c.path for c in cl] == ["一", "一(一)", "一(一)1", "一(一)2", "一(二)", "二"]
    c = {x.path: x for x in cl}
    assert c["一(一)1"].heading == "坚持立德树人"
    assert c["一(一)1"].parents == ("一", "一(一)")
    for x in cl:
        assert text[x.start : x.end] == x.text
        assert not x.text.startswith(indent)  # a clause starts at its marker


def test_full_width_markers_and_sibling_closing():
    text = "一、目标\n（一）甲\n（1）子项\n（2）子项\n（二）乙\n1．丙\n二、措施\n"
    cl = parse_clauses("x", text)
    assert [c.path for c in cl] == ["一", "一(一)", "一(一)(1)", "一(一)(2)", "一(二)", "一(二)1", "二"]


def test_clause_ids_are_stable_and_change_with_text(parsed):
    text = parsed["000"].document.text
    a = {c.path: c.clause_id for c in parse_clauses("000_x", text)}
    b = {c.path: c.clause_id for c in parse_clauses("000_x", text)}
    assert a == b
    assert len(set(a.values())) == len(a)
    edited = text.replace("每5年必須參與1項校級", "每3年必須參與1項校級")
    assert edited != text
    c = {c.path: c.clause_id for c in parse_clauses("000_x", edited)}
    assert c.keys() == a.keys()
    changed = {p for p in a if a[p] != c[p]}
    # The edited clause and its ancestors (whose text includes it) change; nothing else does.
    assert changed == {"三(二)4", "三(二)", "三"}
    # The id also depends on the document.
    assert {c.path: c.clause_id for c in parse_clauses("other", text)}["一"] != a["一"]


def test_clause_ids_are_stable_across_process_file(parsed):
    again = process_file(SEEDS["004"])
    assert [c.clause_id for c in again.clauses] == [c.clause_id for c in parsed["004"].clauses]
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in parsed["004"].chunks]


@pytest.mark.parametrize("n", range(1, 100))
def test_chinese_numerals_round_trip(n):
    assert cn_to_int(int_to_cn(n)) == n


def test_malformed_chinese_numbers_are_not_markers():
    """'三五、' or '一二、三年级' is prose, not clause 35 or clause 1 (and must not crash)."""
    text = "一、总体要求\n三五、年级学生\n一二、三年级学生\n（三五）项目\n十十、项目\n二、措施\n"
    cl = parse_clauses("x", text)
    assert [c.path for c in cl] == ["一", "二"]
    assert "三五、年级学生" in cl[0].text


MARKERISH = st.lists(
    st.sampled_from(list("一二三四五六七八九十（）()、.．1234)5 \u00a0\u3000\n。甲乙") + ["\n一、", "\n（二）", "\n1.", "\n1)"]),
    max_size=80,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKERISH)
def test_parser_never_crashes_and_spans_are_verbatim(text):
    cl = parse_clauses("x", text)
    for c in cl:
        assert text[c.start : c.end] == c.text
        assert c.own_text and c.text.startswith(c.own_text)
    for ch in chunk_clauses("x", DocMeta(title="t"), cl):
        assert text[ch.start : ch.end] == ch.text


def test_paragraphs_after_a_closed_list_of_circled_items_are_the_articles_next_paragraphs():
    """①…；②…；③…。 is a finished list: what follows is the article's next 款, not more of ③ (a school's
    rule "确定为优秀的教职工，按照1.05的系数发放" was glued to the last item). A heading line is no 款."""
    from ingest.clauses import parse_clauses

    text = ("第一章 总则\n第一条 为规范考核，制定本办法。\n第二条 年度考核奖\n有下列情况者执行以下办法：\n"
            "①调动人员按实际工作月份发放；\n②试用期内不预发；\n③不合格者不发，已经预发的一个月内清退。\n"
            "确定为优秀的教职工，按照1.05的系数发放。\n考核奖由学校制定实施细则。\n"
            "第三条 计划如下：\n①完成培训；\n②参加教研，\n每学期不少于两次。\n第四条 本办法自发布之日起施行。\n")
    clauses = {c.path: c for c in parse_clauses("d", text)}
    assert "1.05" in clauses["第二条第二款"].own_text and "1.05" not in clauses["第二条③"].own_text
    assert "实施细则" in clauses["第二条第三款"].own_text
    assert "每学期不少于两次" in clauses["第三条②"].text  # a list whose last item runs on is left as it was
