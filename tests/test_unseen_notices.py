"""Shapes of local notices first met in documents nobody had tuned on: a school site's page (an empty
byline, 【打印正文】, a bare 附： list of attachments, a school body's signature), a date typed with an
ASCII 0 or a letter O among Chinese numerals, and a city's notice forwarded under a school's cover note.
Every notice here is made up in the shape of the real one."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest.clauses import parse_clauses
from ingest.clean import clean
from ingest.metadata import dates_in
from ingest.pipeline import process_file

SCHOOL_PAGE = """<html><head><title>第三届“教学质量奖”评选通知--校长室-湖州市第三中学</title></head><body>
<div class="nav"><a href="/">首页</a> <a href="/n">学校公告</a> <a href="/t">教学处</a></div>
<div class="main">
<h2>第三届“教学质量奖”评选通知</h2>
<div class="info">文章来源： 作者： 发布时间：2025年03月02日 点击数：   次</div>
<div class="body">
<p>第三届“教学质量奖”评选通知</p>
<p>全校教师：</p>
<p>为表彰在教学一线作出突出成绩的教师，经学校党委研究，决定开展第三届“教学质量奖”评选，现将有关事项通知如下：</p>
<p>1.“教学质量奖”由教学处对照2024学年教学成绩，形成初步推荐人选名单，报评审工作领导小组审议。</p>
<p>2.评选名额不超过8人，另设若干提名奖。</p>
<p>3.初步推荐人选名单请于4月10日之前上报校长室，经公示无异议后学校发文公布授奖名单。</p>
<p>4.学校将在教师节表彰大会上进行表彰。获奖教师的先进事迹将在校园网等进行宣传。</p>
<p>附：1.“教学质量奖”《个人申报表》</p>
<p>202503021200000001.doc</p>
<p>    2.《教学质量奖评选办法》</p>
<p>202503021200000002.pdf</p>
<p>                              湖州三中评审工作领导小组</p>
<p>                                  2025年3月1日</p>
<p>【打印正文】</p>
<p>上一篇：2024学年期末教工大会方案[ 02-26 ]</p>
<p>下一篇：2024学年先进推优名单公示[ 03-05 ]</p>
</div></div>
<div class="foot"><a href="/map">网站地图</a></div>
</body></html>
"""


def _ingest(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return process_file(path)


@pytest.fixture()
def school_page(tmp_path):
    return _ingest(tmp_path, "notice.html", SCHOOL_PAGE)


def test_an_empty_byline_is_not_the_issuer_the_signature_is(school_page):
    meta = school_page.document.meta
    assert meta.issuer == "湖州三中评审工作领导小组"
    assert "来源" not in (meta.issuer or "") and "作者" not in (meta.issuer or "")
    assert meta.date == "2025-03-01"  # the signature's, not the page's 发布时间


def test_a_schools_own_notice_is_school_level(school_page):
    meta = school_page.document.meta
    assert (meta.level, meta.region, meta.school) == ("学校", "湖州市", "湖州三中")


def test_a_bare_fu_list_opens_the_annex_and_page_buttons_are_chrome(school_page):
    doc, clauses = school_page.document, school_page.clauses
    by_path = {c.path: c for c in clauses}
    assert [c.path for c in clauses] == ["前言", "1", "2", "3", "4", "附件", "附件·2"]
    assert "附：" not in by_path["4"].text and by_path["4"].text.endswith("进行宣传。")
    assert by_path["附件"].text.startswith("附：1.“教学质量奖”《个人申报表》")
    for chrome in ("【打印正文】", "上一篇", "下一篇", "文章来源", "点击数"):
        assert chrome not in doc.text
    # every deletion is logged with its reason
    assert "site chrome: 【打印正文】" in doc.dropped
    assert any(d.startswith("site chrome: 上一篇：") for d in doc.dropped)
    assert any(d.startswith("page metadata: 文章来源") for d in doc.dropped)


def test_an_empty_byline_without_a_signature_leaves_the_issuer_empty(tmp_path):
    body = SCHOOL_PAGE.replace("湖州三中评审工作领导小组", "").replace("2025年3月1日", "")
    meta = _ingest(tmp_path, "notice.html", body).document.meta
    assert meta.issuer is None


def test_a_bylines_source_value_is_a_publisher_but_its_label_is_not(tmp_path):
    text = ("第三届“教学质量奖”评选通知\n来源：湖州市第三中学 发布时间：2025年03月02日\n全校教师：\n"
            "现将有关事项通知如下：\n一、评选名额不超过8人。\n二、请于4月10日之前上报。\n")
    meta = extract_text(text)
    assert meta.issuer == "湖州市第三中学" and meta.level == "学校"


def extract_text(text: str):
    from ingest.metadata import extract
    from ingest.clauses import PREAMBLE

    first = next((c.start for c in parse_clauses("t", text) if c.path != PREAMBLE), 0)
    return extract(text, first)


def test_a_notice_signed_by_a_school_is_the_schools_not_the_citys():
    text = ("关于开展青年教师基本功比赛的通知\n各教研组：\n为提升青年教师专业能力，现将有关事项通知如下：\n"
            "一、比赛对象为35周岁以下教师。\n二、比赛于5月举行。\n湖州市第三中学\n2025年4月1日\n")
    meta = extract_text(text)
    assert (meta.issuer, meta.level, meta.school, meta.region) == ("湖州市第三中学", "学校", "湖州市第三中学", "湖州市")


def test_a_city_bureaus_notice_about_schools_stays_city_level():
    text = ("关于开展青年教师基本功比赛的通知\n各县区教育局、市直学校：\n现将有关事项通知如下：\n"
            "一、比赛在湖州市第三中学举行。\n二、比赛于5月举行。\n湖州市教育局\n2025年4月1日\n")
    meta = extract_text(text)
    assert (meta.issuer, meta.level, meta.school) == ("湖州市教育局", "市", None)


@pytest.mark.parametrize("written", ["二0一一年十月十七日", "二O一一年十月十七日", "二○一一年十月十七日",
                                     "二〇一一年十月十七日", "二零一一年十月十七日", "二０一一年十月十七日"])
def test_a_chinese_numeral_year_reads_every_kind_of_zero(written):
    assert dates_in(written) == [(0, "2011-10-17")]


def test_a_notice_signed_with_an_ascii_zero_in_its_year_is_dated():
    text = ("湖州市教育局\n关于组织教学水平考核的通知\n各县区教育局：\n现将有关事项通知如下：\n"
            "一、考核定于10月22日进行。\n二、请及时通知有关对象。\n"
            "                    湖州市教育局人事处\n                    二0一一年十月十七日\n")
    assert extract_text(text).date == "2011-10-17"
    assert extract_text(text.replace("二0一一", "二O一一")).date == "2011-10-17"


def test_a_forwarded_notice_is_dated_by_its_issuers_signature_not_the_cover_note(tmp_path):
    text = ("湖州市教育局关于第九届市中小学教坛新秀推荐工作的通知\n各位老师：\n"
            "市教坛新秀评比现已开始，符合条件的老师请于5月20日前提交教科室。\n党政办、教科室\n2025年5月8日\n"
            "湖州市教育局关于第九届市中小学教坛新秀推荐工作的通知\n各区县教育局、市直学校：\n"
            "现将有关事项通知如下：\n一、推荐对象\n在职在岗教师。\n二、推荐名额\n拟确认50名。\n"
            "附件：1.推荐名额分配表\n2.申报表\n湖州市教育局\n2025年5月6日\n")
    parsed = _ingest(tmp_path, "forwarded.txt", text)
    assert parsed.document.meta.issuer == "湖州市教育局"
    assert parsed.document.meta.date == "2025-05-06"
    assert [c.path for c in parsed.clauses][-2:] == ["附件", "附件·2"]


def test_fu_needs_its_colon_and_a_short_line():
    text = ("关于做好评选工作的通知\n各校：\n一、按附则执行。\n二、附近学校可联合申报。\n"
            "附则说明见下。\n附：申报表\n")
    paths = [c.path for c in parse_clauses("t", text)]
    assert paths == ["前言", "一", "二", "附件"]


def test_print_words_inside_policy_prose_are_kept():
    raw = "请各校打印正文后签字盖章。\n上一篇文章所列要求继续有效。\n【打印正文】\n"
    out = clean(raw)
    assert out.text == "请各校打印正文后签字盖章。\n上一篇文章所列要求继续有效。\n"
    assert out.dropped == ("site chrome: 【打印正文】",)


def test_a_title_centred_over_two_lines_loses_the_spaces_that_centred_it():
    from ingest.metadata import find_title

    head = "某市教育局关于第三届市中小学教坛新秀、  市直中小学教坛新秀推荐工作的通知\n各学校："
    assert find_title(head) == "某市教育局关于第三届市中小学教坛新秀、市直中小学教坛新秀推荐工作的通知"
